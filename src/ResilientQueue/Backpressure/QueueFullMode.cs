namespace ResilientQueue.Backpressure;

/// <summary>What an enqueue does when the queue is at <see cref="JobQueueOptions.Capacity"/>.</summary>
public enum QueueFullMode
{
    /// <summary>Throw <see cref="QueueFullException"/> at once; nothing is added.</summary>
    Reject = 0,

    /// <summary>Wait for room up to the wait timeout, then throw <see cref="QueueFullTimeoutException"/>; nothing is added unless room appeared.</summary>
    Wait = 1,
}
