using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using ResilientQueue.Telemetry;

namespace DashboardSample;

/// <summary>
/// A web app that serves the dashboard at <c>/queues</c> and Prometheus metrics at <c>/metrics</c>, with two queues
/// worked here (<c>emails</c>, <c>orders</c>), one only observed (<c>reports</c>: no worker in this process), and a
/// producer that keeps them busy. Options: <c>--redis host:port</c> (default: in-memory), <c>--read-only</c> (no
/// actions), <c>--no-traffic</c> (no producer and no workers: the pages show only what you enqueue), <c>--urls</c>
/// (default <c>http://127.0.0.1:5080</c>).
/// </summary>
public static class SampleHost
{
    /// <summary>The queues the sample lists.</summary>
    public static readonly string[] Queues = ["emails", "orders", "reports"];

    /// <summary>Configures the services; a test can add its own before <see cref="Build"/>.</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args)
    {
        // The two switches take no value, so they are taken out before the configuration reads `--key value` pairs.
        bool traffic = !args.Contains("--no-traffic");
        bool readOnly = args.Contains("--read-only");
        WebApplicationBuilder builder = WebApplication.CreateBuilder([.. args.Where(a => a is not ("--no-traffic" or "--read-only"))]);
        IConfiguration config = builder.Configuration;
        if (string.IsNullOrEmpty(config["urls"]) && string.IsNullOrEmpty(config["ASPNETCORE_URLS"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:5080"); // loopback only
        }

        var queues = builder.Services.AddResilientQueue();
        if (config["redis"] is { Length: > 0 } redis)
        {
            queues.UseRedisLists(redis);
        }

        queues.ConfigureQueue("orders", o => o.DefaultMaxAttempts = 3)
            .AddQueueMetrics(o =>
            {
                o.Interval = TimeSpan.FromSeconds(5);
                foreach (string queue in Queues)
                {
                    o.Queues.Add(queue); // the handled ones are observed anyway; "reports" has no worker here
                }
            });
        if (traffic)
        {
            queues.AddHandler<EmailHandler, Email>("emails", w => w.Concurrency = 4)
                .AddHandler<OrderHandler, Order>("orders", w => w.Concurrency = 2)
                .AddStaleJobReaper();
            builder.Services.AddHostedService<Producer>();
        }

        builder.Services.AddResilientQueueDashboard(o =>
        {
            o.AllowActions = !readOnly;
            o.SampleInterval = TimeSpan.FromSeconds(5);
            foreach (string queue in Queues)
            {
                o.Queues.Add(queue);
            }
        });
        builder.Services.AddHealthChecks();
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(ResilientQueueTelemetry.Name).AddPrometheusExporter());
        return builder;
    }

    /// <summary>Builds the app and maps the dashboard and the metrics endpoint.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        WebApplication app = builder.Build();
        app.MapGet("/", () => Microsoft.AspNetCore.Http.Results.Redirect("/queues"));
        app.MapResilientQueueDashboard("/queues");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapHealthChecks("/health");
        return app;
    }
}
