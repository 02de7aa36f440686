namespace ResilientQueue.Concurrency;

/// <summary>How an <see cref="AdaptiveConcurrencyLimiter"/> moves its limit after each window of successful samples. Drops are handled the same way by both (see <see cref="AdaptiveConcurrencyLimiterOptions.BackoffRatio"/>).</summary>
public enum ConcurrencyLimitAlgorithm
{
    /// <summary>
    /// Additive increase, multiplicative decrease: one more permit per window while the limiter is busy; the limit shrinks
    /// on drops and, with <see cref="AdaptiveConcurrencyLimiterOptions.LatencyThreshold"/> (on by default), on windows
    /// slower than that multiple of the no-load latency. A sawtooth just under where latency (or errors) start to climb.
    /// </summary>
    Aimd = 0,

    /// <summary>Latency gradient (Netflix Gradient2 style): compares the window's average latency with a long-term average and shrinks when latency climbs past the tolerance, grows by the headroom when it does not.</summary>
    Gradient = 1,

    /// <summary>
    /// Delay-based (TCP Vegas / FAST TCP style): estimates the downstream's capacity from how much of the latency is
    /// queueing against the measured no-load latency, and holds the limit at that capacity plus
    /// <see cref="AdaptiveConcurrencyLimiterOptions.QueueAllowance"/>. Finds the capacity of a queueing downstream most closely.
    /// </summary>
    Vegas = 2,
}
