using ResilientQueue.Recovery;

namespace ResilientQueue.Processing;

/// <summary>Options of the hosted worker of one queue. Validated at start-up; the worker copies them.</summary>
public sealed class JobWorkerOptions
{
    /// <summary>The queue the worker consumes. Set by <c>AddHandler</c>.</summary>
    public string QueueName { get; set; } = string.Empty;

    /// <summary>How many jobs run at once. Default: 10. From 1 to 1,000.</summary>
    public int Concurrency { get; set; } = 10;

    /// <summary>How many fetched jobs may wait in the local buffer (their leases run while they wait; a waiting job whose lease is due is renewed before it starts). Default: <see langword="null"/>, which is twice <see cref="Concurrency"/> (at most 1,000).</summary>
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

    internal int EffectivePrefetch => Prefetch ?? Math.Clamp(Concurrency * 2, 1, JobQueueOptions.MaxBatchSize);

    internal TimeSpan EffectiveRenewInterval => RenewInterval ?? LeaseDuration / 3;

    internal TimeSpan EffectiveStallThreshold => StallThreshold ?? TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, PollInterval.Ticks * 3));

    /// <summary>Checks every option.</summary>
    /// <returns>The problems, each naming the option; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        try
        {
            QueueNames.ThrowIfInvalid(QueueName, nameof(QueueName));
        }
        catch (ArgumentException ex)
        {
            problems.Add($"JobWorkerOptions.QueueName: {ex.Message}");
        }

        if (Concurrency is < 1 or > 1000)
        {
            problems.Add($"JobWorkerOptions.Concurrency must be from 1 to 1000, was {Concurrency}.");
        }

        if (Prefetch is < 1 or > JobQueueOptions.MaxBatchSize)
        {
            problems.Add($"JobWorkerOptions.Prefetch must be from 1 to {JobQueueOptions.MaxBatchSize}, was {Prefetch}.");
        }

        if (LeaseDuration < TimeSpan.FromSeconds(1) || LeaseDuration > JobQueueOptions.MaxLeaseDuration)
        {
            problems.Add($"JobWorkerOptions.LeaseDuration must be from 1 second to 1 day, was {LeaseDuration}.");
        }

        if (RenewInterval is { } renew && (renew <= TimeSpan.Zero || renew >= LeaseDuration))
        {
            problems.Add($"JobWorkerOptions.RenewInterval must be more than zero and less than LeaseDuration ({LeaseDuration}), was {renew}.");
        }

        if (JobTimeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            problems.Add($"JobWorkerOptions.JobTimeout must be more than zero when set, was {timeout}.");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromMinutes(1))
        {
            problems.Add($"JobWorkerOptions.PollInterval must be from 10 ms to 1 minute, was {PollInterval}.");
        }

        if (StatusInterval < TimeSpan.FromMilliseconds(100) || StatusInterval > TimeSpan.FromHours(1))
        {
            problems.Add($"JobWorkerOptions.StatusInterval must be from 100 ms to 1 hour, was {StatusInterval}.");
        }

        if (Backoff is null)
        {
            problems.Add("JobWorkerOptions.Backoff cannot be null.");
        }

        if (StallThreshold is { } stall && stall <= PollInterval)
        {
            problems.Add($"JobWorkerOptions.StallThreshold must be longer than PollInterval ({PollInterval}), was {stall}.");
        }

        return problems;
    }

    internal JobWorkerOptions Copy() => (JobWorkerOptions)MemberwiseClone();
}
