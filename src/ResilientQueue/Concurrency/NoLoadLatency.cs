namespace ResilientQueue.Concurrency;

/// <summary>
/// The downstream's latency without queueing, which <see cref="ConcurrencyLimitAlgorithm.Vegas"/> and AIMD's latency
/// signal compare each window's average with. It is measured by <b>probes</b>: the limit drops to three quarters of the
/// estimated capacity, so the downstream's queue drains, and the average latency of calls started during the probe is
/// the value. An average of calls, like the windows it is compared with, and never a minimum: a minimum of noisy
/// samples lies below their average, and the algorithms would read that gap as a queue and shrink for nothing.
/// </summary>
/// <remarks>
/// <para>
/// The first window starts a probe at once (before the algorithm moves the limit), since the initial limit may already
/// be past the capacity. A probe step whose average is more than 10 % below the one before (for the first probe, always)
/// shows that the queue had not drained: the probe goes on at half its limit, down to
/// <see cref="AdaptiveConcurrencyLimiterOptions.MinLimit"/>. When the probe ends, the limit is what it was; after the
/// first probe, and after one that a window twice as slow as the value started, it is the capacity that window implies
/// with the value just measured, if that is lower (its latency was mostly queueing).
/// </para>
/// <para>
/// A probe runs again after <see cref="AdaptiveConcurrencyLimiterOptions.ProbeInterval"/> busy windows that saw
/// queueing (windows within 5 % of the value, and app-limited ones, do not count: they confirm it); at once when a window
/// is more than twice as slow as the value (half of what is in flight would be queued: either the capacity fell, and the
/// probe cuts the limit to it in one step, or the downstream itself became slower, and the probe measures that); when the
/// limit has halved since the last probe and windows still queue (cutting the limit did not cut the latency: the
/// downstream itself became slower, by less than twice); when a window is more than 15 % faster (the downstream became faster; at most once a tenth of the interval); and after a
/// tenth of the interval after the first probe (it ran while the client warmed up) and when a probe moved the value by
/// more than 20 % (confirming a real change, or undoing a probe that a hiccup slowed). Not thread-safe: the limiter calls it under its lock.
/// </para>
/// </remarks>
internal sealed class NoLoadLatency(int probeInterval, int minLimit)
{
    /// <summary>The probe's limit, as a share of the estimated capacity: low enough to drain a queue of a third of it.</summary>
    private const double ProbeShare = 0.75;

    /// <summary>A window whose average is within this factor of the value saw no queue: it confirms the value.</summary>
    private const double Unqueued = 1.05;

    /// <summary>A window slower than this factor of the value has half its calls queued (or the value is stale): probe now.</summary>
    private const double Overloaded = 2;

    /// <summary>A window faster than this share of the value shows the downstream became faster: probe.</summary>
    private const double Faster = 0.85;

    /// <summary>A probe step faster than this share of the one before shows the queue had not drained: probe deeper.</summary>
    private const double Deeper = 0.9;

    /// <summary>A probe that moves the value by more than this factor is checked again soon.</summary>
    private const double Moved = 1.2;

    /// <summary>The fewest samples a probe step averages.</summary>
    private const int MinSamples = 8;

    /// <summary>How many times a probe may halve its limit.</summary>
    private const int MaxDepth = 6;

    private double _seconds;
    private int _windowsSinceProbe;
    private int _queuedWindows;
    private int _probeDue;
    private bool _probing;
    private bool _settling;
    private long _probeStart;
    private int _probeLimit;
    private int _probeSamples;
    private double _probeSum;
    private int _depth;
    private double _previousStep;
    private double _savedLimit;
    private double _triggerAverage;
    private double _limitAfterProbe;
    private bool _cut;

    /// <summary>The no-load latency in seconds; 0 until the first probe has ended.</summary>
    public double Seconds => _seconds;

    /// <summary>Whether a probe is running (the limiter's windows pause meanwhile).</summary>
    public bool Probing => _probing;

    /// <summary>Takes a window's average latency.</summary>
    /// <param name="limit">The limit during the window.</param>
    /// <param name="averageSeconds">The window's average latency.</param>
    /// <param name="appLimited">Whether the window was app-limited.</param>
    /// <param name="probe">Whether a probe should start now (<see cref="BeginProbe"/>).</param>
    /// <returns>
    /// Whether the algorithm may move the limit by this window: not when it starts a probe, not before the first probe
    /// has ended, nor for the first window after a probe (it started with the downstream's queue drained, so it would
    /// look as if there were room).
    /// </returns>
    public bool OnWindow(double limit, double averageSeconds, bool appLimited, out bool probe)
    {
        if (_seconds <= 0)
        {
            probe = true;
            _cut = true; // the initial limit may be far past the capacity
            return false;
        }

        if (_settling)
        {
            _settling = false;
            probe = false;
            return false;
        }

        _windowsSinceProbe++;
        bool queued = !appLimited && averageSeconds > Unqueued * _seconds;
        if (queued)
        {
            _queuedWindows++; // only windows that queued count towards the next probe; the others confirm the value
        }

        _cut = averageSeconds > Overloaded * _seconds;
        probe = _cut
            || (queued && limit < _limitAfterProbe / 2)
            || (averageSeconds < Faster * _seconds && _windowsSinceProbe >= Math.Max(1, probeInterval / 10))
            || _queuedWindows >= _probeDue;
        return !probe;
    }

    /// <summary>Starts a probe; returns the limit to hold while it runs.</summary>
    /// <param name="limit">The current limit, restored when the probe ends (or lowered to the capacity the probe implies).</param>
    /// <param name="windowAverage">The average latency of the window that started the probe.</param>
    /// <param name="now">The limiter's timestamp: only calls acquired from now on are the probe's samples.</param>
    public int BeginProbe(double limit, double windowAverage, long now)
    {
        _probing = true;
        _savedLimit = limit;
        _triggerAverage = windowAverage;
        _depth = 0;
        _previousStep = _seconds > 0 ? _seconds : double.MaxValue; // the first probe always goes one step deeper
        return Restart(Math.Max(minLimit, (int)Math.Floor(ProbeShare * Capacity(limit, _seconds, windowAverage))), now);
    }

    /// <summary>Whether a call acquired at <paramref name="startTimestamp"/> is a sample of the running probe.</summary>
    public bool IsProbeSample(long startTimestamp) => _probing && startTimestamp >= _probeStart;

    /// <summary>Takes one of the probe's samples.</summary>
    /// <returns>
    /// <see langword="null"/> while the probe goes on with the same limit; otherwise the limit to set: a lower probe limit
    /// (the probe goes deeper), or, when it has ended (<see cref="Probing"/> is then <see langword="false"/>), the limit to
    /// go on with.
    /// </returns>
    public double? OnProbeSample(double latencySeconds, long now)
    {
        _probeSum += latencySeconds;
        if (++_probeSamples < Math.Max(MinSamples, 2 * _probeLimit))
        {
            return null;
        }

        double average = _probeSum / _probeSamples;
        bool stillQueued = average < Deeper * _previousStep;
        _previousStep = average;
        if (stillQueued && _probeLimit > minLimit && _depth < MaxDepth)
        {
            _depth++;
            return Restart(Math.Max(minLimit, _probeLimit / 2), now);
        }

        // Confirmed soon: a value that moved, and the first one (it was measured while the client warmed up, JIT and new
        // connections, which add to every call's latency: an estimate several per cent high lets the limit sit as far
        // above C until the next probe).
        bool confirmSoon = _seconds <= 0 || average > Moved * _seconds || _seconds > Moved * average;
        _seconds = average;
        _windowsSinceProbe = 0;
        _queuedWindows = 0;
        _probeDue = confirmSoon ? Math.Max(1, probeInterval / 10) : probeInterval;
        _probing = false;
        _settling = true;

        // After a window twice as slow: the capacity it implies, with the value just measured (below the saved limit when
        // that latency was mostly queueing, the saved limit when the downstream itself slowed). After other probes the
        // saved limit: their triggering windows are picked for being slow, and cutting by them would ratchet it down.
        _limitAfterProbe = _cut
            ? Math.Clamp(Capacity(_savedLimit, average, _triggerAverage), _probeLimit, Math.Max(_probeLimit, _savedLimit))
            : Math.Max(_probeLimit, _savedLimit);
        return _limitAfterProbe;
    }

    /// <summary>Ends a probe without a result (one of its calls dropped); returns the saved limit. The next busy window probes again.</summary>
    public double Abort()
    {
        _probing = false;
        _probeDue = _queuedWindows + 1;
        return _savedLimit;
    }

    /// <summary>The capacity a window implies: the limit scaled by the share of the window's latency that was not queueing.</summary>
    private static double Capacity(double limit, double noLoadSeconds, double windowAverage) =>
        noLoadSeconds > 0 && windowAverage > 0 ? limit * Math.Min(1, noLoadSeconds / windowAverage) : limit;

    private int Restart(int probeLimit, long now)
    {
        _probeLimit = probeLimit;
        _probeStart = now;
        _probeSamples = 0;
        _probeSum = 0;
        return probeLimit;
    }
}
