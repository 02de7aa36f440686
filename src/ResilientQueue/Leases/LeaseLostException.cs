namespace ResilientQueue.Leases;

/// <summary>A worker presented a lease that is no longer the job's current lease; nothing was changed.</summary>
public sealed class LeaseLostException : ResilientQueueException
{
    /// <summary>Creates the exception for a job and the stale token.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="token">The token that was presented.</param>
    public LeaseLostException(string jobId, string token)
        : base($"The lease on job '{jobId}' (token {token}) is no longer held: the job was reaped, re-leased, completed or removed. Its outcome was not written.")
    {
        JobId = jobId;
        Token = token;
    }

    /// <summary>The job whose lease was lost.</summary>
    public string JobId { get; }

    /// <summary>The stale token that was presented.</summary>
    public string Token { get; }
}
