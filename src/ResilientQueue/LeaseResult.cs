namespace ResilientQueue;

/// <summary>The outcome of a lease-checked operation (ack, fail, renew, release, checkpoint).</summary>
public enum LeaseResult
{
    /// <summary>The lease was current and the operation was applied.</summary>
    Succeeded = 0,

    /// <summary>
    /// The lease is no longer current: the job was reaped, fetched by another worker, completed, failed, released or
    /// removed. Nothing was changed.
    /// </summary>
    LeaseLost = 1,
}

/// <summary>Helpers for <see cref="LeaseResult"/>.</summary>
public static class LeaseResultExtensions
{
    /// <summary>Throws <see cref="LeaseLostException"/> when <paramref name="result"/> is <see cref="LeaseResult.LeaseLost"/>.</summary>
    /// <param name="result">The result to check.</param>
    /// <param name="lease">The lease the operation presented; named in the exception.</param>
    /// <exception cref="LeaseLostException">The lease was lost.</exception>
    public static void ThrowIfLeaseLost(this LeaseResult result, JobLease lease)
    {
        if (result == LeaseResult.LeaseLost)
        {
            throw new LeaseLostException(lease.JobId, lease.Token);
        }
    }
}
