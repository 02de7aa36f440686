namespace ResilientQueue;

/// <summary>A payload is larger than <see cref="JobQueueOptions.MaxPayloadBytes"/>; nothing was enqueued.</summary>
public sealed class PayloadTooLargeException : ResilientQueueException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The queue.</param>
    /// <param name="size">The payload's size in bytes.</param>
    /// <param name="limit">The configured limit in bytes.</param>
    public PayloadTooLargeException(string queueName, int size, int limit)
        : base($"The payload is {size} bytes, over the {limit}-byte limit of queue '{queueName}' (JobQueueOptions.MaxPayloadBytes). Nothing was enqueued.")
    {
        QueueName = queueName;
        Size = size;
        Limit = limit;
    }

    /// <summary>The queue.</summary>
    public string QueueName { get; }

    /// <summary>The payload's size in bytes.</summary>
    public int Size { get; }

    /// <summary>The configured limit in bytes.</summary>
    public int Limit { get; }
}
