namespace ResilientQueue.Leases;

/// <summary>
/// Proof that a worker holds a job. Every ack, fail, renew, release and checkpoint presents it, and succeeds only while
/// <see cref="Token"/> is the job's current lease token (and <see cref="Attempt"/> its attempt count): a worker whose lease
/// was taken over gets <see cref="LeaseResult.LeaseLost"/>, never a silent success.
/// </summary>
/// <remarks>
/// A lease is issued by a fetch; its fields are what the fetch saw. While the lease is current the job's attempts and
/// max attempts cannot change (only a fetch, release, failure or reap changes them, and each ends the lease), so what a
/// failure does with the job is decided from the lease alone, in one place (see <c>JobTransitions</c>), on every backend.
/// </remarks>
/// <param name="JobId">The leased job.</param>
/// <param name="Token">The fencing token issued by the fetch; unique per fetch of the queue.</param>
/// <param name="ExpiresAt">When the lease ran out at the time it was issued or renewed; the reaper may take the job back after this.</param>
/// <param name="Attempt">The job's attempt count with this fetch counted (1 on its first fetch).</param>
/// <param name="MaxAttempts">The job's max attempts.</param>
public readonly record struct JobLease(string JobId, string Token, DateTimeOffset ExpiresAt, int Attempt, int MaxAttempts)
{
    /// <summary>Whether this attempt is the job's last: a failure that spends it dead-letters the job.</summary>
    public bool IsLastAttempt => Attempt >= MaxAttempts;
}
