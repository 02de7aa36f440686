using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ResilientQueue;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Errors;
using ResilientQueue.Processing;
using ResilientQueue.Serialization;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds ResilientQueue to a service collection.</summary>
public static class ResilientQueueServiceCollectionExtensions
{
    /// <summary>
    /// Adds ResilientQueue: an <see cref="IJobQueueProvider"/> (inject it to enqueue), the in-memory backend unless another
    /// is chosen, the default error classifier, the System.Text.Json serializer and <see cref="TimeProvider.System"/>, each
    /// only if not registered already. Safe to call more than once.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Configures the builder; you can also use the returned builder.</param>
    /// <returns>The builder, to choose a backend and add handlers.</returns>
    public static ResilientQueueBuilder AddResilientQueue(this IServiceCollection services, Action<ResilientQueueBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        HandledQueues registry = services.Where(d => d.ServiceType == typeof(HandledQueues)).Select(d => d.ImplementationInstance).OfType<HandledQueues>().FirstOrDefault()
            ?? AddRegistry(services);

        services.AddOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IJobSerializer>(SystemTextJsonJobSerializer.Default);
        services.TryAddSingleton<IErrorClassifier>(sp => new DefaultErrorClassifier(sp.GetRequiredService<IOptions<ErrorClassifierOptions>>().Value));
        services.TryAddSingleton<IJobQueueFactory, InMemoryJobQueueFactory>();
        services.TryAddSingleton<IJobQueueProvider, JobQueueProvider>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobQueueOptions>, JobQueueOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobWorkerOptions>, JobWorkerOptionsValidator>());

        var builder = new ResilientQueueBuilder(services, registry.Queues);
        configure?.Invoke(builder);
        return builder;
    }

    private static HandledQueues AddRegistry(IServiceCollection services)
    {
        var registry = new HandledQueues();
        services.AddSingleton(registry);
        return registry;
    }

}
