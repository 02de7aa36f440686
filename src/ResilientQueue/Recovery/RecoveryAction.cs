namespace ResilientQueue.Recovery;

/// <summary>What to do with a job whose handler failed.</summary>
public enum RecoveryAction
{
    /// <summary>Schedule the job again after <see cref="RecoveryDecision.Delay"/>; dead-letter it instead when it has used its last attempt.</summary>
    Retry = 0,

    /// <summary>Move the job to the dead-letter store now.</summary>
    DeadLetter = 1,

    /// <summary>Record the failure and drop the job.</summary>
    Skip = 2,

    /// <summary>Pause fetching for <see cref="RecoveryDecision.Delay"/>; the job runs again after it without spending an attempt.</summary>
    Pause = 3,

    /// <summary>Stop the worker; the job is released without spending an attempt and kept for later.</summary>
    Abort = 4,
}
