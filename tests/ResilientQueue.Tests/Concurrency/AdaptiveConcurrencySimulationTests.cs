using ResilientQueue.Concurrency;
using Xunit.Abstractions;

namespace ResilientQueue.Tests.Concurrency;

/// <summary>
/// Deterministic simulations (manual time, seeded jitter) of a busy client behind the limiter calling a downstream with
/// capacity C: 100 ms ± 10 % per call, FIFO queueing past C, a client timeout of 125 ms (so timeouts appear once about
/// a quarter of C is queued). See <see cref="DownstreamSimulation"/>; docs/adaptive-concurrency.md shows runs.
/// </summary>
public sealed class AdaptiveConcurrencySimulationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 8)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 20)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 60)]
    [InlineData(ConcurrencyLimitAlgorithm.Gradient, 8)]
    [InlineData(ConcurrencyLimitAlgorithm.Gradient, 20)]
    [InlineData(ConcurrencyLimitAlgorithm.Gradient, 60)]
    public void Limit_DownstreamWithCapacityC_SettlesWithin30PercentOfC(ConcurrencyLimitAlgorithm algorithm, int capacity)
    {
        var sim = new DownstreamSimulation { Capacity = capacity };
        using var limiter = Limiter(sim, algorithm, initial: 10, min: 1, max: 500);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(120), Second);

        var settled = samples.Where(s => s.At >= TimeSpan.FromSeconds(60)).Select(s => s.Limit).ToArray();
        output.WriteLine($"{algorithm} C={capacity}: {string.Join(' ', samples.Select(s => s.Limit))}");
        output.WriteLine($"settled mean {settled.Average():F1}, min {settled.Min()}, max {settled.Max()}, ok {sim.Successes}, drops {sim.Drops}");
        settled.Average().Should().BeInRange(0.7 * capacity, 1.3 * capacity);
        settled.Count(l => l >= 0.7 * capacity && l <= 1.3 * capacity).Should().BeGreaterThanOrEqualTo((int)(0.9 * settled.Length), "the limit should stay near C, not only average near it");
        // Goodput over the whole run, warm-up included; the probing above C costs timeouts (AIMD most at small C).
        sim.Successes.Should().BeGreaterThan((long)(capacity * 10 * 120 * 0.7), "goodput should be at least 70 % of what the downstream can serve");
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd)]
    [InlineData(ConcurrencyLimitAlgorithm.Gradient)]
    public void Limit_BurstOf429s_ShrinksThenRecovers(ConcurrencyLimitAlgorithm algorithm)
    {
        var sim = new DownstreamSimulation
        {
            Capacity = 20,
            RateLimitedFrom = TimeSpan.FromSeconds(60),
            RateLimitedUntil = TimeSpan.FromSeconds(65),
        };
        using var limiter = Limiter(sim, algorithm, initial: 10, min: 2, max: 500);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(250));

        double before = samples.Where(s => s.At >= TimeSpan.FromSeconds(40) && s.At < TimeSpan.FromSeconds(60)).Average(s => s.Limit);
        int during = samples.Where(s => s.At >= TimeSpan.FromSeconds(61) && s.At < TimeSpan.FromSeconds(65)).Max(s => s.Limit);
        var recovered = samples.FirstOrDefault(s => s.At >= TimeSpan.FromSeconds(65) && s.Limit >= 0.7 * 20);
        double after = samples.Where(s => s.At >= TimeSpan.FromSeconds(80)).Average(s => s.Limit);
        output.WriteLine($"{algorithm}: before {before:F1}, max during burst {during}, back to 14 at {recovered.At.TotalSeconds:F2}s, mean after 80 s {after:F1}");

        before.Should().BeInRange(14, 26);
        during.Should().Be(2, "a second of 429s on every call should take the limit to its minimum");
        recovered.At.Should().BeGreaterThan(TimeSpan.Zero, "the limit should recover after the burst");
        (recovered.At - TimeSpan.FromSeconds(65)).Should().BeLessThan(TimeSpan.FromSeconds(10));
        after.Should().BeInRange(14, 26);
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd)]
    [InlineData(ConcurrencyLimitAlgorithm.Gradient)]
    public void Limit_HealthyDownstreamWithSpareCapacity_GrowsToMaxAndNeverAbove(ConcurrencyLimitAlgorithm algorithm)
    {
        var sim = new DownstreamSimulation { Capacity = 10_000 };
        using var limiter = Limiter(sim, algorithm, initial: 10, min: 5, max: 50);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));

        samples.Max(s => s.Limit).Should().Be(50);
        samples[^1].Limit.Should().Be(50);
        sim.MaxObservedInFlight.Should().Be(50);
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd)]
    [InlineData(ConcurrencyLimitAlgorithm.Gradient)]
    public void Limit_EveryCallDropped_FallsToMinAndNeverBelow(ConcurrencyLimitAlgorithm algorithm)
    {
        var sim = new DownstreamSimulation { Capacity = 20, RateLimitedFrom = TimeSpan.Zero };
        using var limiter = Limiter(sim, algorithm, initial: 30, min: 5, max: 50);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));

        samples.Min(s => s.Limit).Should().Be(5);
        samples[^1].Limit.Should().Be(5);
        limiter.TotalDrops.Should().Be(sim.Drops);
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd)]
    [InlineData(ConcurrencyLimitAlgorithm.Gradient)]
    public void Limit_AppLimitedBelowHalf_DoesNotGrow(ConcurrencyLimitAlgorithm algorithm)
    {
        var sim = new DownstreamSimulation { Capacity = 10_000, OfferedConcurrency = 9 };
        using var limiter = Limiter(sim, algorithm, initial: 20, min: 1, max: 500, latencyThreshold: null);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));

        samples.Should().OnlyContain(s => s.Limit == 20, "9 in flight is below half of 20: the limiter is app-limited");
        sim.Successes.Should().BeGreaterThan(5000, "the client kept calling all along");
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas)]
    public void Limit_AppLimitedBelowHalf_WithNoLoadProbes_DoesNotGrow(ConcurrencyLimitAlgorithm algorithm)
    {
        // AIMD's latency signal and Vegas measure the no-load latency with a probe after the first window, which lowers
        // the limit for a few round trips; after it the app-limited windows confirm the value, so no probe follows.
        var sim = new DownstreamSimulation { Capacity = 10_000, OfferedConcurrency = 9 };
        using var limiter = Limiter(sim, algorithm, initial: 20, min: 1, max: 500);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));

        samples.Should().OnlyContain(s => s.Limit <= 20, "9 in flight is below half of 20: the limiter is app-limited");
        samples.Where(s => s.At >= TimeSpan.FromSeconds(2)).Should().OnlyContain(s => s.Limit == 20, "one probe at the start, none while app-limited");
        sim.Successes.Should().BeGreaterThan(5000, "the client kept calling all along");
    }

    [Fact]
    public void Limit_Aimd_GrowsOnlyWhileAtLeastHalfBusy()
    {
        var sim = new DownstreamSimulation { Capacity = 10_000, OfferedConcurrency = 12 };
        using var limiter = Limiter(sim, ConcurrencyLimitAlgorithm.Aimd, initial: 20, min: 1, max: 500);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));

        // 12 in flight keeps a limit up to 24 busy (12 >= 24 / 2), so it grows to 25 and then stops.
        samples[^1].Limit.Should().Be(25);
        samples.Max(s => s.Limit).Should().Be(25);
    }

    [Fact]
    public void Limit_GradientWithoutTimeouts_HoldsNearToleranceTimesCapacity()
    {
        // Pure latency feedback: the gradient keeps queueing latency within Tolerance (1.5) of the baseline, so a
        // queueing downstream settles near 1.5 x C + headroom (documented), and does not run away.
        var sim = new DownstreamSimulation { Capacity = 20, Timeout = TimeSpan.FromHours(1) };
        using var limiter = Limiter(sim, ConcurrencyLimitAlgorithm.Gradient, initial: 10, min: 1, max: 500);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(120), Second);

        output.WriteLine(string.Join(' ', samples.Select(s => s.Limit)));
        samples.Where(s => s.At >= TimeSpan.FromSeconds(60)).Should().OnlyContain(s => s.Limit >= 20 && s.Limit <= 45);
        sim.Drops.Should().Be(0);
    }

    [Fact]
    public void Run_SameSeed_IsRepeatable()
    {
        IReadOnlyList<(TimeSpan, int)> RunOnce()
        {
            var sim = new DownstreamSimulation { Capacity = 20 };
            using var limiter = Limiter(sim, ConcurrencyLimitAlgorithm.Gradient, initial: 10, min: 1, max: 500);
            return sim.Run(limiter, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        }

        RunOnce().Should().Equal(RunOnce());
    }

    internal static AdaptiveConcurrencyLimiter Limiter(DownstreamSimulation sim, ConcurrencyLimitAlgorithm algorithm, int initial, int min, int max, double? latencyThreshold = 1.2) =>
        new(new AdaptiveConcurrencyLimiterOptions { Algorithm = algorithm, InitialLimit = initial, MinLimit = min, MaxLimit = max, LatencyThreshold = latencyThreshold }, sim.Time);
}
