namespace ResilientQueue.DependencyInjection;

/// <summary>Creates the queues of one backend. A backend package registers one (<c>UseInMemory</c>, <c>UseRedisLists</c>).</summary>
public interface IJobQueueFactory
{
    /// <summary>Creates a queue.</summary>
    /// <param name="queueName">The queue's name (already checked).</param>
    /// <param name="options">The queue's options (already validated).</param>
    /// <returns>The queue; if it is <see cref="IAsyncDisposable"/>, the provider disposes it with the container.</returns>
    IJobQueue Create(string queueName, JobQueueOptions options);
}

/// <summary>Gives the queues of the configured backend by name; inject it wherever jobs are enqueued.</summary>
public interface IJobQueueProvider
{
    /// <summary>Gets a queue, created once per name with the options configured for it (<c>ConfigureQueue</c>).</summary>
    /// <param name="queueName">The queue's name.</param>
    /// <returns>The queue. Its enqueues are counted and traced, and carry the current trace context to the consumer.</returns>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The queue's options are invalid.</exception>
    IJobQueue GetQueue(string queueName);

    /// <summary>
    /// The queues this app names in its configuration: those with a handler (<c>AddHandler</c>) and those observed by
    /// the metrics sampler (<see cref="Telemetry.QueueMetricsOptions.Queues"/>), in ordinal order without repeats.
    /// Dashboards list these. The default implementation knows none.
    /// </summary>
    IReadOnlyList<string> ConfiguredQueues => [];
}
