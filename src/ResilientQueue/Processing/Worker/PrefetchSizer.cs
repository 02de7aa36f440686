namespace ResilientQueue.Processing;

/// <summary>
/// How many fetched jobs a worker keeps buffered: <see cref="JobWorkerOptions.Prefetch"/> when set; otherwise sized by
/// throughput: what the worker starts in <see cref="Horizon"/> at its recent rate, at least the concurrency-based
/// minimum (twice <see cref="JobWorkerOptions.Concurrency"/>, or the adaptive limiter's MinLimit) and at most
/// <see cref="JobQueueOptions.MaxBatchSize"/>. So a concurrency-1 worker of fast jobs still fetches in batches, while a
/// worker of slow jobs holds no more than it runs soon: a buffered job waits about <see cref="Horizon"/> at most, and
/// other workers are not starved of jobs this one would only hold. Read by the fetch loop alone.
/// </summary>
internal sealed class PrefetchSizer(JobWorkerOptions options, TimeProvider time)
{
    /// <summary>How much work, in time at the current rate, the buffer holds.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(100);

    private readonly int _minimum = options.EffectivePrefetch;
    private long _started;
    private long _sampledAt = time.GetTimestamp();
    private long _startedAtSample;
    private double _ratePerSecond;

    /// <summary>Whether the size follows the throughput (no fixed <see cref="JobWorkerOptions.Prefetch"/>).</summary>
    public bool IsAdaptive { get; } = options.Prefetch is null;

    /// <summary>The most jobs the buffer may hold now.</summary>
    public int Limit
    {
        get
        {
            if (!IsAdaptive)
            {
                return _minimum;
            }

            TimeSpan elapsed = time.GetElapsedTime(_sampledAt);
            if (elapsed >= SampleEvery)
            {
                long started = Volatile.Read(ref _started);
                double rate = (started - _startedAtSample) / elapsed.TotalSeconds;
                _ratePerSecond = _ratePerSecond == 0 ? rate : (0.5 * _ratePerSecond) + (0.5 * rate);
                _startedAtSample = started;
                _sampledAt = time.GetTimestamp();
            }

            return (int)Math.Clamp(Math.Ceiling(_ratePerSecond * Horizon.TotalSeconds), _minimum, JobQueueOptions.MaxBatchSize);
        }
    }

    /// <summary>
    /// Whether to fetch now with <paramref name="buffered"/> jobs waiting: with a fixed prefetch whenever there is room;
    /// sized by throughput once the buffer is down to half (so fetches come in batches).
    /// </summary>
    public bool ShouldFetch(int buffered, int limit) => IsAdaptive ? buffered <= limit / 2 : buffered < limit;

    /// <summary>A job started (called by handler loops).</summary>
    public void Started() => Interlocked.Increment(ref _started);
}
