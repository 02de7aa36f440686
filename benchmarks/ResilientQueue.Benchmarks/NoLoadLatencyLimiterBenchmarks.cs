using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using ResilientQueue.Concurrency;

namespace ResilientQueue.Benchmarks;

/// <summary>
/// Single-threaded cost of one acquire plus release for the algorithms that measure the no-load latency (Vegas, and
/// AIMD with its latency signal, the default) against AIMD without it, as in <see cref="LimiterAcquireReleaseBenchmarks"/>.
/// The limits are far above the one permit in use; every window ends in the algorithm, now and then in a probe.
/// </summary>
[MemoryDiagnoser]
public class NoLoadLatencyLimiterBenchmarks
{
    private const int Limit = 10_000;

    private readonly AdaptiveConcurrencyLimiter _aimdWithoutLatency = Create(ConcurrencyLimitAlgorithm.Aimd, latencyThreshold: null);
    private readonly AdaptiveConcurrencyLimiter _aimd = Create(ConcurrencyLimitAlgorithm.Aimd, latencyThreshold: 1.1);
    private readonly AdaptiveConcurrencyLimiter _vegas = Create(ConcurrencyLimitAlgorithm.Vegas, latencyThreshold: null);

    /// <summary>AIMD without its latency signal (no probes): acquire one permit, dispose the lease.</summary>
    /// <returns>Whether the permit was acquired.</returns>
    [Benchmark(Baseline = true)]
    public bool AimdWithoutLatency_AcquireDispose() => AcquireDispose(_aimdWithoutLatency);

    /// <summary>AIMD with its latency signal (the default): acquire one permit, dispose the lease.</summary>
    /// <returns>Whether the permit was acquired.</returns>
    [Benchmark]
    public bool Aimd_AcquireDispose() => AcquireDispose(_aimd);

    /// <summary>Vegas: acquire one permit, dispose the lease.</summary>
    /// <returns>Whether the permit was acquired.</returns>
    [Benchmark]
    public bool Vegas_AcquireDispose() => AcquireDispose(_vegas);

    private static bool AcquireDispose(RateLimiter limiter)
    {
        RateLimitLease lease = limiter.AttemptAcquire(1);
        bool acquired = lease.IsAcquired;
        lease.Dispose();
        return acquired;
    }

    private static AdaptiveConcurrencyLimiter Create(ConcurrencyLimitAlgorithm algorithm, double? latencyThreshold) =>
        new(new AdaptiveConcurrencyLimiterOptions { Algorithm = algorithm, InitialLimit = Limit, MaxLimit = Limit, LatencyThreshold = latencyThreshold });
}
