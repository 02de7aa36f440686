using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ResilientQueue.Errors;
using ResilientQueue.Processing;
using ResilientQueue.Reaping;
using ResilientQueue.Recovery;
using ResilientQueue.Serialization;
using ResilientQueue.Telemetry;

namespace ResilientQueue.DependencyInjection;

/// <summary>Configures ResilientQueue in a service collection: the backend, per-queue options, error rules and handlers.</summary>
public sealed partial class ResilientQueueBuilder
{
    private readonly HashSet<string> _handledQueues;

    internal ResilientQueueBuilder(IServiceCollection services, HashSet<string> handledQueues)
    {
        Services = services;
        _handledQueues = handledQueues;
    }

    /// <summary>The service collection, for backend packages that add their own services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Uses the embedded in-memory backend (the default when no other backend is chosen).</summary>
    /// <returns>This builder.</returns>
    public ResilientQueueBuilder UseInMemory() => UseBackend<InMemoryJobQueueFactory>();

    /// <summary>Uses a backend: replaces the registered <see cref="IJobQueueFactory"/>.</summary>
    /// <typeparam name="TFactory">The backend's factory.</typeparam>
    /// <returns>This builder.</returns>
    public ResilientQueueBuilder UseBackend<TFactory>()
        where TFactory : class, IJobQueueFactory
    {
        Services.Replace(ServiceDescriptor.Singleton<IJobQueueFactory, TFactory>());
        return this;
    }

    /// <summary>Configures the options of one queue (capacity, attempts, retention, dead-letter bounds); validated when the queue is first used.</summary>
    /// <param name="queueName">The queue.</param>
    /// <param name="configure">Changes the options.</param>
    /// <returns>This builder.</returns>
    public ResilientQueueBuilder ConfigureQueue(string queueName, Action<JobQueueOptions> configure)
    {
        QueueNames.ThrowIfInvalid(queueName);
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(queueName, configure);
        return this;
    }

    /// <summary>Adds error classification rules, applied before the built-in ones (see <see cref="DefaultErrorClassifier"/>).</summary>
    /// <param name="configure">Adds rules.</param>
    /// <returns>This builder.</returns>
    public ResilientQueueBuilder ConfigureErrors(Action<ErrorClassifierOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(configure);
        return this;
    }

    /// <summary>
    /// Runs the stale-job reaper in this app: it takes back expired leases of every queue with a handler here (and of
    /// <see cref="StaleJobReaperOptions.Queues"/>), one process per queue per interval. Safe to call more than once.
    /// </summary>
    /// <param name="configure">Changes the reaper's options; validated at start-up.</param>
    /// <returns>This builder.</returns>
    public ResilientQueueBuilder AddStaleJobReaper(Action<StaleJobReaperOptions>? configure = null)
    {
        OptionsBuilder<StaleJobReaperOptions> options = Services.AddOptions<StaleJobReaperOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (Services.Any(d => d.ServiceType == typeof(ReaperMarker)))
        {
            return this;
        }

        Services.AddSingleton<ReaperMarker>();
        options.ValidateOnStart();
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StaleJobReaperOptions>, StaleJobReaperOptionsValidator>());
        HashSet<string> handled = _handledQueues;
        Services.AddSingleton<IHostedService>(sp =>
        {
            StaleJobReaperOptions o = sp.GetRequiredService<IOptions<StaleJobReaperOptions>>().Value;
            IJobQueueProvider provider = sp.GetRequiredService<IJobQueueProvider>();
            IJobQueue[] queues = handled.Concat(o.Queues).Distinct(StringComparer.Ordinal).Select(provider.GetQueue).ToArray();
            return new StaleJobReaper(queues, o, sp.GetRequiredService<TimeProvider>(), Loggers.Of(sp).CreateLogger("ResilientQueue.Reaper"));
        });
        return this;
    }

    /// <summary>
    /// Samples every queue with a handler in this app (and <see cref="QueueMetricsOptions.Queues"/>) in the background,
    /// every <see cref="QueueMetricsOptions.Interval"/>, for the observable instruments: depth by state, stale leases,
    /// the oldest ready and active ages, the processing-age histogram and the backpressure level (docs/telemetry.md).
    /// A process that runs no worker observes queues by name this way. Scrapes read the last sample and never wait for
    /// the backend. Safe to call more than once.
    /// </summary>
    /// <param name="configure">Changes the sampler's options; validated at start-up.</param>
    /// <returns>This builder.</returns>
    public ResilientQueueBuilder AddQueueMetrics(Action<QueueMetricsOptions>? configure = null)
    {
        OptionsBuilder<QueueMetricsOptions> options = Services.AddOptions<QueueMetricsOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (Services.Any(d => d.ServiceType == typeof(MetricsMarker)))
        {
            return this;
        }

        Services.AddSingleton<MetricsMarker>();
        options.ValidateOnStart();
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueueMetricsOptions>, QueueMetricsOptionsValidator>());
        Services.AddSingleton<IHostedService>(sp =>
        {
            QueueMetricsOptions o = sp.GetRequiredService<IOptions<QueueMetricsOptions>>().Value;
            IJobQueueProvider provider = sp.GetRequiredService<IJobQueueProvider>();
            IJobQueue[] queues = provider.ConfiguredQueues.Select(provider.GetQueue).ToArray();
            return new QueueMetricsSampler(queues, o, sp.GetRequiredService<TimeProvider>(), Loggers.Of(sp).CreateLogger("ResilientQueue.Metrics"));
        });
        return this;
    }

    /// <summary>
    /// Runs <typeparamref name="THandler"/> on the jobs of <paramref name="queueName"/> in a hosted worker. The handler is
    /// resolved from a new scope for every job (registered as transient unless already registered; registered as a
    /// singleton, it is resolved once and runs without a scope). One handler per queue.
    /// </summary>
    /// <typeparam name="THandler">The handler.</typeparam>
    /// <typeparam name="TPayload">The payload type.</typeparam>
    /// <param name="queueName">The queue.</param>
    /// <param name="configure">Changes the worker's options; validated at start-up.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">The queue already has a handler.</exception>
    public ResilientQueueBuilder AddHandler<THandler, TPayload>(string queueName, Action<JobWorkerOptions>? configure = null)
        where THandler : class, IJobHandler<TPayload>
    {
        QueueNames.ThrowIfInvalid(queueName);
        if (!_handledQueues.Add(queueName))
        {
            throw new InvalidOperationException($"Queue '{queueName}' already has a handler; a queue is consumed by one handler type.");
        }

        Services.AddOptions<JobWorkerOptions>(queueName)
            .Configure(o =>
            {
                o.QueueName = queueName;
                configure?.Invoke(o);
                o.QueueName = queueName;
            })
            .ValidateOnStart();
        // Transient, not scoped: one job's scope resolves its handler once either way, and a transient that is not
        // disposable costs the scope no cache of resolved services. A handler the application registered itself keeps
        // that registration; registered as a singleton it runs without a scope per job.
        Services.TryAddTransient<THandler>();
        Services.AddKeyedSingleton(queueName, (sp, _) =>
        {
            JobWorkerOptions options = sp.GetRequiredService<IOptionsMonitor<JobWorkerOptions>>().Get(queueName);
            return new JobWorkerState(queueName, sp.GetRequiredService<TimeProvider>(), options.EffectiveStallThreshold);
        });
        Services.AddSingleton<IHostedService>(sp => new JobWorker<THandler, TPayload>(
            sp.GetRequiredService<IJobQueueProvider>().GetQueue(queueName),
            sp.GetRequiredService<IServiceScopeFactory>(),
            IsSingleton(Services, HandlerTypes.Registered(typeof(THandler))) ? sp : null, // a result handler's adapter: the user's handler
            sp.GetRequiredService<IErrorClassifier>(),
            sp.GetService<IRecoveryStrategy>(),
            sp.GetRequiredService<IOptionsMonitor<JobWorkerOptions>>().Get(queueName),
            sp.GetRequiredKeyedService<JobWorkerState>(queueName),
            sp.GetRequiredService<TimeProvider>(),
            Loggers.Of(sp).CreateLogger($"ResilientQueue.Worker.{queueName}")));
        Services.Configure<HealthCheckServiceOptions>(o => o.Registrations.Add(new HealthCheckRegistration(
            $"resilientqueue:{queueName}",
            sp => new JobWorkerHealthCheck(sp.GetRequiredKeyedService<JobWorkerState>(queueName)),
            failureStatus: null,
            tags: ["resilientqueue"])));
        return this;
    }

    // The registration that wins is the last one (read when the workers are created: every registration is made then).
    private static bool IsSingleton(IServiceCollection services, Type handler)
    {
        for (int i = services.Count - 1; i >= 0; i--)
        {
            if (services[i].ServiceType == handler && !services[i].IsKeyedService)
            {
                return services[i].Lifetime == ServiceLifetime.Singleton;
            }
        }

        return false;
    }

    /// <summary>Marks that the reaper's hosted service is registered.</summary>
    private sealed class ReaperMarker;

    /// <summary>Marks that the metrics sampler's hosted service is registered.</summary>
    private sealed class MetricsMarker;
}
