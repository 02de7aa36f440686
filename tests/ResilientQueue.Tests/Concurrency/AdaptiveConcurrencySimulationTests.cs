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
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 8)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 20)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 60)]
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
    [InlineData(ConcurrencyLimitAlgorithm.Vegas)]
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
    [InlineData(ConcurrencyLimitAlgorithm.Vegas)]
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
    [InlineData(ConcurrencyLimitAlgorithm.Vegas)]
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

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 4, 5)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 12, 5)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 50, 5)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 4, 40)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 12, 40)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 50, 40)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 4, 500)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 12, 500)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 50, 500)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 4, 5)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 12, 5)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 50, 5)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 4, 40)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 12, 40)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 50, 40)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 4, 500)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 12, 500)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 50, 500)]
    public void Limit_QueueingDownstreamWithoutErrors_SettlesWithin30PercentOfC_KeepingItsThroughput(ConcurrencyLimitAlgorithm algorithm, int capacity, int baseMs)
    {
        // No timeouts and no 429s: latency is the only signal. A little noise on the client's side (2 % of the base
        // latency on average) keeps the run honest: the limiter must not read it as queueing.
        var baseLatency = TimeSpan.FromMilliseconds(baseMs);
        var sim = new DownstreamSimulation { Capacity = capacity, ServiceTime = baseLatency, Timeout = TimeSpan.FromHours(1), ClientOverhead = baseLatency * 0.02 };
        using var limiter = Limiter(sim, algorithm, initial: 10, min: 2, max: 200);

        var samples = sim.Run(limiter, baseLatency * 400, baseLatency);

        // Judged over the second half (AIMD climbs one permit per two round trips: from 10 to 50 takes about 100).
        var settled = samples.Where(s => s.At >= baseLatency * 200).ToArray();
        int[] limits = settled.Select(s => s.Limit).Order().ToArray();
        double kept = (settled[^1].Successes - settled[0].Successes) / (capacity * (settled[^1].At - settled[0].At) / baseLatency);
        output.WriteLine($"{algorithm} C={capacity} {baseMs} ms: median {limits[limits.Length / 2]}, range {limits[0]}..{limits[^1]}, throughput kept {kept:P1}");
        limits[limits.Length / 2].Should().BeInRange((int)Math.Ceiling(0.7 * capacity), (int)Math.Floor(1.3 * capacity));
        limits.Count(l => l >= 0.7 * capacity && l <= 1.3 * capacity).Should().BeGreaterThanOrEqualTo((int)(0.9 * limits.Length), "the limit should stay near C, not only have its median there");
        kept.Should().BeGreaterThanOrEqualTo(0.95, "at most 5 % of the downstream's throughput may be lost");
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd)]
    public void Limit_CapacityDrops12To4AndReturns_FollowsWithinTwoSeconds_AndTimeoutsStop(ConcurrencyLimitAlgorithm algorithm)
    {
        // The real-server scenario, simulated: 40 ms calls, a 150 ms client timeout, C = 12, then 4 from 20 s to 40 s.
        var sim = new DownstreamSimulation
        {
            Capacity = 12,
            ServiceTime = TimeSpan.FromMilliseconds(40),
            Timeout = TimeSpan.FromMilliseconds(150),
            CapacityChanges = [(TimeSpan.FromSeconds(20), 4), (TimeSpan.FromSeconds(40), 12)],
        };
        using var limiter = Limiter(sim, algorithm, initial: 10, min: 2, max: 60);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(50));

        var down = samples.First(s => s.At >= TimeSpan.FromSeconds(20) && s.Limit <= 5);
        var up = samples.First(s => s.At >= TimeSpan.FromSeconds(40) && s.Limit >= 9);
        double during = Median(samples.Where(s => s.At >= TimeSpan.FromSeconds(22) && s.At < TimeSpan.FromSeconds(40)).Select(s => s.Limit));
        double after = Median(samples.Where(s => s.At >= TimeSpan.FromSeconds(42)).Select(s => s.Limit));
        output.WriteLine($"{algorithm}: within ±30 % of 4 after {(down.At - TimeSpan.FromSeconds(20)).TotalSeconds:0.00} s, median {during}; back after {(up.At - TimeSpan.FromSeconds(40)).TotalSeconds:0.00} s, median {after}; drops {sim.Drops}");
        output.WriteLine(string.Join(' ', samples.Where(s => s.At >= TimeSpan.FromSeconds(19)).Select(s => s.Limit)));
        double[] halfSeconds = samples.Where(s => s.At >= TimeSpan.FromSeconds(22) && s.At < TimeSpan.FromSeconds(40)).Chunk(10).Select(w => Median(w.Select(s => s.Limit))).ToArray();
        (down.At - TimeSpan.FromSeconds(20)).Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(2));
        halfSeconds.Should().OnlyContain(m => m >= 2.8 && m <= 5.2, "no oscillation wider than ±30 % around the new C (judged by half-second medians: one permit is 25 % of 4)");
        samples.Where(s => s.At >= TimeSpan.FromSeconds(22) && s.At < TimeSpan.FromSeconds(40)).Should().OnlyContain(s => s.Limit >= 2 && s.Limit <= 6);
        during.Should().BeInRange(3, 5);
        sim.DropTimes.Should().NotContain(t => t >= TimeSpan.FromSeconds(22) && t < TimeSpan.FromSeconds(40), "once the limit follows C, timeouts stop");
        sim.DropTimes.Should().NotContain(t => t >= TimeSpan.FromSeconds(42), "and none come back with C");
        (up.At - TimeSpan.FromSeconds(40)).Should().BeLessThanOrEqualTo(TimeSpan.FromSeconds(2));
        after.Should().BeInRange(9, 15);
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 2.0)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 1.3)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 0.5)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 2.0)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 1.3)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 0.5)]
    public void Limit_DownstreamsOwnLatencyChanges_ProbeMeasuresTheNewNoLoadLatency_AndTheLimitReturnsToC(ConcurrencyLimitAlgorithm algorithm, double factor)
    {
        // Not queueing: the downstream itself becomes slower (or faster) at 8 s, its capacity stays 12. Compared with the
        // old no-load latency that looks like queueing (or room); a probe measures the new one.
        var sim = new DownstreamSimulation
        {
            Capacity = 12,
            ServiceTime = TimeSpan.FromMilliseconds(40),
            Timeout = TimeSpan.FromHours(1),
            ServiceTimeChanges = [(TimeSpan.FromSeconds(8), TimeSpan.FromMilliseconds(40 * factor))],
        };
        using var limiter = Limiter(sim, algorithm, initial: 10, min: 2, max: 60);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));

        var late = samples.Where(s => s.At >= TimeSpan.FromSeconds(14)).Select(s => s.Limit).ToArray();
        output.WriteLine($"{algorithm} x{factor}: {string.Join(' ', samples.Where(s => s.At >= TimeSpan.FromSeconds(7)).Select(s => s.Limit))}");
        late.Count(l => l >= 9 && l <= 15).Should().BeGreaterThanOrEqualTo((int)(0.9 * late.Length), "6 s after the change the limit should be back near C = 12");
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd)]
    public void Limit_InitialLimitFarAboveC_FirstProbeGoesDeep_AndTheLimitSettlesNearC(ConcurrencyLimitAlgorithm algorithm)
    {
        // The first window already queues (60 in flight for 4 slots): its latency is no no-load latency. The first
        // probe halves its limit while the latency keeps falling, then the limit starts from what the probe implies.
        var sim = new DownstreamSimulation { Capacity = 4, ServiceTime = TimeSpan.FromMilliseconds(40), Timeout = TimeSpan.FromHours(1) };
        using var limiter = Limiter(sim, algorithm, initial: 60, min: 2, max: 100);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(100));

        var first = samples.First(s => s.At > TimeSpan.Zero && s.Limit <= 5);
        output.WriteLine($"{algorithm}: {string.Join(' ', samples.Take(60).Select(s => s.Limit))}");
        first.At.Should().BeLessThan(TimeSpan.FromSeconds(4));
        samples.Where(s => s.At >= TimeSpan.FromSeconds(5)).Should().OnlyContain(s => s.Limit >= 2 && s.Limit <= 6);
        Median(samples.Where(s => s.At >= TimeSpan.FromSeconds(5)).Select(s => s.Limit)).Should().BeInRange(3, 5);
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd)]
    public void Limit_CallsOfVeryDifferentLengths_DoNotReadAsQueueing(ConcurrencyLimitAlgorithm algorithm)
    {
        // Every call takes 40 ms ± 90 % (prompts of very different sizes): a minimum of such samples lies far below their
        // average, and an algorithm comparing windows with it would shrink to nothing. The no-load latency is an average.
        var sim = new DownstreamSimulation { Capacity = 20, ServiceTime = TimeSpan.FromMilliseconds(40), Jitter = 0.9, Timeout = TimeSpan.FromHours(1) };
        using var limiter = Limiter(sim, algorithm, initial: 10, min: 2, max: 200);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));

        var settled = samples.Where(s => s.At >= TimeSpan.FromSeconds(30)).ToArray();
        double kept = (settled[^1].Successes - settled[0].Successes) / (20 * (settled[^1].At - settled[0].At).TotalSeconds / 0.040);
        output.WriteLine($"{algorithm}: median {Median(settled.Select(s => s.Limit))}, throughput kept {kept:P1}");
        Median(settled.Select(s => s.Limit)).Should().BeInRange(14, 26);

        // A collapse towards the minimum would keep a small fraction. Vegas keeps less than AIMD here: each probe's
        // average of such calls is itself off by several per cent, and Vegas holds the capacity it implies
        // (docs/adaptive-concurrency.md: with widely varying calls choose AIMD or Gradient).
        kept.Should().BeGreaterThan(algorithm == ConcurrencyLimitAlgorithm.Aimd ? 0.9 : 0.7, "a collapse towards the minimum would keep a fraction of it");
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd)]
    public void Limit_Never_LeavesMinAndMax_WithProbes(ConcurrencyLimitAlgorithm algorithm)
    {
        // Probes lower the limit, deeper ones halve it: never below MinLimit; nothing raises it above MaxLimit.
        var sim = new DownstreamSimulation { Capacity = 6, ServiceTime = TimeSpan.FromMilliseconds(40), Timeout = TimeSpan.FromHours(1), CapacityChanges = [(TimeSpan.FromSeconds(10), 40)] };
        using var limiter = Limiter(sim, algorithm, initial: 20, min: 5, max: 30);

        var samples = sim.Run(limiter, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10));

        samples.Should().OnlyContain(s => s.Limit >= 5 && s.Limit <= 30);
        samples.Min(s => s.Limit).Should().Be(5, "C = 6 with a queue allowance of one call is at the minimum when it probes");
        samples[^1].Limit.Should().Be(30, "C = 40 is above the maximum");
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
        IReadOnlyList<(TimeSpan, int, long)> RunOnce()
        {
            var sim = new DownstreamSimulation { Capacity = 20 };
            using var limiter = Limiter(sim, ConcurrencyLimitAlgorithm.Gradient, initial: 10, min: 1, max: 500);
            return sim.Run(limiter, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        }

        RunOnce().Should().Equal(RunOnce());
    }

    private static double Median(IEnumerable<int> values)
    {
        int[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2.0;
    }

    internal static AdaptiveConcurrencyLimiter Limiter(DownstreamSimulation sim, ConcurrencyLimitAlgorithm algorithm, int initial, int min, int max, double? latencyThreshold = 1.1) =>
        new(new AdaptiveConcurrencyLimiterOptions { Algorithm = algorithm, InitialLimit = initial, MinLimit = min, MaxLimit = max, LatencyThreshold = latencyThreshold }, sim.Time);
}
