using System.Threading.RateLimiting;

namespace ResilientQueue.Concurrency;

/// <summary>
/// Permits held from an <see cref="AdaptiveConcurrencyLimiter"/>. Tell it how the call went with <see cref="Record(ConcurrencyOutcome)"/>
/// before disposing it; disposing frees the permits and feeds the outcome to the limiter. A lease disposed without an
/// outcome counts as <see cref="ConcurrencyOutcome.Success"/> with the time since it was acquired as its latency (so the
/// limiter also adapts, by latency, where the caller cannot report outcomes, e.g. in Polly or ASP.NET Core).
/// </summary>
public sealed class AdaptiveConcurrencyLease : RateLimitLease
{
    private readonly AdaptiveConcurrencyLimiter _limiter;
    private int _outcome = -1;
    private long _latencyTicks = -1;
    private int _disposed;

    internal AdaptiveConcurrencyLease(AdaptiveConcurrencyLimiter limiter, int permitCount, long startTimestamp, long epoch)
    {
        _limiter = limiter;
        PermitCount = permitCount;
        StartTimestamp = startTimestamp;
        Epoch = epoch;
    }

    /// <summary>Always <see langword="true"/>: a rejected request gets a different lease.</summary>
    public override bool IsAcquired => true;

    /// <summary>An acquired lease carries no metadata.</summary>
    public override IEnumerable<string> MetadataNames => [];

    internal int PermitCount { get; }

    internal long StartTimestamp { get; }

    internal long Epoch { get; }

    internal ConcurrencyOutcome? Outcome => Volatile.Read(ref _outcome) is var o and >= 0 ? (ConcurrencyOutcome)o : null;

    internal TimeSpan? Latency => Interlocked.Read(ref _latencyTicks) is var t and >= 0 ? TimeSpan.FromTicks(t) : null;

    /// <summary>Always <see langword="false"/>: an acquired lease carries no metadata.</summary>
    /// <param name="metadataName">The metadata's name.</param>
    /// <param name="metadata">Always <see langword="null"/>.</param>
    /// <returns><see langword="false"/>.</returns>
    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = null;
        return false;
    }

    /// <summary>Records how the call went; the latency is the time since the lease was acquired. The last record before disposal counts; records after it are ignored.</summary>
    /// <param name="outcome">The outcome.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outcome"/> is not a defined value.</exception>
    public void Record(ConcurrencyOutcome outcome)
    {
        if (!Enum.IsDefined(outcome))
        {
            throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Must be Success, Drop or Ignore.");
        }

        Volatile.Write(ref _outcome, (int)outcome);
    }

    /// <summary>Records how the call went with a latency the caller measured (e.g. the downstream call alone). The last record before disposal counts.</summary>
    /// <param name="outcome">The outcome.</param>
    /// <param name="latency">The call's latency; not negative.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outcome"/> is not a defined value, or <paramref name="latency"/> is negative.</exception>
    public void Record(ConcurrencyOutcome outcome, TimeSpan latency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        Record(outcome);
        Interlocked.Exchange(ref _latencyTicks, latency.Ticks);
    }

    /// <summary>Frees the permits and feeds the outcome to the limiter (once; later calls do nothing).</summary>
    /// <param name="disposing">Whether this is a dispose call.</param>
    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _limiter.Release(this);
        }
    }
}

/// <summary>A lease that holds nothing: a granted zero-permit request, or a rejection with its metadata.</summary>
internal sealed class FixedLease : RateLimitLease
{
    public static readonly FixedLease Granted = new(true, null, null);

    private readonly string? _reason;
    private readonly TimeSpan? _retryAfter;

    public FixedLease(bool acquired, string? reason, TimeSpan? retryAfter)
    {
        IsAcquired = acquired;
        _reason = reason;
        _retryAfter = retryAfter;
    }

    public override bool IsAcquired { get; }

    public override IEnumerable<string> MetadataNames
    {
        get
        {
            if (_reason is not null)
            {
                yield return MetadataName.ReasonPhrase.Name;
            }

            if (_retryAfter is not null)
            {
                yield return MetadataName.RetryAfter.Name;
            }
        }
    }

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        if (_reason is not null && metadataName == MetadataName.ReasonPhrase.Name)
        {
            metadata = _reason;
            return true;
        }

        if (_retryAfter is { } retryAfter && metadataName == MetadataName.RetryAfter.Name)
        {
            metadata = retryAfter;
            return true;
        }

        metadata = null;
        return false;
    }
}
