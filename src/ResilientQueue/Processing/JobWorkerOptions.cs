using ResilientQueue.Concurrency;
using ResilientQueue.Recovery;

namespace ResilientQueue.Processing;

/// <summary>Options of the hosted worker of one queue. Validated at start-up; the worker copies them.</summary>
public sealed class JobWorkerOptions
{
    /// <summary>The queue the worker consumes. Set by <c>AddHandler</c>.</summary>
    public string QueueName { get; set; } = string.Empty;

    /// <summary>How many jobs run at once. Default: 10. From 1 to 1,000. With <see cref="AdaptiveConcurrency"/> and no <see cref="ConcurrencyKey"/> it is ignored; with both, it is the ceiling over all partitions together.</summary>
    public int Concurrency { get; set; } = 10;

    /// <summary>
    /// When set, an <see cref="AdaptiveConcurrencyLimiter"/> decides how many jobs run at once, between its
    /// <see cref="AdaptiveConcurrencyLimiterOptions.MinLimit"/> and <see cref="AdaptiveConcurrencyLimiterOptions.MaxLimit"/>
    /// (the worker runs MaxLimit handler loops; <see cref="Concurrency"/> is ignored unless <see cref="ConcurrencyKey"/> is set). Each job's outcome feeds it: a
    /// success with the handler's duration; a drop when the job timed out or failed with an error classified
    /// <see cref="Errors.ErrorCategory.Transient"/> or <see cref="Errors.ErrorCategory.RateLimited"/>; other failures say
    /// nothing about capacity. Its queue limit and order are the worker's own; its metrics name is the queue's name
    /// unless set. Default: <see langword="null"/>, a fixed <see cref="Concurrency"/>.
    /// </summary>
    public AdaptiveConcurrencyLimiterOptions? AdaptiveConcurrency { get; set; }

    /// <summary>
    /// With <see cref="AdaptiveConcurrency"/>: picks a partition for each job (for example the host or API key its payload
    /// calls), and every partition gets its own adaptive limiter, so one slow host does not throttle the rest; at most
    /// <see cref="Concurrency"/> jobs run over all partitions together. A job whose
    /// partition is at its limit is not held: it goes back to the queue for the limiter's suggested Retry-After (at least
    /// 50 ms, at most 30 s) without spending an attempt, and the worker takes the next job. <see langword="null"/> and
    /// empty keys (and keys that throw) share one partition. Idle partitions are dropped after a while. Default: <see langword="null"/>, one limiter.
    /// </summary>
    public Func<Job, string?>? ConcurrencyKey { get; set; }

    /// <summary>How many fetched jobs may wait in the local buffer (their leases are renewed every <see cref="RenewInterval"/> while they wait, however long). Default: <see langword="null"/>, which sizes the buffer by throughput: about 50 ms of work at the worker's recent rate, at least twice <see cref="Concurrency"/> (or <see cref="AdaptiveConcurrencyLimiterOptions.MinLimit"/> with <see cref="AdaptiveConcurrency"/> and no <see cref="ConcurrencyKey"/>: its handler loops then hold a job each while they wait for a permit), at most 1,000. A value fixes the size.</summary>
    public int? Prefetch { get; set; }

    /// <summary>How long a lease lasts; the worker renews it at <see cref="RenewInterval"/> while the handler runs. Default: 30 seconds. From 1 second to 1 day.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a running job's lease is renewed. Default: <see langword="null"/>, which is a third of <see cref="LeaseDuration"/>. Less than <see cref="LeaseDuration"/>.</summary>
    public TimeSpan? RenewInterval { get; set; }

    /// <summary>How long one attempt may run before its token is cancelled (and <see cref="IJobTimeoutFallback{TPayload}"/> runs). Default: <see langword="null"/>, no timeout.</summary>
    public TimeSpan? JobTimeout { get; set; }

    /// <summary>The longest an idle worker waits before it looks for jobs again when no wake-up arrives. Default: 1 second. From 10 ms to 1 minute.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The backoff of retries (and of rate-limit pauses without a Retry-After). Default: <see cref="BackoffPolicy.Default"/>.</summary>
    public BackoffPolicy Backoff { get; set; } = BackoffPolicy.Default;

    /// <summary>
    /// How long the fetch loop may go without completing a fetch attempt before the health check reports the worker
    /// unhealthy (for example, hung after a reconnect). Default: <see langword="null"/>, which is 30 seconds or three
    /// poll intervals, whichever is longer.
    /// </summary>
    public TimeSpan? StallThreshold { get; set; }

    /// <summary>How often the worker reads its queue's counts for the <c>resilientqueue.queue.depth</c> gauge. Default: 5 seconds. From 100 ms to 1 hour.</summary>
    public TimeSpan StatusInterval { get; set; } = TimeSpan.FromSeconds(5);

    // With one adaptive limiter the handler loops (MaxLimit of them) already hold a job each while they wait for a
    // permit; the buffer behind them only needs to keep the fetches batched.
    internal int EffectivePrefetch => Prefetch ?? Math.Clamp(AdaptiveConcurrency is { } adaptive && ConcurrencyKey is null ? adaptive.MinLimit : Concurrency * 2, 1, JobQueueOptions.MaxBatchSize);

    /// <summary>How many handler loops run: the most jobs that can run at once.</summary>
    internal int HandlerLoops => AdaptiveConcurrency is { } adaptive && ConcurrencyKey is null ? adaptive.MaxLimit : Concurrency;

    internal TimeSpan EffectiveRenewInterval => RenewInterval ?? LeaseDuration / 3;

    internal TimeSpan EffectiveStallThreshold => StallThreshold ?? TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, PollInterval.Ticks * 3));

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
        const string P = "JobWorkerOptions.";
        if (!QueueNames.IsValid(QueueName))
        {
            yield return (P + nameof(QueueName), $"'{QueueName}' is not a valid queue name: 1 to {QueueNames.MaxLength} ASCII letters, digits or - _ . : #.");
        }

        if (Concurrency is < 1 or > 1000)
        {
            yield return (P + nameof(Concurrency), $"must be from 1 to 1000, was {Concurrency}.");
        }

        if (AdaptiveConcurrency is { } adaptive)
        {
            foreach ((string option, string message) in adaptive.Problems())
            {
                yield return (P + nameof(AdaptiveConcurrency) + "." + option[(option.IndexOf('.', StringComparison.Ordinal) + 1)..], message);
            }

            if (adaptive.MaxLimit > 1000)
            {
                yield return (P + nameof(AdaptiveConcurrency) + ".MaxLimit", $"must be at most 1000 for a worker (one handler loop each), was {adaptive.MaxLimit}.");
            }
        }
        else if (ConcurrencyKey is not null)
        {
            yield return (P + nameof(ConcurrencyKey), "needs AdaptiveConcurrency: set it too, or remove the key.");
        }

        if (Prefetch is < 1 or > JobQueueOptions.MaxBatchSize)
        {
            yield return (P + nameof(Prefetch), $"must be from 1 to {JobQueueOptions.MaxBatchSize}, was {Prefetch}.");
        }

        if (LeaseDuration < TimeSpan.FromSeconds(1) || LeaseDuration > JobQueueOptions.MaxLeaseDuration)
        {
            yield return (P + nameof(LeaseDuration), $"must be from 1 second to 1 day, was {LeaseDuration}.");
        }

        if (RenewInterval is { } renew && (renew <= TimeSpan.Zero || renew >= LeaseDuration))
        {
            yield return (P + nameof(RenewInterval), $"must be more than zero and less than LeaseDuration ({LeaseDuration}), was {renew}.");
        }

        if (JobTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            yield return (P + nameof(JobTimeout), $"must be more than zero when set, was {timeout}.");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(1))
        {
            yield return (P + nameof(PollInterval), $"must be from 10 ms to 1 minute, was {PollInterval}.");
        }

        if (StatusInterval < TimeSpan.FromMilliseconds(100) || StatusInterval > TimeSpan.FromHours(1))
        {
            yield return (P + nameof(StatusInterval), $"must be from 100 ms to 1 hour, was {StatusInterval}.");
        }

        if (Backoff is null)
        {
            yield return (P + nameof(Backoff), "cannot be null.");
        }

        if (StallThreshold is { } stall && stall <= PollInterval)
        {
            yield return (P + nameof(StallThreshold), $"must be longer than PollInterval ({PollInterval}), was {stall}.");
        }
    }

    internal JobWorkerOptions Copy()
    {
        var copy = (JobWorkerOptions)MemberwiseClone();
        copy.AdaptiveConcurrency = AdaptiveConcurrency is { } adaptive ? adaptive.ValidatedCopy() : null;
        return copy;
    }
}
