namespace ResilientQueue;

/// <summary>The states a job can be in. A job moves between them only through the transitions of <see cref="IJobQueue"/>.</summary>
public enum JobState
{
    /// <summary>Waiting to be fetched, in priority then FIFO order.</summary>
    Ready = 0,

    /// <summary>Waiting for its due time (an enqueue delay or a retry backoff); becomes ready when due.</summary>
    Delayed = 1,

    /// <summary>Leased to a worker: fetched and not yet acknowledged, failed or released.</summary>
    Active = 2,

    /// <summary>In the dead-letter store: attempts exhausted, or failed with a dead-letter decision.</summary>
    Dead = 3,

    /// <summary>Acknowledged and kept for lookup, per <see cref="JobQueueOptions.CompletedRetention"/>.</summary>
    Completed = 4,
}
