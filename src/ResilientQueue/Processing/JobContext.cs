using ResilientQueue.Leases;
using ResilientQueue.Serialization;

namespace ResilientQueue.Processing;

/// <summary>One job as its handler sees it: the envelope, the typed payload, the attempt and the checkpoint.</summary>
/// <typeparam name="TPayload">The payload type.</typeparam>
public sealed class JobContext<TPayload>
{
    private readonly IJobQueue _queue;
    private readonly IJobSerializer _serializer;
    private readonly TrackedJob _tracked;

    internal JobContext(IJobQueue queue, TrackedJob tracked, TPayload payload, IJobSerializer serializer, CancellationToken cancellationToken)
    {
        _queue = queue;
        _tracked = tracked;
        Payload = payload;
        _serializer = serializer;
        CancellationToken = cancellationToken;
        Checkpoint = tracked.Job.Job.Checkpoint;
    }

    // The job and its lease are read from the tracked job, not copied: one context is made per job run.

    /// <summary>The job's envelope, as fetched.</summary>
    public Job Job => _tracked.Job.Job;

    /// <summary>The job's id.</summary>
    public string JobId => Job.Id;

    /// <summary>The queue the job came from.</summary>
    public string QueueName => Job.Queue;

    /// <summary>The payload.</summary>
    public TPayload Payload { get; }

    /// <summary>This attempt's number, from 1 (attempts are counted at fetch).</summary>
    public int Attempt => Job.Attempts;

    /// <summary>When the job was enqueued.</summary>
    public DateTimeOffset EnqueuedAt => Job.EnqueuedAt;

    /// <summary>The lease this attempt holds.</summary>
    public JobLease Lease => _tracked.Lease;

    /// <summary>The same token the handler was given: cancelled on timeout, lease loss and the shutdown deadline.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The checkpoint saved by an earlier attempt (or by this one), if any.</summary>
    public ReadOnlyMemory<byte>? Checkpoint { get; private set; }

    /// <summary>Reads the checkpoint as a <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The checkpoint's type.</typeparam>
    /// <returns>The checkpoint, or <see langword="default"/> when there is none.</returns>
    public T? GetCheckpoint<T>() => Checkpoint is { } bytes ? _serializer.Deserialize<T>(bytes) : default;

    /// <summary>Saves a checkpoint: a retry of this job will see it in <see cref="Checkpoint"/>, so it can resume where this attempt stopped.</summary>
    /// <typeparam name="T">The checkpoint's type.</typeparam>
    /// <param name="checkpoint">The checkpoint.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the checkpoint is stored.</returns>
    /// <exception cref="LeaseLostException">The lease was lost; the handler's token is cancelled too. Stop working on the job.</exception>
    public async ValueTask SaveCheckpointAsync<T>(T checkpoint, CancellationToken cancellationToken = default)
    {
        byte[] bytes = _serializer.Serialize(checkpoint);
        LeaseResult result = await _queue.SaveCheckpointAsync(Lease, bytes, cancellationToken).ConfigureAwait(false);
        if (result == LeaseResult.LeaseLost)
        {
            _tracked.MarkLost(); // the handler's token is cancelled
            result.ThrowIfLeaseLost(Lease);
        }

        Checkpoint = bytes;
    }

    /// <summary>Keeps a result handler's result for the completion the worker writes: serialized with the queue's serializer, its size checked.</summary>
    /// <exception cref="Results.JobResultTooLargeException">The serialized result is larger than the queue's <see cref="Results.JobResultOptions.MaxBytes"/>: the job fails with it.</exception>
    internal void SetResult<TResult>(TResult result)
    {
        byte[] bytes = _serializer.Serialize(result);
        if (_queue is Backends.JobQueueBase { MaxResultBytes: int limit } && bytes.Length > limit)
        {
            throw new Results.JobResultTooLargeException(_queue.Name, JobId, bytes.Length, limit);
        }

        _tracked.Result = bytes;
    }
}
