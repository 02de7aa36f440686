using ResilientQueue.DeadLetter;

namespace ResilientQueue;

/// <summary>Options of one queue, the same for every backend. A queue copies them when it is created.</summary>
public sealed class JobQueueOptions
{
    /// <summary>The most jobs one fetch or one batch ack/fail may take: 1,000.</summary>
    public const int MaxBatchSize = 1000;

    /// <summary>The most jobs one <see cref="IJobQueue.EnqueueManyAsync"/> may add: 1,000 (so one atomic step stays short).</summary>
    public const int MaxEnqueueBatchSize = 1000;

    /// <summary>The most jobs one atomic step moves besides the ones it was asked for: due delayed jobs promoted by a fetch, dead-letter entries trimmed, entries purged per step: 1,000.</summary>
    public const int MaxStepWork = 1000;

    /// <summary>The longest <see cref="IJobQueue.WaitForJobsAsync"/>: one day.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    /// <summary>The longest lease: one day.</summary>
    public static readonly TimeSpan MaxLeaseDuration = TimeSpan.FromDays(1);

    /// <summary>
    /// The most jobs that may be ready, delayed or active at once (the depth). An enqueue that would go over it is rejected
    /// with <see cref="QueueFullException"/>, checked atomically with the enqueue. Retries and releases of jobs already
    /// accepted never count against it. Default: 1,000,000. At least 1.
    /// </summary>
    public long Capacity { get; set; } = 1_000_000;

    /// <summary>How many attempts a job gets when its enqueue does not say. Default: 5. From 1 to 1,000.</summary>
    public int DefaultMaxAttempts { get; set; } = 5;

    /// <summary>The largest payload accepted, in bytes; larger ones are rejected with <see cref="PayloadTooLargeException"/>. Default: 1 MiB. From 1 byte to 512 MiB.</summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>How many completed jobs are kept for lookup by id, newest first; 0 removes a job when it is acknowledged. Default: 0. At most 1,000,000.</summary>
    public int CompletedRetention { get; set; }

    /// <summary>How long an idempotency key is remembered after the enqueue that set it. Default: 24 hours. From 1 second to 30 days.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The bounds of the queue's dead-letter store. Default: 10,000 entries, 14 days (see <see cref="DeadLetterOptions"/>).</summary>
    public DeadLetterOptions DeadLetter { get; set; } = new();

    /// <summary>Checks every option and throws for the first that is out of range.</summary>
    /// <exception cref="InvalidOptionsException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Capacity < 1)
        {
            throw new InvalidOptionsException("JobQueueOptions.Capacity", $"must be at least 1, was {Capacity}.");
        }

        if (DefaultMaxAttempts is < 1 or > 1000)
        {
            throw new InvalidOptionsException("JobQueueOptions.DefaultMaxAttempts", $"must be from 1 to 1000, was {DefaultMaxAttempts}.");
        }

        if (MaxPayloadBytes is < 1 or > 512 * 1024 * 1024)
        {
            throw new InvalidOptionsException("JobQueueOptions.MaxPayloadBytes", $"must be from 1 to 536870912 bytes, was {MaxPayloadBytes}.");
        }

        if (CompletedRetention is < 0 or > 1_000_000)
        {
            throw new InvalidOptionsException("JobQueueOptions.CompletedRetention", $"must be from 0 to 1000000, was {CompletedRetention}.");
        }

        if (IdempotencyWindow < TimeSpan.FromSeconds(1) || IdempotencyWindow > TimeSpan.FromDays(30))
        {
            throw new InvalidOptionsException("JobQueueOptions.IdempotencyWindow", $"must be from 1 second to 30 days, was {IdempotencyWindow}.");
        }

        if (DeadLetter is null)
        {
            throw new InvalidOptionsException("JobQueueOptions.DeadLetter", "cannot be null.");
        }

        DeadLetter.Validate();
    }

    /// <summary>A validated copy, so later changes to these options do not reach a queue already created.</summary>
    /// <returns>The copy.</returns>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    public JobQueueOptions ValidatedCopy()
    {
        Validate();
        return new JobQueueOptions
        {
            Capacity = Capacity,
            DefaultMaxAttempts = DefaultMaxAttempts,
            MaxPayloadBytes = MaxPayloadBytes,
            CompletedRetention = CompletedRetention,
            IdempotencyWindow = IdempotencyWindow,
            DeadLetter = new DeadLetterOptions { MaxEntries = DeadLetter.MaxEntries, MaxAge = DeadLetter.MaxAge },
        };
    }
}
