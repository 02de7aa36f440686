namespace ResilientQueue;

/// <summary>
/// Proof that a worker holds a job. Every ack, fail, renew, release and checkpoint presents it, and succeeds only while
/// <see cref="Token"/> is the job's current lease token: a worker whose lease was taken over gets
/// <see cref="LeaseResult.LeaseLost"/>, never a silent success.
/// </summary>
/// <param name="JobId">The leased job.</param>
/// <param name="Token">The fencing token issued by the fetch; unique per fetch of the queue.</param>
/// <param name="ExpiresAt">When the lease ran out at the time it was issued or renewed; the reaper may take the job back after this.</param>
public readonly record struct JobLease(string JobId, string Token, DateTimeOffset ExpiresAt);
