using ResilientQueue.Serialization;

namespace ResilientQueue;

/// <summary>Typed helpers over the queue roles.</summary>
public static class JobQueueExtensions
{
    /// <summary>Serializes <paramref name="payload"/> and enqueues it.</summary>
    /// <typeparam name="TPayload">The payload's type.</typeparam>
    /// <param name="queue">The queue.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="serializer">The serializer; <see langword="null"/> for the queue's (<see cref="IJobProducer.Serializer"/>), which its hosted worker reads with.</param>
    /// <param name="options">The job's options; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The job's id, or the existing job's id when the idempotency key was known.</returns>
    public static ValueTask<EnqueueResult> EnqueueObjectAsync<TPayload>(this IJobProducer queue, TPayload payload, IJobSerializer? serializer = null, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return queue.EnqueueAsync((serializer ?? queue.Serializer).Serialize(payload), options, cancellationToken);
    }

    /// <summary>Deserializes the job's payload.</summary>
    /// <typeparam name="TPayload">The payload's type.</typeparam>
    /// <param name="job">The job.</param>
    /// <param name="serializer">The serializer; <see langword="null"/> for <see cref="SystemTextJsonJobSerializer.Default"/> (pass the queue's <see cref="IJobProducer.Serializer"/> when it has another).</param>
    /// <returns>The payload.</returns>
    public static TPayload GetPayload<TPayload>(this Job job, IJobSerializer? serializer = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        return (serializer ?? SystemTextJsonJobSerializer.Default).Deserialize<TPayload>(job.Payload);
    }

    /// <summary>Reads one job in any state, and throws when there is none.</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="jobId">The job's id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The job.</returns>
    /// <exception cref="JobNotFoundException">The queue has no job with that id in any state.</exception>
    public static async ValueTask<Job> GetRequiredJobAsync(this IJobQueueAdmin queue, string jobId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return await queue.GetJobAsync(jobId, cancellationToken).ConfigureAwait(false) ?? throw new JobNotFoundException(queue.Name, jobId);
    }
}
