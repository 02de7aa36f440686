namespace ResilientQueue;

/// <summary>What the reaper did (or, in a dry run, would do) with a job whose lease ran out.</summary>
public enum ReapAction
{
    /// <summary>Attempts remained: the job was made ready again, at the head of its priority, keeping its attempt count (or with it given back, see <see cref="ReapedJob.AttemptRefunded"/>).</summary>
    Requeued = 0,

    /// <summary>No attempt remained: the job was dead-lettered with <see cref="Errors.ErrorCategory.LeaseExpired"/>.</summary>
    DeadLettered = 1,
}

/// <summary>One job taken back by <see cref="IJobQueueAdmin.ReapExpiredAsync"/>.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Action">What was (or would be) done.</param>
/// <param name="Attempts">The job's attempts when its lease ran out.</param>
/// <param name="MaxAttempts">The job's max attempts.</param>
/// <param name="LeaseExpiredAt">When its lease ran out; the job's staleness is now minus this.</param>
/// <param name="AttemptRefunded">
/// Whether the attempt was (or would be) given back: the lease's handler had not been marked started (its worker held the
/// job in its buffer when it died), see <see cref="IJobConsumer.MarkStartedManyAsync"/>.
/// </param>
public readonly record struct ReapedJob(string JobId, ReapAction Action, int Attempts, int MaxAttempts, DateTimeOffset LeaseExpiredAt, bool AttemptRefunded = false);
