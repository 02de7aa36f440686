using ResilientQueue.Backends;
using ResilientQueue.Leases;
using ResilientQueue.Serialization;

namespace ResilientQueue.Results;

/// <summary>Request–reply over the queue roles: enqueue and wait for the result, typed results, and the single-lease completion.</summary>
public static class JobResultExtensions
{
    /// <summary>
    /// Serializes <paramref name="payload"/> with the queue's serializer, enqueues it, waits for the job's result and
    /// deserializes it with the same serializer (the one the hosted worker writes results with). The wait starts once
    /// the job is enqueued (an enqueue that waits for room at capacity waits first, per its
    /// <see cref="EnqueueOptions.FullWaitTimeout"/>); a duplicate by idempotency key waits for the job that holds the key.
    /// For a payload already serialized, enqueue it and call <see cref="IJobProducer.WaitForResultAsync"/>.
    /// </summary>
    /// <typeparam name="TPayload">The payload's type.</typeparam>
    /// <typeparam name="TResult">The result's type, as the handler (<see cref="Processing.IJobHandler{TPayload, TResult}"/>) returns it.</typeparam>
    /// <param name="producer">The queue.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="timeout">How long to wait for the result once the job is enqueued; at most <see cref="JobQueueOptions.MaxWait"/>.</param>
    /// <param name="options">The job's options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the enqueue or the wait (the job, once enqueued, goes on).</param>
    /// <returns>The result.</returns>
    /// <exception cref="JobFailedException">The job failed for good (dead-lettered).</exception>
    /// <exception cref="JobResultTimeoutException">No result within <paramref name="timeout"/>.</exception>
    /// <exception cref="JobResultNotFoundException">The job ended without a result that is kept.</exception>
    public static async ValueTask<TResult> EnqueueAndWaitAsync<TPayload, TResult>(this IJobProducer producer, TPayload payload, TimeSpan timeout, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(producer);
        ResultArguments.Timeout(timeout); // before the enqueue: a bad timeout adds no job
        EnqueueResult enqueued = await producer.EnqueueAsync(producer.Serializer.Serialize(payload), options, cancellationToken).ConfigureAwait(false);
        JobResult result = await producer.WaitForResultAsync(enqueued.JobId, timeout, cancellationToken).ConfigureAwait(false);
        return producer.Serializer.Deserialize<TResult>(result.Value);
    }

    /// <summary>Waits for a job's result (see <see cref="IJobProducer.WaitForResultAsync"/>) and deserializes it with the queue's serializer.</summary>
    /// <typeparam name="TResult">The result's type.</typeparam>
    /// <param name="producer">The queue.</param>
    /// <param name="jobId">The job's id.</param>
    /// <param name="timeout">How long to wait at most; zero to look once.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The result.</returns>
    /// <exception cref="JobFailedException">The job failed for good (dead-lettered).</exception>
    /// <exception cref="JobResultTimeoutException">No result within <paramref name="timeout"/>.</exception>
    /// <exception cref="JobResultNotFoundException">The job ended without a result that is kept.</exception>
    public static async ValueTask<TResult> WaitForResultAsync<TResult>(this IJobProducer producer, string jobId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(producer);
        JobResult result = await producer.WaitForResultAsync(jobId, timeout, cancellationToken).ConfigureAwait(false);
        return producer.Serializer.Deserialize<TResult>(result.Value);
    }

    /// <summary>Deserializes a result.</summary>
    /// <typeparam name="TResult">The result's type.</typeparam>
    /// <param name="result">The result.</param>
    /// <param name="serializer">The serializer; <see langword="null"/> for <see cref="SystemTextJsonJobSerializer.Default"/> (pass the queue's <see cref="IJobProducer.Serializer"/> when it has another).</param>
    /// <returns>The value.</returns>
    public static TResult GetValue<TResult>(this JobResult result, IJobSerializer? serializer = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        return (serializer ?? SystemTextJsonJobSerializer.Default).Deserialize<TResult>(result.Value);
    }

    /// <summary>Marks a leased job completed and stores its result with it (see <see cref="IJobConsumer.CompleteManyAsync"/>).</summary>
    /// <param name="consumer">The queue.</param>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="result">The serialized result; at most <see cref="JobResultOptions.MaxBytes"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/> with nothing changed or stored.</returns>
    /// <exception cref="JobResultTooLargeException">The result is larger than <see cref="JobResultOptions.MaxBytes"/>; nothing was changed.</exception>
    public static async ValueTask<LeaseResult> CompleteAsync(this IJobConsumer consumer, JobLease lease, ReadOnlyMemory<byte> result, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        JobArguments.Lease(lease);
        return (await consumer.CompleteManyAsync([new JobCompletion(lease, result)], cancellationToken).ConfigureAwait(false))[0];
    }
}
