using ResilientQueue.Backpressure;
using ResilientQueue.Results;
using ResilientQueue.Serialization;

namespace ResilientQueue;

/// <summary>
/// The producing side of a queue: add jobs, and read how full the queue is before sending more. Safe to call from many
/// threads and processes.
/// </summary>
/// <remarks>
/// Bad arguments throw before anything changes: the <see cref="ArgumentException"/> family naming the argument,
/// <see cref="InvalidOptionsException"/> naming the option, <see cref="PayloadTooLargeException"/>. A duplicate by
/// idempotency key is a result (<see cref="EnqueueOutcome.Duplicate"/>), not an exception.
/// </remarks>
public interface IJobProducer
{
    /// <summary>The queue's name (see <see cref="QueueNames"/>).</summary>
    string Name { get; }

    /// <summary>The serializer <see cref="JobQueueExtensions.EnqueueObjectAsync"/> and the hosted worker use for this queue's payloads.</summary>
    IJobSerializer Serializer { get; }

    /// <summary>Adds a job: ready at once, or delayed when <see cref="EnqueueOptions.Delay"/> is set.</summary>
    /// <param name="payload">The serialized payload; at most <see cref="JobQueueOptions.MaxPayloadBytes"/>. It is copied.</param>
    /// <param name="options">The job's options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The job's id, or the existing job's id when the idempotency key was known.</returns>
    /// <exception cref="QueueFullException">The queue is at capacity and the enqueue does not wait (<see cref="QueueFullMode.Reject"/>, the default); nothing was added.</exception>
    /// <exception cref="QueueFullTimeoutException">The enqueue waited for room (<see cref="QueueFullMode.Wait"/>) and none appeared within its timeout; nothing was added.</exception>
    /// <exception cref="OperationCanceledException">The call was cancelled, possibly while waiting for room; nothing was added.</exception>
    ValueTask<EnqueueResult> EnqueueAsync(ReadOnlyMemory<byte> payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Adds jobs in one atomic step: all are added (duplicates by idempotency key aside) or, at capacity, none.</summary>
    /// <param name="jobs">The jobs; 1 to <see cref="JobQueueOptions.MaxEnqueueBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>One result per job, in order.</returns>
    /// <exception cref="QueueFullException">The jobs do not all fit and the queue's <see cref="JobQueueOptions.FullMode"/> is <see cref="QueueFullMode.Reject"/>, or they are more than the whole capacity; nothing was added.</exception>
    /// <exception cref="QueueFullTimeoutException">The queue's <see cref="JobQueueOptions.FullMode"/> is <see cref="QueueFullMode.Wait"/> and room for all of them did not appear in time; nothing was added.</exception>
    ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<JobSubmission> jobs, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads how full the queue is (the depth, one step) against its <see cref="JobQueueOptions.Capacity"/> and
    /// <see cref="JobQueueOptions.HighWatermark"/>: a signal producers can act on before they send. A snapshot: the
    /// capacity check of an enqueue is made again, atomically with the enqueue.
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The signal.</returns>
    ValueTask<BackpressureSignal> GetBackpressureAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits for a job's result (request–reply): returns it once the job completed with one, woken by the job's completion
    /// (a notification, shared by every waiter of the queue in this process) and looking again at least every
    /// <see cref="JobResultOptions.PollInterval"/>. A job that completed before the call is found at once; a retried job
    /// is not finished, so the wait goes on. The job is not affected by the wait ending, whichever way it ends.
    /// </summary>
    /// <param name="jobId">The job's id, as its enqueue returned it.</param>
    /// <param name="timeout">How long to wait at most; zero to look once. At most <see cref="JobQueueOptions.MaxWait"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The result, kept for <see cref="JobResultOptions.Retention"/> after the job completed.</returns>
    /// <exception cref="JobFailedException">The job failed for good: it is dead-lettered; the exception carries its error (<c>TypeName: message</c>) and category.</exception>
    /// <exception cref="JobResultTimeoutException">No result within <paramref name="timeout"/>; the exception names the job and the time waited.</exception>
    /// <exception cref="JobResultNotFoundException">There is no result and none can come: the id is unknown, the job completed without one, its result expired, it was skipped or purged, or the queue was cleared.</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    ValueTask<JobResult> WaitForResultAsync(string jobId, TimeSpan timeout, CancellationToken cancellationToken = default);
}
