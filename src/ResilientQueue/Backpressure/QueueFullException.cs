namespace ResilientQueue.Backpressure;

/// <summary>An enqueue or requeue was rejected because the queue is at capacity; nothing was added.</summary>
public sealed class QueueFullException : ResilientQueueException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The queue.</param>
    /// <param name="capacity">The queue's capacity.</param>
    /// <param name="depth">The depth (ready + delayed + active) when the request was rejected.</param>
    /// <param name="requested">How many jobs the request would have added.</param>
    public QueueFullException(string queueName, long capacity, long depth, int requested)
        : base($"Queue '{queueName}' is full: {depth} of {capacity} jobs are ready, delayed or active, so {requested} more cannot be added. Nothing was enqueued.")
    {
        QueueName = queueName;
        Capacity = capacity;
        Depth = depth;
        Requested = requested;
    }

    /// <summary>The queue that is full.</summary>
    public string QueueName { get; }

    /// <summary>The queue's capacity.</summary>
    public long Capacity { get; }

    /// <summary>The depth (ready + delayed + active) when the request was rejected.</summary>
    public long Depth { get; }

    /// <summary>How many jobs the rejected request would have added.</summary>
    public int Requested { get; }
}
