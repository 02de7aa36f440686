using ResilientQueue.Backpressure;
using ResilientQueue.DeadLetter;
using ResilientQueue.Results;
using ResilientQueue.Serialization;

namespace ResilientQueue;

/// <summary>Options of one queue, the same for every backend. A queue copies them when it is created.</summary>
public sealed class JobQueueOptions
{
    /// <summary>The most jobs one fetch or one batch ack/fail may take: 1,000.</summary>
    public const int MaxBatchSize = 1000;

    /// <summary>The most jobs one <see cref="IJobProducer.EnqueueManyAsync"/> may add: 1,000 (so one atomic step stays short).</summary>
    public const int MaxEnqueueBatchSize = 1000;

    /// <summary>The most jobs one atomic step moves besides the ones it was asked for: due delayed jobs promoted by a fetch, dead-letter entries trimmed, entries purged per step: 1,000.</summary>
    public const int MaxStepWork = 1000;

    /// <summary>The longest <see cref="IJobConsumer.WaitForJobsAsync"/>: one day.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromDays(1);

    /// <summary>The longest lease: one day.</summary>
    public static readonly TimeSpan MaxLeaseDuration = TimeSpan.FromDays(1);

    /// <summary>
    /// The most jobs that may be ready, delayed or active at once (the depth). An enqueue that would go over it is rejected
    /// with <see cref="QueueFullException"/>, checked atomically with the enqueue. Retries and releases of jobs already
    /// accepted never count against it. Default: 1,000,000. At least 1.
    /// </summary>
    public long Capacity { get; set; } = 1_000_000;

    /// <summary>
    /// The fraction of <see cref="Capacity"/> from which <see cref="IJobProducer.GetBackpressureAsync"/> reports
    /// <see cref="BackpressureLevel.Elevated"/> (producers should slow down). Default: 0.8. More than 0, at most 1.
    /// </summary>
    public double HighWatermark { get; set; } = 0.8;

    /// <summary>
    /// What an enqueue does at capacity when its <see cref="EnqueueOptions.FullMode"/> does not say (and always for
    /// <see cref="IJobProducer.EnqueueManyAsync"/>): reject at once, or wait for room up to <see cref="FullWaitTimeout"/>.
    /// Default: <see cref="QueueFullMode.Reject"/>.
    /// </summary>
    public QueueFullMode FullMode { get; set; } = QueueFullMode.Reject;

    /// <summary>How long an enqueue in <see cref="QueueFullMode.Wait"/> waits for room before it throws <see cref="QueueFullTimeoutException"/>, when its <see cref="EnqueueOptions.FullWaitTimeout"/> does not say. Default: 30 seconds. From 1 ms to 1 hour.</summary>
    public TimeSpan FullWaitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The <see cref="BackpressureSignal.SuggestedRetryAfter"/> at capacity (less above the watermark, zero below it). Default: 1 second. From 10 ms to 1 hour.</summary>
    public TimeSpan BackpressureRetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How many attempts a job gets when its enqueue does not say. Default: 5. From 1 to 1,000.</summary>
    public int DefaultMaxAttempts { get; set; } = 5;

    /// <summary>The largest payload accepted, in bytes; larger ones are rejected with <see cref="PayloadTooLargeException"/>. Default: 1 MiB. From 1 byte to 512 MiB.</summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>How many completed jobs are kept for lookup by id, newest first; 0 removes a job when it is acknowledged. Default: 0. At most 1,000,000.</summary>
    public int CompletedRetention { get; set; }

    /// <summary>How long an idempotency key is remembered after the enqueue that set it. Default: 24 hours. From 1 second to 30 days.</summary>
    public TimeSpan IdempotencyWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// The serializer of the queue's payloads: <see cref="JobQueueExtensions.EnqueueObjectAsync"/> writes with it and the
    /// hosted worker reads with it, so producers and consumers agree. Default: <see langword="null"/>, the
    /// <see cref="IJobSerializer"/> registered in DI for queues from <c>IJobQueueProvider</c> (itself
    /// <see cref="SystemTextJsonJobSerializer.Default"/> unless the app registers another), and
    /// <see cref="SystemTextJsonJobSerializer.Default"/> for a queue created directly.
    /// </summary>
    public IJobSerializer? Serializer { get; set; }

    /// <summary>The bounds of the queue's dead-letter store. Default: 10,000 entries, 14 days (see <see cref="DeadLetterOptions"/>).</summary>
    public DeadLetterOptions DeadLetter { get; set; } = new();

    /// <summary>How the queue keeps its jobs' results and how producers wait for them. Default: kept 1 hour, at most 1 MiB each, waiters look every 5 seconds without a notification (see <see cref="JobResultOptions"/>).</summary>
    public JobResultOptions Results { get; set; } = new();

    /// <summary>Checks every option and throws for the first that is out of range.</summary>
    /// <exception cref="InvalidOptionsException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        foreach ((string option, string message) in Problems())
        {
            throw new InvalidOptionsException(option, message);
        }
    }

    /// <summary>Every option out of range, each with what is wrong (at start-up, DI reports them all).</summary>
    internal IEnumerable<(string Option, string Message)> Problems()
    {
        if (Capacity < 1)
        {
            yield return ("JobQueueOptions.Capacity", $"must be at least 1, was {Capacity}.");
        }

        if (!(HighWatermark > 0 && HighWatermark <= 1))
        {
            yield return ("JobQueueOptions.HighWatermark", $"must be more than 0 and at most 1, was {HighWatermark}.");
        }

        if (!Enum.IsDefined(FullMode))
        {
            yield return ("JobQueueOptions.FullMode", $"must be Reject or Wait, was {(int)FullMode}.");
        }

        if (FullWaitTimeout < TimeSpan.FromMilliseconds(1) || FullWaitTimeout > TimeSpan.FromHours(1))
        {
            yield return ("JobQueueOptions.FullWaitTimeout", $"must be from 1 ms to 1 hour, was {FullWaitTimeout}.");
        }

        if (BackpressureRetryAfter < TimeSpan.FromMilliseconds(10) || BackpressureRetryAfter > TimeSpan.FromHours(1))
        {
            yield return ("JobQueueOptions.BackpressureRetryAfter", $"must be from 10 ms to 1 hour, was {BackpressureRetryAfter}.");
        }

        if (DefaultMaxAttempts is < 1 or > 1000)
        {
            yield return ("JobQueueOptions.DefaultMaxAttempts", $"must be from 1 to 1000, was {DefaultMaxAttempts}.");
        }

        if (MaxPayloadBytes is < 1 or > 512 * 1024 * 1024)
        {
            yield return ("JobQueueOptions.MaxPayloadBytes", $"must be from 1 to 536870912 bytes, was {MaxPayloadBytes}.");
        }

        if (CompletedRetention is < 0 or > 1_000_000)
        {
            yield return ("JobQueueOptions.CompletedRetention", $"must be from 0 to 1000000, was {CompletedRetention}.");
        }

        if (IdempotencyWindow < TimeSpan.FromSeconds(1) || IdempotencyWindow > TimeSpan.FromDays(30))
        {
            yield return ("JobQueueOptions.IdempotencyWindow", $"must be from 1 second to 30 days, was {IdempotencyWindow}.");
        }

        if (Results is null)
        {
            yield return ("JobQueueOptions.Results", "cannot be null.");
        }
        else
        {
            foreach ((string option, string message) in Results.Problems())
            {
                yield return ("JobQueueOptions.Results." + option[(option.IndexOf('.', StringComparison.Ordinal) + 1)..], message);
            }
        }

        if (DeadLetter is null)
        {
            yield return ("JobQueueOptions.DeadLetter", "cannot be null.");
            yield break;
        }

        foreach ((string option, string message) in DeadLetter.Problems())
        {
            yield return ("JobQueueOptions.DeadLetter." + option[(option.IndexOf('.', StringComparison.Ordinal) + 1)..], message);
        }
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
            HighWatermark = HighWatermark,
            FullMode = FullMode,
            FullWaitTimeout = FullWaitTimeout,
            BackpressureRetryAfter = BackpressureRetryAfter,
            DefaultMaxAttempts = DefaultMaxAttempts,
            MaxPayloadBytes = MaxPayloadBytes,
            CompletedRetention = CompletedRetention,
            IdempotencyWindow = IdempotencyWindow,
            DeadLetter = new DeadLetterOptions { MaxEntries = DeadLetter.MaxEntries, MaxAge = DeadLetter.MaxAge },
            Results = Results.Copy(),
            Serializer = Serializer,
        };
    }
}
