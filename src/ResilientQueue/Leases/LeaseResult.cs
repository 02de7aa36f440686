namespace ResilientQueue.Leases;

/// <summary>What a lease-checked operation (ack, renew, release, checkpoint) found.</summary>
public enum LeaseOutcome
{
    /// <summary>The lease was current and the operation was applied.</summary>
    Succeeded = 0,

    /// <summary>
    /// The lease is no longer current: the job was reaped, fetched by another worker, completed, failed, released or
    /// removed. Nothing was changed.
    /// </summary>
    LeaseLost = 1,
}

/// <summary>The outcome of a lease-checked operation (ack, renew, release, checkpoint).</summary>
/// <param name="Outcome">What happened.</param>
public readonly record struct LeaseResult(LeaseOutcome Outcome)
{
    /// <summary>The lease was current and the operation was applied.</summary>
    public static LeaseResult Succeeded { get; } = new(LeaseOutcome.Succeeded);

    /// <summary>The lease is no longer current; nothing was changed.</summary>
    public static LeaseResult LeaseLost { get; } = new(LeaseOutcome.LeaseLost);

    /// <summary>Whether the operation was applied.</summary>
    public bool IsSucceeded => Outcome == LeaseOutcome.Succeeded;

    /// <summary>Throws <see cref="LeaseLostException"/> when the lease was lost.</summary>
    /// <param name="lease">The lease the operation presented; named in the exception.</param>
    /// <exception cref="LeaseLostException">The lease was lost.</exception>
    public void ThrowIfLeaseLost(JobLease lease)
    {
        if (!IsSucceeded)
        {
            throw new LeaseLostException(lease.JobId, lease.Token);
        }
    }

    /// <summary>The result for a storage step's answer.</summary>
    /// <param name="applied">Whether the lease was current and the step applied.</param>
    /// <returns><see cref="Succeeded"/> or <see cref="LeaseLost"/>.</returns>
    public static LeaseResult From(bool applied) => applied ? Succeeded : LeaseLost;

    /// <inheritdoc />
    public override string ToString() => Outcome.ToString();
}
