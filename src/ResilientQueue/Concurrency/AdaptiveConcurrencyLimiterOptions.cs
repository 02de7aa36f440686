using System.Threading.RateLimiting;

namespace ResilientQueue.Concurrency;

/// <summary>
/// Options of an <see cref="AdaptiveConcurrencyLimiter"/>. The limiter validates and copies them when it is created, so later
/// changes do not reach it.
/// </summary>
public sealed class AdaptiveConcurrencyLimiterOptions
{
    /// <summary>The limit the limiter starts with. Default: 10. From <see cref="MinLimit"/> to <see cref="MaxLimit"/>.</summary>
    public int InitialLimit { get; set; } = 10;

    /// <summary>The limit never goes below this. Default: 1. At least 1.</summary>
    public int MinLimit { get; set; } = 1;

    /// <summary>The limit never goes above this. Default: 100. From <see cref="MinLimit"/> to 10,000.</summary>
    public int MaxLimit { get; set; } = 100;

    /// <summary>How many permits may wait in <see cref="RateLimiter.AcquireAsync"/> when none are free; further requests are rejected. Default: 0 (no waiting). From 0 to 1,000,000.</summary>
    public int QueueLimit { get; set; }

    /// <summary>Which waiting request is served first, and which is rejected when the queue is full (as for <see cref="ConcurrencyLimiterOptions"/>). Default: <see cref="QueueProcessingOrder.OldestFirst"/>.</summary>
    public QueueProcessingOrder QueueProcessingOrder { get; set; } = QueueProcessingOrder.OldestFirst;

    /// <summary>How the limit moves after each window of successful samples. Default: <see cref="ConcurrencyLimitAlgorithm.Aimd"/>.</summary>
    public ConcurrencyLimitAlgorithm Algorithm { get; set; } = ConcurrencyLimitAlgorithm.Aimd;

    /// <summary>
    /// What a drop multiplies the limit by, with either algorithm. Drops of calls that started before the last decrease
    /// do not shrink it again, so one burst of failures is one decrease per round trip, not one per call. Default: 0.9.
    /// From 0.5 to 0.99.
    /// </summary>
    public double BackoffRatio { get; set; } = 0.9;

    /// <summary>
    /// <see cref="ConcurrencyLimitAlgorithm.Gradient"/> only: how much slower than the long-term average a window may be
    /// before the limit shrinks. 1.5 tolerates 50 % more latency; a queueing downstream then settles near 1.5 times its
    /// capacity, 1.2 near 1.2 times. Default: 1.5. From 1 to 10.
    /// </summary>
    public double Tolerance { get; set; } = 1.5;

    /// <summary><see cref="ConcurrencyLimitAlgorithm.Gradient"/> and <see cref="ConcurrencyLimitAlgorithm.Vegas"/>: how much of each new estimate the limit takes (the rest is the old limit). Default: 0.2. More than 0, at most 1.</summary>
    public double Smoothing { get; set; } = 0.2;

    /// <summary><see cref="ConcurrencyLimitAlgorithm.Gradient"/> only: how many windows the long-term latency average spans. Default: 600. From 10 to 100,000.</summary>
    public int LongWindow { get; set; } = 600;

    /// <summary><see cref="ConcurrencyLimitAlgorithm.Gradient"/> only: the queue-size headroom added to the estimate each window, so the limit probes upward while latency holds. Default: 4. From 0 to 1,000.</summary>
    public double Headroom { get; set; } = 4;

    /// <summary>
    /// <see cref="ConcurrencyLimitAlgorithm.Aimd"/> only: a window whose average latency is more than this many times the
    /// no-load latency (measured, see <see cref="ProbeInterval"/>) counts as a drop, so the limit stops growing where
    /// queueing starts rather than where errors start. A downstream with capacity C then holds between about
    /// <see cref="BackoffRatio"/> × threshold × C and threshold × C. <see langword="null"/> turns the latency signal off
    /// (AIMD reacts to drops alone). Default: 1.1. <see langword="null"/>, or from 1.05 to 100.
    /// </summary>
    public double? LatencyThreshold { get; set; } = 1.1;

    /// <summary>
    /// <see cref="ConcurrencyLimitAlgorithm.Vegas"/> only: how many calls may wait at the downstream beyond its estimated
    /// capacity, as a share of that capacity (at least one call), so it never runs out of work between calls. A
    /// downstream with capacity C settles near C × (1 + allowance), or C + 1, whichever is more; its latency stays about
    /// that much above its no-load latency. Default: 0.1. From 0 to 10.
    /// </summary>
    public double QueueAllowance { get; set; } = 0.1;

    /// <summary>
    /// <see cref="ConcurrencyLimitAlgorithm.Vegas"/>, and <see cref="ConcurrencyLimitAlgorithm.Aimd"/> with a
    /// <see cref="LatencyThreshold"/>: how many busy windows that saw queueing pass between probes of the no-load latency
    /// (windows without a queue confirm it and do not count). A probe lowers the limit to three quarters of the
    /// estimated capacity for two or three round trips, so the downstream's queue drains, and measures its latency
    /// again; it costs about 0.5 / interval of the throughput. A window twice as slow as the no-load latency (the
    /// capacity fell, or the downstream became slower), a limit halved since the last probe, and a much faster window
    /// start a probe early; the first window starts one at once. Default: 100. From 10 to 100,000.
    /// </summary>
    public int ProbeInterval { get; set; } = 100;

    /// <summary>
    /// The name under which the limiter reports its metrics (<c>resilientqueue.concurrency.*</c>, tag
    /// <c>resilientqueue.limiter</c>); limiters sharing a name are summed. Default: <see langword="null"/>, no metrics.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>Checks every option and throws for the first that is out of range.</summary>
    /// <exception cref="InvalidOptionsException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        foreach ((string option, string message) in Problems())
        {
            throw new InvalidOptionsException(option, message);
        }
    }

    internal IEnumerable<(string Option, string Message)> Problems()
    {
        const string P = "AdaptiveConcurrencyLimiterOptions.";
        if (MinLimit < 1)
        {
            yield return (P + nameof(MinLimit), $"must be at least 1, was {MinLimit}.");
        }

        if (MaxLimit < Math.Max(1, MinLimit) || MaxLimit > 10_000)
        {
            yield return (P + nameof(MaxLimit), $"must be from MinLimit ({MinLimit}) to 10000, was {MaxLimit}.");
        }

        if (InitialLimit < MinLimit || InitialLimit > MaxLimit)
        {
            yield return (P + nameof(InitialLimit), $"must be from MinLimit ({MinLimit}) to MaxLimit ({MaxLimit}), was {InitialLimit}.");
        }

        if (QueueLimit is < 0 or > 1_000_000)
        {
            yield return (P + nameof(QueueLimit), $"must be from 0 to 1000000, was {QueueLimit}.");
        }

        if (!Enum.IsDefined(QueueProcessingOrder))
        {
            yield return (P + nameof(QueueProcessingOrder), $"must be OldestFirst or NewestFirst, was {(int)QueueProcessingOrder}.");
        }

        if (!Enum.IsDefined(Algorithm))
        {
            yield return (P + nameof(Algorithm), $"must be Aimd, Gradient or Vegas, was {(int)Algorithm}.");
        }

        if (!(BackoffRatio >= 0.5 && BackoffRatio <= 0.99))
        {
            yield return (P + nameof(BackoffRatio), $"must be from 0.5 to 0.99, was {BackoffRatio}.");
        }

        if (!(Tolerance >= 1 && Tolerance <= 10))
        {
            yield return (P + nameof(Tolerance), $"must be from 1 to 10, was {Tolerance}.");
        }

        if (!(Smoothing > 0 && Smoothing <= 1))
        {
            yield return (P + nameof(Smoothing), $"must be more than 0 and at most 1, was {Smoothing}.");
        }

        if (LongWindow is < 10 or > 100_000)
        {
            yield return (P + nameof(LongWindow), $"must be from 10 to 100000, was {LongWindow}.");
        }

        if (!(Headroom >= 0 && Headroom <= 1000))
        {
            yield return (P + nameof(Headroom), $"must be from 0 to 1000, was {Headroom}.");
        }

        if (LatencyThreshold is { } threshold && !(threshold >= 1.05 && threshold <= 100))
        {
            yield return (P + nameof(LatencyThreshold), $"must be null or from 1.05 to 100, was {threshold}.");
        }

        if (!(QueueAllowance >= 0 && QueueAllowance <= 10))
        {
            yield return (P + nameof(QueueAllowance), $"must be from 0 to 10, was {QueueAllowance}.");
        }

        if (ProbeInterval is < 10 or > 100_000)
        {
            yield return (P + nameof(ProbeInterval), $"must be from 10 to 100000, was {ProbeInterval}.");
        }

        if (Name is { Length: 0 or > 200 })
        {
            yield return (P + nameof(Name), $"must be null or 1 to 200 characters, was {Name.Length} characters.");
        }
    }

    internal AdaptiveConcurrencyLimiterOptions ValidatedCopy()
    {
        Validate();
        return (AdaptiveConcurrencyLimiterOptions)MemberwiseClone();
    }
}
