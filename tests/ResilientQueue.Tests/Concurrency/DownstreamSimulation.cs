using System.Threading.RateLimiting;
using ResilientQueue.Concurrency;
using Microsoft.Extensions.Time.Testing;

namespace ResilientQueue.Tests.Concurrency;

/// <summary>
/// A deterministic discrete-event simulation of a busy client behind an <see cref="AdaptiveConcurrencyLimiter"/> calling a
/// downstream with <see cref="Capacity"/> service slots. Requests beyond the capacity wait in the downstream's FIFO queue,
/// so latency grows past it; the client gives up after <see cref="Timeout"/> (a drop), and a request that timed out while
/// waiting is abandoned. During <see cref="RateLimitedFrom"/>..<see cref="RateLimitedUntil"/> every request is answered at
/// once with a 429 (a drop). <see cref="CapacityChanges"/> and <see cref="ServiceTimeChanges"/> change the downstream
/// while it runs; <see cref="ClientOverhead"/> adds a random (exponential) delay on the client's side of each call, the
/// noise of a loaded machine, which the latency includes but the downstream never sees. Time is a
/// <see cref="FakeTimeProvider"/> moved from event to event, so a run is exact and repeatable; service times have a
/// seeded ±<see cref="Jitter"/> spread.
/// </summary>
internal sealed class DownstreamSimulation
{
    private readonly PriorityQueue<Action, (long Ticks, long Seq)> _events = new();
    private readonly LinkedList<Request> _waiting = new();
    private readonly FakeTimeProvider _time = new();
    private readonly DateTimeOffset _start;
    private Random _random = new(1);
    private long _seq;
    private int _busySlots;
    private int _capacity;
    private TimeSpan _serviceTime;

    public DownstreamSimulation() => _start = _time.GetUtcNow();

    public int Capacity { get; init; } = 20;

    public TimeSpan ServiceTime { get; init; } = TimeSpan.FromMilliseconds(100);

    public double Jitter { get; init; } = 0.1;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(125);

    public TimeSpan RateLimitedFrom { get; init; } = TimeSpan.MaxValue;

    public TimeSpan RateLimitedUntil { get; init; } = TimeSpan.MaxValue;

    public TimeSpan RateLimitedLatency { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>When the downstream's capacity changes, and to what (in order of time).</summary>
    public IReadOnlyList<(TimeSpan At, int Capacity)> CapacityChanges { get; init; } = [];

    /// <summary>When the downstream's own service time changes, and to what (in order of time).</summary>
    public IReadOnlyList<(TimeSpan At, TimeSpan ServiceTime)> ServiceTimeChanges { get; init; } = [];

    /// <summary>The mean of an exponentially distributed delay added on the client's side of every call (zero: none).</summary>
    public TimeSpan ClientOverhead { get; init; }

    /// <summary>How many requests the client wants in flight at most (null: as many as the limiter allows).</summary>
    public int? OfferedConcurrency { get; init; }

    public TimeProvider Time => _time;

    public TimeSpan Now => _time.GetUtcNow() - _start;

    public long Successes { get; private set; }

    public long Drops { get; private set; }

    /// <summary>When each drop (timeout or 429) was reported.</summary>
    public List<TimeSpan> DropTimes { get; } = [];

    public int MaxObservedInFlight { get; private set; }

    /// <summary>Runs for <paramref name="duration"/> of simulated time and returns the limit (and the successes so far) sampled every <paramref name="sampleEvery"/>.</summary>
    public IReadOnlyList<(TimeSpan At, int Limit, long Successes)> Run(AdaptiveConcurrencyLimiter limiter, TimeSpan duration, TimeSpan sampleEvery, int seed = 1)
    {
        _random = new Random(seed);
        _capacity = Capacity;
        _serviceTime = ServiceTime;
        var samples = new List<(TimeSpan, int, long)>();
        int inFlight = 0;
        TimeSpan nextSample = TimeSpan.Zero;
        Schedule(TimeSpan.Zero, () => { });
        foreach ((TimeSpan at, int capacity) in CapacityChanges)
        {
            Schedule(at, () =>
            {
                _capacity = capacity;
                ServeWaiting();
            });
        }

        foreach ((TimeSpan at, TimeSpan serviceTime) in ServiceTimeChanges)
        {
            Schedule(at, () => _serviceTime = serviceTime);
        }

        while (_events.TryDequeue(out var action, out var key))
        {
            var at = TimeSpan.FromTicks(key.Ticks);
            if (at > duration)
            {
                break;
            }

            while (nextSample <= at)
            {
                _time.Advance(nextSample - Now);
                samples.Add((nextSample, limiter.CurrentLimit, Successes));
                nextSample += sampleEvery;
            }

            _time.Advance(at - Now);
            action();

            // The client is always busy: it starts a call whenever the limiter (and its own offered load) allows.
            while (OfferedConcurrency is not { } offered || inFlight < offered)
            {
                var lease = limiter.AttemptAcquire();
                if (!lease.IsAcquired)
                {
                    break;
                }

                inFlight++;
                MaxObservedInFlight = Math.Max(MaxObservedInFlight, inFlight);
                Submit((AdaptiveConcurrencyLease)lease, () => inFlight--);
            }

            if (_events.Count == 0)
            {
                // Nothing in flight and nothing allowed: come back a little later.
                Schedule(Now + TimeSpan.FromMilliseconds(10), () => { });
            }
        }

        return samples;
    }

    private void Submit(AdaptiveConcurrencyLease lease, Action done)
    {
        var request = new Request(lease, Now, done);
        if (Now >= RateLimitedFrom && Now < RateLimitedUntil)
        {
            Schedule(Now + RateLimitedLatency, () => Finish(request, ConcurrencyOutcome.Drop));
            return;
        }

        Schedule(Now + Timeout, () =>
        {
            if (request.Node is { List: not null } node)
            {
                _waiting.Remove(node);
            }

            Finish(request, ConcurrencyOutcome.Drop);
        });

        if (_busySlots < _capacity)
        {
            Serve(request);
        }
        else
        {
            request.Node = _waiting.AddLast(request);
        }
    }

    private void Serve(Request request)
    {
        _busySlots++;
        double factor = 1 + (((_random.NextDouble() * 2) - 1) * Jitter);
        Schedule(Now + (_serviceTime * factor), () =>
        {
            _busySlots--;
            if (ClientOverhead > TimeSpan.Zero)
            {
                TimeSpan overhead = ClientOverhead * -Math.Log(1 - _random.NextDouble());
                Schedule(Now + overhead, () => Finish(request, ConcurrencyOutcome.Success));
            }
            else
            {
                Finish(request, ConcurrencyOutcome.Success);
            }

            ServeWaiting();
        });
    }

    private void ServeWaiting()
    {
        while (_busySlots < _capacity && _waiting.First is { } next)
        {
            _waiting.RemoveFirst();
            Serve(next.Value);
        }
    }

    private void Finish(Request request, ConcurrencyOutcome outcome)
    {
        if (request.Finished)
        {
            return;
        }

        request.Finished = true;
        if (outcome == ConcurrencyOutcome.Success)
        {
            Successes++;
        }
        else
        {
            Drops++;
            DropTimes.Add(Now);
        }

        request.Lease.Record(outcome);
        request.Lease.Dispose();
        request.Done();
    }

    private void Schedule(TimeSpan at, Action action) => _events.Enqueue(action, (at.Ticks, _seq++));

    private sealed class Request(AdaptiveConcurrencyLease lease, TimeSpan started, Action done)
    {
        public AdaptiveConcurrencyLease Lease { get; } = lease;

        public TimeSpan Started { get; } = started;

        public Action Done { get; } = done;

        public bool Finished { get; set; }

        public LinkedListNode<Request>? Node { get; set; }
    }
}
