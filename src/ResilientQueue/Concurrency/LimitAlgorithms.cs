namespace ResilientQueue.Concurrency;

/// <summary>What one window of successful samples saw.</summary>
/// <param name="AverageLatencySeconds">The mean latency of the window's samples.</param>
/// <param name="AppLimited">Whether the limiter was never at least half busy during the window (no growth then).</param>
internal readonly record struct LimitWindow(double AverageLatencySeconds, bool AppLimited);

/// <summary>Moves a limit after a window of successful samples. Called under the limiter's lock.</summary>
internal abstract class LimitAlgorithm
{
    public static LimitAlgorithm Create(AdaptiveConcurrencyLimiterOptions options) => options.Algorithm switch
    {
        ConcurrencyLimitAlgorithm.Gradient => new GradientLimitAlgorithm(options),
        _ => new AimdLimitAlgorithm(),
    };

    /// <summary>The new (unclamped) limit.</summary>
    public abstract double OnWindow(double limit, LimitWindow window);
}

/// <summary>Additive increase: one permit per busy window.</summary>
internal sealed class AimdLimitAlgorithm : LimitAlgorithm
{
    public override double OnWindow(double limit, LimitWindow window) => window.AppLimited ? limit : limit + 1;
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

    public override double OnWindow(double limit, LimitWindow window)
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
        return window.AppLimited ? Math.Min(limit, next) : next;
    }
}
