namespace ResilientQueue;

/// <summary>No job with the given id exists in the queue (in any state).</summary>
public sealed class JobNotFoundException : ResilientQueueException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The queue that was searched.</param>
    /// <param name="jobId">The id that was not found.</param>
    public JobNotFoundException(string queueName, string jobId)
        : base($"Queue '{queueName}' has no job '{jobId}' in any state.")
    {
        QueueName = queueName;
        JobId = jobId;
    }

    /// <summary>The queue that was searched.</summary>
    public string QueueName { get; }

    /// <summary>The id that was not found.</summary>
    public string JobId { get; }
}
