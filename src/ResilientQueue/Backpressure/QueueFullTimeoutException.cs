namespace ResilientQueue.Backpressure;

/// <summary>
/// An enqueue that was asked to wait for room (<see cref="QueueFullMode.Wait"/>), or a producer waiting for the queue to
/// drop below its high watermark, gave up after its timeout; nothing was enqueued. The default error classifier treats it
/// as <see cref="Errors.ErrorCategory.Transient"/>, like a full queue.
/// </summary>
public sealed class QueueFullTimeoutException : ResilientQueueException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The queue.</param>
    /// <param name="waited">How long the caller waited.</param>
    /// <param name="capacity">The queue's capacity.</param>
    /// <param name="depth">The depth (ready + delayed + active) when the caller gave up.</param>
    /// <param name="what">What was waited for, e.g. <c>room for 1 job</c>.</param>
    /// <param name="innerException">The last <see cref="QueueFullException"/>, if any.</param>
    public QueueFullTimeoutException(string queueName, TimeSpan waited, long capacity, long depth, string what, Exception? innerException = null)
        : base($"Queue '{queueName}' did not have {what} within the wait timeout of {waited.TotalSeconds:0.###} s: {depth} of {capacity} jobs are ready, delayed or active. Nothing was enqueued.", innerException)
    {
        QueueName = queueName;
        Waited = waited;
        Capacity = capacity;
        Depth = depth;
    }

    /// <summary>The queue that stayed full.</summary>
    public string QueueName { get; }

    /// <summary>How long the caller waited.</summary>
    public TimeSpan Waited { get; }

    /// <summary>The queue's capacity.</summary>
    public long Capacity { get; }

    /// <summary>The depth (ready + delayed + active) when the caller gave up.</summary>
    public long Depth { get; }
}
