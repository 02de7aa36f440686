namespace ResilientQueue.Concurrency;

/// <summary>What one window of successful samples saw.</summary>
/// <param name="AverageLatencySeconds">The mean latency of the window's samples.</param>
/// <param name="AppLimited">Whether the limiter was never at least half busy during the window (no growth then).</param>
/// <param name="NoLoadLatencySeconds">The downstream's latency without queueing (<see cref="NoLoadLatency"/>); 0 when the algorithm does not use it.</param>
internal readonly record struct LimitWindow(double AverageLatencySeconds, bool AppLimited, double NoLoadLatencySeconds = 0);

/// <summary>How an algorithm moved the limit after a window.</summary>
/// <param name="Limit">The new (unclamped) limit.</param>
/// <param name="Congested">Whether the window counts as a drop: a congestion event, after which only calls started later are windows' samples and drops of earlier calls do not shrink the limit again.</param>
internal readonly record struct LimitStep(double Limit, bool Congested = false);

/// <summary>Moves a limit after a window of successful samples. Called under the limiter's lock.</summary>
internal abstract class LimitAlgorithm
{
    /// <summary>Whether the limiter should measure the no-load latency (<see cref="NoLoadLatency"/>, with its probes) for it.</summary>
    public virtual bool UsesNoLoadLatency => false;

    public static LimitAlgorithm Create(AdaptiveConcurrencyLimiterOptions options) => options.Algorithm switch
    {
        ConcurrencyLimitAlgorithm.Gradient => new GradientLimitAlgorithm(options),
        ConcurrencyLimitAlgorithm.Vegas => new VegasLimitAlgorithm(options),
        _ => new AimdLimitAlgorithm(options),
    };

    /// <summary>The new limit after a window.</summary>
    public abstract LimitStep OnWindow(double limit, LimitWindow window);

    /// <summary>A congestion event (a drop, or a window the algorithm found congested) has just shrunk the limit.</summary>
    public virtual void OnCongestion()
    {
    }
}

/// <summary>
/// Additive increase: one permit per busy window. With <see cref="AdaptiveConcurrencyLimiterOptions.LatencyThreshold"/>, a
/// window whose average latency is over that multiple of the no-load latency is a drop: the limit is multiplied by
/// <see cref="AdaptiveConcurrencyLimiterOptions.BackoffRatio"/>, once per congestion event.
/// </summary>
internal sealed class AimdLimitAlgorithm(AdaptiveConcurrencyLimiterOptions options) : LimitAlgorithm
{
    private readonly double? _threshold = options.LatencyThreshold;
    private readonly double _backoffRatio = options.BackoffRatio;

    public override bool UsesNoLoadLatency => _threshold is not null;

    public override LimitStep OnWindow(double limit, LimitWindow window)
    {
        if (_threshold is { } threshold && window.NoLoadLatencySeconds > 0 && window.AverageLatencySeconds > threshold * window.NoLoadLatencySeconds)
        {
            return new(limit * _backoffRatio, Congested: true);
        }

        return new(window.AppLimited ? limit : limit + 1);
    }
}

/// <summary>
/// Delay-based, after TCP Vegas as Netflix's concurrency-limits applies it, with FAST TCP's update: the share of the
/// window's latency that is not queueing (no-load / average) scaled by the limit estimates the downstream's capacity;
/// the target is that capacity plus <see cref="AdaptiveConcurrencyLimiterOptions.QueueAllowance"/> of it (at least one
/// call) waiting, so the downstream never idles; the limit moves <see cref="AdaptiveConcurrencyLimiterOptions.Smoothing"/>
/// of the way there each window, down by at most half. While the target stays above the limit window after window (less
/// than the allowance queues: the capacity is not known yet, only that it is larger), the step up doubles each time, up
/// to the limit itself: the limit grows geometrically until queueing shows, and creeps after a single quiet window. A
/// window at or over the target, or a drop, ends the doubling.
/// </summary>
internal sealed class VegasLimitAlgorithm(AdaptiveConcurrencyLimiterOptions options) : LimitAlgorithm
{
    private readonly double _allowance = options.QueueAllowance;
    private readonly double _smoothing = options.Smoothing;
    private int _rising;

    public override bool UsesNoLoadLatency => true;

    public override void OnCongestion() => _rising = 0;

    public override LimitStep OnWindow(double limit, LimitWindow window)
    {
        double noLoad = window.NoLoadLatencySeconds;
        double average = window.AverageLatencySeconds;
        if (noLoad <= 0 || average <= 0)
        {
            return new(limit);
        }

        double capacity = limit * Math.Min(1, noLoad / average);
        double target = Math.Max(capacity + Math.Max(1, _allowance * capacity), limit / 2);
        if (target > limit && !window.AppLimited)
        {
            _rising = Math.Min(_rising + 1, 30);
            target = Math.Min(limit + ((target - limit) * Math.Pow(2, _rising - 1)), 2 * limit);
        }
        else
        {
            _rising = 0;
        }

        double next = limit + (_smoothing * (target - limit));
        return new(window.AppLimited ? Math.Min(limit, next) : next);
    }
}

/// <summary>
/// The latency gradient of Netflix's Gradient2: gradient = clamp(tolerance × long / short, 0.5, 1); estimate = limit ×
/// gradient + headroom; limit = limit × (1 − smoothing) + estimate × smoothing. The long-term latency is an exponential
/// average over <see cref="AdaptiveConcurrencyLimiterOptions.LongWindow"/> windows (a plain average over the first ten),
/// pulled down faster when it is over twice the short-term latency (load has gone and latency recovered).
/// </summary>
internal sealed class GradientLimitAlgorithm(AdaptiveConcurrencyLimiterOptions options) : LimitAlgorithm
{
    private const int Warmup = 10;
    private readonly double _tolerance = options.Tolerance;
    private readonly double _smoothing = options.Smoothing;
    private readonly double _headroom = options.Headroom;
    private readonly double _factor = 2.0 / (options.LongWindow + 1);
    private double _long;
    private int _windows;

    /// <summary>The long-term average latency in seconds (0 before the first window).</summary>
    public double LongLatencySeconds => _long;

    public override LimitStep OnWindow(double limit, LimitWindow window)
    {
        double shortRtt = window.AverageLatencySeconds;
        if (_windows < Warmup)
        {
            _windows++;
            _long += (shortRtt - _long) / _windows;
        }
        else
        {
            // A window slower than the tolerance allows is congestion we may be causing: it moves the baseline ten
            // times more slowly, so sustained queueing does not become the new normal within one long window (plain
            // Gradient2 drifts upward there until something times out). A real shift in latency still gets through.
            double factor = shortRtt > _tolerance * _long ? _factor / 10 : _factor;
            _long = (_long * (1 - factor)) + (shortRtt * factor);
        }

        if (shortRtt > 0 && _long / shortRtt > 2)
        {
            _long *= 0.95;
        }

        double gradient = shortRtt <= 0 ? 1 : Math.Clamp(_tolerance * _long / shortRtt, 0.5, 1.0);
        double estimate = (limit * gradient) + _headroom;
        double next = (limit * (1 - _smoothing)) + (estimate * _smoothing);
        return new(window.AppLimited ? Math.Min(limit, next) : next);
    }
}
