using System.Threading.RateLimiting;
using BenchmarkDotNet.Attributes;
using ResilientQueue.Concurrency;

namespace ResilientQueue.Benchmarks;

/// <summary>
/// Single-threaded cost of one <see cref="RateLimiter.AttemptAcquire(int)"/> plus disposing the lease, for
/// <see cref="ConcurrencyLimiter"/> (the baseline) and <see cref="AdaptiveConcurrencyLimiter"/> with either algorithm.
/// The limits are far above the one permit in use, so every acquisition succeeds.
/// </summary>
[MemoryDiagnoser]
public class LimiterAcquireReleaseBenchmarks
{
    private const int Limit = 10_000;

    private readonly ConcurrencyLimiter _concurrency = new(new ConcurrencyLimiterOptions { PermitLimit = Limit, QueueLimit = 0 });
    private readonly AdaptiveConcurrencyLimiter _aimd = new(new AdaptiveConcurrencyLimiterOptions
    {
        Algorithm = ConcurrencyLimitAlgorithm.Aimd,
        InitialLimit = Limit,
        MaxLimit = Limit,
    });

    private readonly AdaptiveConcurrencyLimiter _gradient = new(new AdaptiveConcurrencyLimiterOptions
    {
        Algorithm = ConcurrencyLimitAlgorithm.Gradient,
        InitialLimit = Limit,
        MaxLimit = Limit,
    });

    /// <summary><see cref="ConcurrencyLimiter"/>: acquire one permit, dispose the lease.</summary>
    /// <returns>Whether the permit was acquired (keeps the call from being optimized away).</returns>
    [Benchmark(Baseline = true)]
    public bool ConcurrencyLimiter_AcquireDispose()
    {
        RateLimitLease lease = _concurrency.AttemptAcquire(1);
        bool acquired = lease.IsAcquired;
        lease.Dispose();
        return acquired;
    }

    /// <summary><see cref="AdaptiveConcurrencyLimiter"/> (AIMD): acquire one permit, dispose the lease (counts as a success).</summary>
    /// <returns>Whether the permit was acquired.</returns>
    [Benchmark]
    public bool Aimd_AcquireDispose()
    {
        RateLimitLease lease = _aimd.AttemptAcquire(1);
        bool acquired = lease.IsAcquired;
        lease.Dispose();
        return acquired;
    }

    /// <summary><see cref="AdaptiveConcurrencyLimiter"/> (Gradient): acquire one permit, dispose the lease (counts as a success).</summary>
    /// <returns>Whether the permit was acquired.</returns>
    [Benchmark]
    public bool Gradient_AcquireDispose()
    {
        RateLimitLease lease = _gradient.AttemptAcquire(1);
        bool acquired = lease.IsAcquired;
        lease.Dispose();
        return acquired;
    }

    /// <summary><see cref="AdaptiveConcurrencyLimiter"/> (AIMD): acquire, <see cref="AdaptiveConcurrencyLease.Record(ConcurrencyOutcome)"/> a success, dispose.</summary>
    /// <returns>Whether the permit was acquired.</returns>
    [Benchmark]
    public bool Aimd_AcquireRecordDispose()
    {
        RateLimitLease lease = _aimd.AttemptAcquire(1);
        bool acquired = lease.IsAcquired;
        ((AdaptiveConcurrencyLease)lease).Record(ConcurrencyOutcome.Success);
        lease.Dispose();
        return acquired;
    }

    /// <summary><see cref="AdaptiveConcurrencyLimiter"/> (Gradient): acquire, <see cref="AdaptiveConcurrencyLease.Record(ConcurrencyOutcome)"/> a success, dispose.</summary>
    /// <returns>Whether the permit was acquired.</returns>
    [Benchmark]
    public bool Gradient_AcquireRecordDispose()
    {
        RateLimitLease lease = _gradient.AttemptAcquire(1);
        bool acquired = lease.IsAcquired;
        ((AdaptiveConcurrencyLease)lease).Record(ConcurrencyOutcome.Success);
        lease.Dispose();
        return acquired;
    }

    /// <summary>Disposes the limiters.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _concurrency.Dispose();
        _aimd.Dispose();
        _gradient.Dispose();
    }
}

/// <summary>
/// Contended cost: <see cref="Workers"/> parallel loops, each doing <see cref="OperationsPerWorker"/>
/// <see cref="RateLimiter.AttemptAcquire(int)"/> + dispose on one shared limiter. Reported per acquire/release
/// (<see cref="BenchmarkAttribute.OperationsPerInvoke"/>); the <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/>
/// fork/join is included, spread over all the operations of an invocation.
/// </summary>
[MemoryDiagnoser]
public class LimiterContendedBenchmarks
{
    /// <summary>How many parallel loops share one limiter.</summary>
    public const int Workers = 8;

    /// <summary>How many acquire/release pairs each loop does per invocation.</summary>
    public const int OperationsPerWorker = 1_000;

    private const int Limit = 10_000;

    private readonly ConcurrencyLimiter _concurrency = new(new ConcurrencyLimiterOptions { PermitLimit = Limit, QueueLimit = 0 });
    private readonly AdaptiveConcurrencyLimiter _aimd = new(new AdaptiveConcurrencyLimiterOptions
    {
        Algorithm = ConcurrencyLimitAlgorithm.Aimd,
        InitialLimit = Limit,
        MaxLimit = Limit,
    });

    private readonly ParallelOptions _parallel = new() { MaxDegreeOfParallelism = Workers };
    private readonly Action<int> _concurrencyLoop;
    private readonly Action<int> _aimdLoop;

    /// <summary>Creates the limiters and the loop bodies (once, so no delegate is allocated per invocation).</summary>
    public LimiterContendedBenchmarks()
    {
        _concurrencyLoop = _ => Loop(_concurrency);
        _aimdLoop = _ => Loop(_aimd);
    }

    /// <summary><see cref="ConcurrencyLimiter"/> shared by <see cref="Workers"/> loops.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Workers * OperationsPerWorker)]
    public void ConcurrencyLimiter_Contended() => Parallel.For(0, Workers, _parallel, _concurrencyLoop);

    /// <summary><see cref="AdaptiveConcurrencyLimiter"/> (AIMD) shared by <see cref="Workers"/> loops.</summary>
    [Benchmark(OperationsPerInvoke = Workers * OperationsPerWorker)]
    public void Aimd_Contended() => Parallel.For(0, Workers, _parallel, _aimdLoop);

    /// <summary>Disposes the limiters.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _concurrency.Dispose();
        _aimd.Dispose();
    }

    private static void Loop(RateLimiter limiter)
    {
        for (int i = 0; i < OperationsPerWorker; i++)
        {
            limiter.AttemptAcquire(1).Dispose();
        }
    }
}
