namespace ResilientQueue.Processing;

/// <summary>
/// Processes the jobs of one queue and returns a result for each (request–reply): the hosted worker serializes the result
/// with the queue's serializer and stores it with the completed job, atomically with the acknowledgement, where a
/// producer waiting for it (<see cref="IJobProducer.WaitForResultAsync"/>) gets it. Resolved from a new DI scope for
/// every job; register it with <c>AddHandler&lt;THandler, TPayload, TResult&gt;</c>.
/// </summary>
/// <typeparam name="TPayload">The payload type, deserialized with the queue's serializer.</typeparam>
/// <typeparam name="TResult">The result type, serialized with the queue's serializer; at most <see cref="Results.JobResultOptions.MaxBytes"/> serialized.</typeparam>
public interface IJobHandler<TPayload, TResult>
{
    /// <summary>
    /// Processes one job and returns its result. Return to complete it with the result; throw to fail it (classified, and
    /// the recovery strategy decides: a retried job's producer goes on waiting, a dead-lettered one's gets a
    /// <see cref="Results.JobFailedException"/>). Observe <paramref name="cancellationToken"/> as for
    /// <see cref="IJobHandler{TPayload}.HandleAsync"/>: when the lease is lost nothing you return is written.
    /// </summary>
    /// <param name="context">The job, its payload and its checkpoint.</param>
    /// <param name="cancellationToken">Cancelled on timeout, lease loss and the shutdown deadline.</param>
    /// <returns>The result.</returns>
    ValueTask<TResult> HandleAsync(JobContext<TPayload> context, CancellationToken cancellationToken);
}

/// <summary>
/// Implemented by a result handler (<see cref="IJobHandler{TPayload, TResult}"/>) that has a fallback for jobs that run
/// past <see cref="JobWorkerOptions.JobTimeout"/>: what it returns is stored as the job's result (a partial or degraded
/// answer); if it throws, the job fails with that exception.
/// </summary>
/// <typeparam name="TPayload">The payload type.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
public interface IJobTimeoutFallback<TPayload, TResult>
{
    /// <summary>Handles a job whose handler ran past its timeout and returns the result to store.</summary>
    /// <param name="context">The job, its payload and its checkpoint (with what the handler saved).</param>
    /// <param name="cancellationToken">Cancelled on lease loss and at the shutdown deadline.</param>
    /// <returns>The result.</returns>
    ValueTask<TResult> HandleTimeoutAsync(JobContext<TPayload> context, CancellationToken cancellationToken);
}
