namespace ResilientQueue.Processing;

/// <summary>Processes the jobs of one queue. Resolved from a new DI scope for every job.</summary>
/// <typeparam name="TPayload">The payload type, deserialized with the worker's serializer.</typeparam>
public interface IJobHandler<TPayload>
{
    /// <summary>
    /// Processes one job. Return normally to complete it; throw to fail it (the exception is classified and the recovery
    /// strategy decides). Observe <paramref name="cancellationToken"/>: it is cancelled when the job times out, when its
    /// lease is lost (another worker may have it now: stop, nothing you return is written), and at the shutdown deadline.
    /// </summary>
    /// <param name="context">The job, its payload and its checkpoint.</param>
    /// <param name="cancellationToken">Cancelled on timeout, lease loss and the shutdown deadline.</param>
    /// <returns>A task that completes when the job is done.</returns>
    ValueTask HandleAsync(JobContext<TPayload> context, CancellationToken cancellationToken);
}

/// <summary>
/// Implemented by a handler that has a fallback for jobs that run past <see cref="JobWorkerOptions.JobTimeout"/>: when a
/// job times out the worker calls <see cref="HandleTimeoutAsync"/>; if it returns normally the job completes (and the
/// worker logs and counts that the fallback ran), if it throws the job fails with that exception.
/// </summary>
/// <typeparam name="TPayload">The payload type.</typeparam>
public interface IJobTimeoutFallback<TPayload>
{
    /// <summary>Handles a job whose handler ran past its timeout, e.g. by storing a partial or degraded result.</summary>
    /// <param name="context">The job, its payload and its checkpoint (with what the handler saved).</param>
    /// <param name="cancellationToken">Cancelled on lease loss and at the shutdown deadline.</param>
    /// <returns>A task that completes when the fallback is done.</returns>
    ValueTask HandleTimeoutAsync(JobContext<TPayload> context, CancellationToken cancellationToken);
}
