namespace ResilientQueue;

/// <summary>A queue's counts by state, read in one step.</summary>
/// <param name="Ready">Jobs waiting to be fetched.</param>
/// <param name="Delayed">Jobs waiting for their due time.</param>
/// <param name="Active">Jobs leased to workers.</param>
/// <param name="Dead">Jobs in the dead-letter store.</param>
/// <param name="Completed">Completed jobs kept for lookup.</param>
/// <param name="IsPaused">Whether fetching is paused.</param>
/// <param name="DeadLetterTrimmed">How many dead-letter entries the store's bounds have removed, in all.</param>
public readonly record struct QueueStatus(long Ready, long Delayed, long Active, long Dead, long Completed, bool IsPaused, long DeadLetterTrimmed)
{
    /// <summary>The jobs accepted and not finished: ready + delayed + active. <see cref="JobQueueOptions.Capacity"/> bounds it.</summary>
    public long Depth => Ready + Delayed + Active;
}
