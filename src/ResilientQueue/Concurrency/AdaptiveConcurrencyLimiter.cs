using System.Threading.RateLimiting;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Concurrency;

/// <summary>
/// A concurrency limiter whose limit adapts, between <see cref="AdaptiveConcurrencyLimiterOptions.MinLimit"/> and
/// <see cref="AdaptiveConcurrencyLimiterOptions.MaxLimit"/>, to the health of what the calls it guards depend on. Each
/// lease reports a success with its latency or a drop (timeout, 429/503, transient error; see
/// <see cref="AdaptiveConcurrencyLease.Record(ConcurrencyOutcome)"/>). Successes are gathered in windows of about one
/// limit's worth of samples (one round trip when busy); after each window the algorithm
/// (<see cref="ConcurrencyLimitAlgorithm"/>) moves the limit, but never up while the limiter was app-limited (fewer
/// than half the limit in flight throughout the window). A drop multiplies the limit by
/// <see cref="AdaptiveConcurrencyLimiterOptions.BackoffRatio"/> at once, once per congestion event: drops of calls
/// that started before the last decrease do not shrink it again. <see cref="ConcurrencyLimitAlgorithm.Vegas"/> and
/// AIMD's <see cref="AdaptiveConcurrencyLimiterOptions.LatencyThreshold"/> compare windows with the downstream's
/// no-load latency, which the limiter measures with short probes at a lower limit (see
/// <see cref="AdaptiveConcurrencyLimiterOptions.ProbeInterval"/>).
/// </summary>
/// <remarks>
/// Thread-safe. When the limit shrinks below the permits in use, nothing is taken back: new requests wait until enough
/// leases are disposed. A rejected request's lease has <see cref="RateLimitLease.IsAcquired"/> <see langword="false"/>
/// and carries <see cref="MetadataName.ReasonPhrase"/> and, once latencies are known, <see cref="MetadataName.RetryAfter"/>
/// (an estimate of when permits free). Works wherever a <see cref="RateLimiter"/> does (Polly, ASP.NET Core); use
/// <see cref="PartitionedRateLimiter.Create{TResource, TPartitionKey}(Func{TResource, RateLimitPartition{TPartitionKey}}, IEqualityComparer{TPartitionKey}?)"/>
/// with <see cref="RateLimitPartition.Get{TKey}"/> for a limiter per key (per host, per API key).
/// </remarks>
public sealed class AdaptiveConcurrencyLimiter : RateLimiter
{
    private const double LatencyEstimateWeight = 0.1;

    private readonly object _lock = new();
    private readonly AdaptiveConcurrencyLimiterOptions _options;
    private readonly LimitAlgorithm _algorithm;
    private readonly NoLoadLatency? _noLoad;
    private readonly TimeProvider _time;
    private readonly LinkedList<Waiter> _queue = new();
    private double _limit;
    private int _inFlight;
    private int _queuedPermits;
    private long _epoch;
    private int _windowSamples;
    private double _windowLatency;
    private bool _windowBusy;
    private long _windowStart;
    private double _latencyEstimate;
    private long _idleSince;
    private long _successfulLeases;
    private long _failedLeases;
    private long _drops;
    private bool _disposed;

    /// <summary>Creates a limiter.</summary>
    /// <param name="options">The options; validated and copied.</param>
    /// <param name="timeProvider">The clock that measures latencies and idle time; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOptionsException">An option is out of range; the message names it.</exception>
    public AdaptiveConcurrencyLimiter(AdaptiveConcurrencyLimiterOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.ValidatedCopy();
        _algorithm = LimitAlgorithm.Create(_options);
        _noLoad = _algorithm.UsesNoLoadLatency ? new NoLoadLatency(_options.ProbeInterval, _options.MinLimit) : null;
        _time = timeProvider ?? TimeProvider.System;
        _limit = _options.InitialLimit;
        _idleSince = _time.GetTimestamp();
        if (_options.Name is not null)
        {
            ResilientQueueTelemetry.Limiters.TryAdd(this, _options.Name);
        }
    }

    /// <summary>The current limit: how many permits may be in use at once.</summary>
    public int CurrentLimit
    {
        get
        {
            lock (_lock)
            {
                return PermitLimit;
            }
        }
    }

    /// <summary>How many permits are in use (may exceed <see cref="CurrentLimit"/> just after it shrank).</summary>
    public int InFlight
    {
        get
        {
            lock (_lock)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>How many drops the leases have reported, in all (including those that did not shrink the limit again).</summary>
    public long TotalDrops => Interlocked.Read(ref _drops);

    /// <summary>How long the limiter has had no permit in use and no request waiting; <see langword="null"/> while it has.</summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                return _inFlight > 0 || _queuedPermits > 0 || _queue.Count > 0 ? null : _time.GetElapsedTime(_idleSince);
            }
        }
    }

    private int PermitLimit => (int)Math.Floor(_limit + 1e-9);

    private int Available => Math.Max(0, PermitLimit - _inFlight);

    /// <summary>Reads the permits available and queued, and the totals of granted and rejected requests.</summary>
    /// <returns>The statistics.</returns>
    public override RateLimiterStatistics? GetStatistics()
    {
        lock (_lock)
        {
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = Available,
                CurrentQueuedCount = _queuedPermits,
                TotalFailedLeases = _failedLeases,
                TotalSuccessfulLeases = _successfulLeases,
            };
        }
    }

    /// <inheritdoc/>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ThrowIfOutOfRange(permitCount);
        long now = _time.GetTimestamp(); // read outside the lock: it is most of the cost of a short hold
        FixedLease rejected;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (TryLeaseLocked(permitCount, now) is { } lease)
            {
                return lease;
            }

            rejected = RejectLocked(permitCount);
        }

        return rejected;
    }

    /// <inheritdoc/>
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ThrowIfOutOfRange(permitCount);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<RateLimitLease>(cancellationToken);
        }

        List<Waiter>? evicted = null;
        Waiter waiter;
        long now = _time.GetTimestamp();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (TryLeaseLocked(permitCount, now) is { } lease)
            {
                return ValueTask.FromResult(lease);
            }

            if (permitCount > PermitLimit)
            {
                // It could not fit until the limit grows, and it would block every request queued behind it.
                return ValueTask.FromResult<RateLimitLease>(RejectLocked(permitCount));
            }

            if (_options.QueueLimit - _queuedPermits < permitCount)
            {
                if (_options.QueueProcessingOrder == QueueProcessingOrder.NewestFirst && permitCount <= _options.QueueLimit)
                {
                    evicted = [];
                    while (_options.QueueLimit - _queuedPermits < permitCount && _queue.First is { } oldest)
                    {
                        _queue.RemoveFirst();
                        _queuedPermits -= oldest.Value.PermitCount;
                        _failedLeases++;
                        evicted.Add(oldest.Value);
                    }
                }
                else
                {
                    return ValueTask.FromResult<RateLimitLease>(RejectLocked(permitCount));
                }
            }

            waiter = new Waiter(permitCount);
            waiter.Node = _queue.AddLast(waiter);
            _queuedPermits += permitCount;
            if (cancellationToken.CanBeCanceled)
            {
                waiter.Limiter = this;
                waiter.Registration = cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).Limiter!.Cancel((Waiter)state!, token), waiter);
            }
        }

        if (evicted is not null)
        {
            foreach (var old in evicted)
            {
                old.Registration.Dispose();
                old.Completion.TrySetResult(new FixedLease(false, "Evicted from the queue by a newer request (QueueProcessingOrder.NewestFirst).", null));
                ResilientQueueTelemetry.RecordLimiterRejection(_options.Name);
            }
        }

        return new ValueTask<RateLimitLease>(waiter.Completion.Task);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        List<Waiter> waiting;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            waiting = [.. _queue];
            _queue.Clear();
            _queuedPermits = 0;
        }

        ResilientQueueTelemetry.Limiters.TryRemove(this, out _);
        foreach (var waiter in waiting)
        {
            waiter.Registration.Dispose();
            waiter.Completion.TrySetResult(new FixedLease(false, "The limiter was disposed.", null));
        }
    }

    /// <inheritdoc/>
    protected override ValueTask DisposeAsyncCore()
    {
        Dispose(true);
        return ValueTask.CompletedTask;
    }

    internal void Release(AdaptiveConcurrencyLease lease)
    {
        var outcome = lease.Outcome ?? ConcurrencyOutcome.Success;
        long now = _time.GetTimestamp();
        double latency = (lease.Latency ?? _time.GetElapsedTime(lease.StartTimestamp, now)).TotalSeconds;
        List<(Waiter Waiter, RateLimitLease Lease)>? granted;
        bool dropped = false;
        lock (_lock)
        {
            _inFlight -= lease.PermitCount;
            switch (outcome)
            {
                case ConcurrencyOutcome.Drop:
                    dropped = true;
                    _drops++;
                    if (_noLoad is { Probing: true } && _noLoad.IsProbeSample(lease.StartTimestamp))
                    {
                        // Even at the probe's low limit: the downstream is failing, not queueing. Back to the limit
                        // the probe lowered, which the drop then shrinks. (A call from before the probe was stuck in
                        // the queue the probe is draining: it is counted, but the probe goes on.)
                        _limit = _noLoad.Abort();
                    }

                    if (lease.Epoch == _epoch)
                    {
                        CongestedLocked(_limit * _options.BackoffRatio, now);
                    }

                    break;
                case ConcurrencyOutcome.Success:
                    _latencyEstimate = _latencyEstimate == 0 ? latency : (_latencyEstimate * (1 - LatencyEstimateWeight)) + (latency * LatencyEstimateWeight);
                    if (_noLoad is { Probing: true })
                    {
                        ProbeSampleLocked(lease, latency, now);
                    }
                    else if (lease.StartTimestamp >= _windowStart)
                    {
                        // A call started before the last decrease or probe tells of the limit before it: not a sample.
                        WindowSampleLocked(latency, now);
                    }

                    break;
                default:
                    break;
            }

            granted = AfterChangeLocked(now);
        }

        if (dropped)
        {
            ResilientQueueTelemetry.RecordLimiterDrop(_options.Name);
        }

        Complete(granted);
    }

    private static void Complete(List<(Waiter Waiter, RateLimitLease Lease)>? granted)
    {
        if (granted is null)
        {
            return;
        }

        foreach ((Waiter waiter, RateLimitLease lease) in granted)
        {
            waiter.Registration.Dispose();
            if (!waiter.Completion.TrySetResult(lease))
            {
                lease.Dispose();
            }
        }
    }

    private void ThrowIfOutOfRange(int permitCount)
    {
        if (permitCount > _options.MaxLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount, $"Cannot be more than MaxLimit ({_options.MaxLimit}).");
        }
    }

    private RateLimitLease? TryLeaseLocked(int permitCount, long now)
    {
        bool noneWaiting = _queue.Count == 0 || _options.QueueProcessingOrder == QueueProcessingOrder.NewestFirst;
        if (permitCount == 0)
        {
            return Available > 0 ? FixedLease.Granted : null;
        }

        return noneWaiting && Available >= permitCount ? LeaseLocked(permitCount, now) : null;
    }

    private AdaptiveConcurrencyLease LeaseLocked(int permitCount, long now)
    {
        _inFlight += permitCount;
        _successfulLeases++;
        if (_inFlight * 2 >= PermitLimit)
        {
            _windowBusy = true;
        }

        return new AdaptiveConcurrencyLease(this, permitCount, now, _epoch);
    }

    private FixedLease RejectLocked(int permitCount)
    {
        _failedLeases++;
        ResilientQueueTelemetry.RecordLimiterRejection(_options.Name);
        string reason = $"Concurrency limit reached: {_inFlight} of {PermitLimit} permits in use and {_queuedPermits} of {_options.QueueLimit} queued; {permitCount} requested.";
        TimeSpan? retryAfter = null;
        if (_latencyEstimate > 0)
        {
            // Leases end about every latency / in-flight; this many must end before the request would fit.
            int mustEnd = Math.Max(1, _inFlight + _queuedPermits + permitCount - PermitLimit);
            double seconds = _latencyEstimate * mustEnd / Math.Max(1, _inFlight);
            retryAfter = TimeSpan.FromSeconds(Math.Clamp(seconds, 0.001, 3600));
        }

        return new FixedLease(false, reason, retryAfter);
    }

    /// <summary>After permits were freed, the limit moved or a waiter left: grant who fits now, and note when the limiter went idle.</summary>
    private List<(Waiter, RateLimitLease)>? AfterChangeLocked(long now)
    {
        var granted = _disposed ? null : GrantWaitersLocked(now);
        if (_inFlight == 0 && _queue.Count == 0)
        {
            _idleSince = now;
        }

        return granted;
    }

    private List<(Waiter, RateLimitLease)>? GrantWaitersLocked(long now)
    {
        List<(Waiter, RateLimitLease)>? granted = null;
        while (_queue.Count > 0)
        {
            var node = _options.QueueProcessingOrder == QueueProcessingOrder.OldestFirst ? _queue.First! : _queue.Last!;
            var waiter = node.Value;
            RateLimitLease lease;
            if (waiter.PermitCount > PermitLimit)
            {
                // The limit shrank below what it asks for: fail it rather than let it block the queue.
                _failedLeases++;
                ResilientQueueTelemetry.RecordLimiterRejection(_options.Name);
                lease = new FixedLease(false, $"The limit shrank to {PermitLimit}, below the {waiter.PermitCount} permits requested.", null);
            }
            else if (waiter.PermitCount == 0)
            {
                if (Available == 0)
                {
                    break;
                }

                lease = FixedLease.Granted;
            }
            else if (Available >= waiter.PermitCount)
            {
                lease = LeaseLocked(waiter.PermitCount, now);
            }
            else
            {
                break;
            }

            _queue.Remove(node);
            _queuedPermits -= waiter.PermitCount;
            (granted ??= []).Add((waiter, lease));
        }

        return granted;
    }

    private void Cancel(Waiter waiter, CancellationToken token)
    {
        List<(Waiter Waiter, RateLimitLease Lease)>? granted;
        lock (_lock)
        {
            if (waiter.Node?.List is null)
            {
                return;
            }

            _queue.Remove(waiter.Node);
            _queuedPermits -= waiter.PermitCount;

            // A cancelled head may have been what kept smaller requests behind it waiting.
            granted = AfterChangeLocked(_time.GetTimestamp());
        }

        waiter.Completion.TrySetCanceled(token);
        Complete(granted);
    }

    private void SetLimitLocked(double limit) => _limit = Math.Clamp(limit, _options.MinLimit, _options.MaxLimit);

    private void WindowSampleLocked(double latency, long now)
    {
        _windowSamples++;
        _windowLatency += latency;
        if (_windowSamples < Math.Max(1, PermitLimit))
        {
            return;
        }

        double average = _windowLatency / _windowSamples;
        bool appLimited = !_windowBusy;
        bool probe = false;
        if (_noLoad is null || _noLoad.OnWindow(_limit, average, appLimited, out probe))
        {
            LimitStep step = _algorithm.OnWindow(_limit, new LimitWindow(average, appLimited, _noLoad?.Seconds ?? 0));
            if (step.Congested)
            {
                CongestedLocked(step.Limit, now);
            }
            else
            {
                int before = PermitLimit;
                SetLimitLocked(step.Limit);
                if (_noLoad is not null && PermitLimit > before)
                {
                    // Compared with the no-load latency, the window after a rise must measure the new limit: calls
                    // started under the old one would make the rise look free, and it would rise again (overshoot).
                    _windowStart = now;
                }

                ResetWindowLocked();
            }
        }
        else
        {
            ResetWindowLocked();
        }

        if (probe && _noLoad is not null)
        {
            // Like a decrease: drops of calls started before the probe do not shrink the limit again.
            SetLimitLocked(_noLoad.BeginProbe(_limit, average, now));
            _epoch++;
            ResetWindowLocked();
        }
    }

    private void ProbeSampleLocked(AdaptiveConcurrencyLease lease, double latency, long now)
    {
        if (_noLoad!.IsProbeSample(lease.StartTimestamp) && _noLoad.OnProbeSample(latency, now) is { } limit)
        {
            SetLimitLocked(limit);
            if (!_noLoad.Probing)
            {
                // Calls started during the probe ran at its lower limit: windows start with the calls acquired from now.
                _windowStart = now;
                ResetWindowLocked();
            }
        }
    }

    /// <summary>A congestion event (a drop, or a window too slow): the new limit, and only calls started from now count again.</summary>
    private void CongestedLocked(double limit, long now)
    {
        _algorithm.OnCongestion();
        SetLimitLocked(limit);
        _epoch++;
        _windowStart = now;
        ResetWindowLocked();
    }

    private void ResetWindowLocked()
    {
        _windowSamples = 0;
        _windowLatency = 0;
        _windowBusy = _inFlight * 2 >= PermitLimit;
    }

    private sealed class Waiter(int permitCount)
    {
        public int PermitCount { get; } = permitCount;

        public TaskCompletionSource<RateLimitLease> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }

        public AdaptiveConcurrencyLimiter? Limiter { get; set; }
    }
}
