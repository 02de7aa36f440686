namespace ResilientQueue.Concurrency;

/// <summary>How an <see cref="AdaptiveConcurrencyLimiter"/> moves its limit after each window of successful samples. Drops are handled the same way by both (see <see cref="AdaptiveConcurrencyLimiterOptions.BackoffRatio"/>).</summary>
public enum ConcurrencyLimitAlgorithm
{
    /// <summary>Additive increase, multiplicative decrease: one more permit per window while the limiter is busy; the limit shrinks only on drops.</summary>
    Aimd = 0,

    /// <summary>Latency gradient (Netflix Gradient2 style): compares the window's average latency with a long-term average and shrinks when latency climbs past the tolerance, grows by the headroom when it does not.</summary>
    Gradient = 1,
}
