using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResilientQueue.AspNetCore.Dashboard;
using ResilientQueue.DependencyInjection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the services of the ResilientQueue web dashboard.</summary>
public static class DashboardServiceCollectionExtensions
{
    /// <summary>
    /// Adds the dashboard's services: its options (validated at start-up), the background sampler of its charts, and
    /// ASP.NET Core antiforgery. Also calls <c>AddResilientQueue()</c> (safe: it adds only what is missing). Map it with
    /// <c>app.MapResilientQueueDashboard("/queues")</c>. Safe to call more than once.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Changes the dashboard's options.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddResilientQueueDashboard(this IServiceCollection services, Action<DashboardOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<DashboardOptions> options = services.AddOptions<DashboardOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(DashboardState)))
        {
            return services;
        }

        services.AddResilientQueue();
        services.AddAntiforgery();
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DashboardOptions>, DashboardOptionsValidator>());
        services.AddSingleton<DashboardOptionsCopy>();
        services.AddSingleton(sp => new DashboardQueues(sp.GetRequiredService<IJobQueueProvider>(), Options(sp)));
        services.AddSingleton(sp => new DashboardHistory(sp.GetRequiredService<DashboardQueues>(), Options(sp), sp.GetRequiredService<TimeProvider>(), Loggers(sp).CreateLogger("ResilientQueue.Dashboard")));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<DashboardHistory>());
        services.AddSingleton(sp => new DashboardState(
            Options(sp),
            sp.GetRequiredService<DashboardQueues>(),
            sp.GetRequiredService<DashboardHistory>(),
            sp.GetRequiredService<TimeProvider>(),
            Loggers(sp).CreateLogger("ResilientQueue.Dashboard")));
        return services;
    }

    private static DashboardOptions Options(IServiceProvider sp) => sp.GetRequiredService<DashboardOptionsCopy>().Value;

    private static ILoggerFactory Loggers(IServiceProvider sp) => sp.GetService<ILoggerFactory>() ?? Logging.Abstractions.NullLoggerFactory.Instance;
}
