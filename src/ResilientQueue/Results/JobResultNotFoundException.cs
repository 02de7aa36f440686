namespace ResilientQueue.Results;

/// <summary>
/// The queue holds no result for the job, and none can come: the job is not waiting, leased or dead-lettered. Either the
/// id is unknown, or the job ended without a result that is still kept: its handler returns none, its result expired
/// (<see cref="JobResultOptions.Retention"/>), it was skipped, its dead-letter entry was purged, or the queue was cleared.
/// </summary>
public sealed class JobResultNotFoundException : ResilientQueueException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The queue that was looked in.</param>
    /// <param name="jobId">The job.</param>
    /// <param name="state">The job's state when it still exists (<see cref="JobState.Completed"/>, kept per <see cref="JobQueueOptions.CompletedRetention"/>), or <see langword="null"/> when the queue has no such job.</param>
    public JobResultNotFoundException(string queueName, string jobId, JobState? state)
        : base(state == JobState.Completed
            ? $"Job '{jobId}' of queue '{queueName}' completed, but no result of it is kept: its handler returns none, or its result expired (JobQueueOptions.Results.Retention)."
            : $"Queue '{queueName}' has no result and no job '{jobId}': the id is unknown, or the job ended without a result that is still kept (its handler returns none, its result expired per JobQueueOptions.Results.Retention, it was skipped or purged, or the queue was cleared).")
    {
        QueueName = queueName;
        JobId = jobId;
        State = state;
    }

    /// <summary>The queue that was looked in.</summary>
    public string QueueName { get; }

    /// <summary>The job.</summary>
    public string JobId { get; }

    /// <summary>The job's state when it still exists (<see cref="JobState.Completed"/>), or <see langword="null"/> when the queue has no such job.</summary>
    public JobState? State { get; }
}
