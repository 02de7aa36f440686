using ResilientQueue.Backpressure;

namespace ResilientQueue;

/// <summary>Per-job options for <see cref="IJobProducer.EnqueueAsync"/>. Every property is optional.</summary>
public sealed class EnqueueOptions
{
    /// <summary>How long to wait before the job may be fetched. Default: none (ready at once). Must not be negative.</summary>
    public TimeSpan? Delay { get; set; }

    /// <summary>Priority from <see cref="JobPriority.Lowest"/> (0, the default) to <see cref="JobPriority.Highest"/> (9); higher is fetched first.</summary>
    public int Priority { get; set; } = JobPriority.Lowest;

    /// <summary>How many times the job may be fetched before it is dead-lettered. Default: <see cref="JobQueueOptions.DefaultMaxAttempts"/>. At least 1.</summary>
    public int? MaxAttempts { get; set; }

    /// <summary>
    /// A producer-chosen key that makes the enqueue idempotent: while the key is remembered (for
    /// <see cref="JobQueueOptions.IdempotencyWindow"/> after the enqueue that set it) a second enqueue with the same
    /// key adds nothing and returns the first job's id with <see cref="EnqueueResult.Duplicate"/> set. Default: none.
    /// </summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>An opaque id that ties the job to a business operation, kept on the job. Default: none.</summary>
    public string? CorrelationId { get; set; }

    /// <summary>The W3C <c>traceparent</c> of the producer, kept on the job so the consumer span can use it as parent. Default: none.</summary>
    public string? TraceParent { get; set; }

    /// <summary>
    /// What this enqueue does when the queue is at capacity: reject at once, or wait for room. Default:
    /// <see langword="null"/>, the queue's <see cref="JobQueueOptions.FullMode"/>. Ignored by
    /// <see cref="IJobProducer.EnqueueManyAsync"/>, which follows the queue's setting.
    /// </summary>
    public QueueFullMode? FullMode { get; set; }

    /// <summary>
    /// How long this enqueue waits for room in <see cref="QueueFullMode.Wait"/>. Default: <see langword="null"/>, the
    /// queue's <see cref="JobQueueOptions.FullWaitTimeout"/>. From 1 ms to 1 hour. Ignored by
    /// <see cref="IJobProducer.EnqueueManyAsync"/>.
    /// </summary>
    public TimeSpan? FullWaitTimeout { get; set; }

    internal EnqueueOptions Copy() => (EnqueueOptions)MemberwiseClone();
}
