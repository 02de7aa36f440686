using System.Net;
using ResilientQueue.Concurrency;
using Xunit.Abstractions;

namespace ResilientQueue.Limiter.Tests;

/// <summary>
/// The adaptive limiter in the hosted worker against a real HTTP downstream (<see cref="CapacityServer"/>): it must find
/// the downstream's capacity C where latency starts to grow, not where errors start, keep the downstream busy, and follow
/// C when it changes. Judged over windows (medians of half-second windows, the downstream's utilisation over seconds),
/// with margins that a shared 2-core machine keeps but a limit at 1.5 C or 2 C (where AIMD and Gradient used to settle)
/// does not. docs/adaptive-concurrency.md shows runs and the wider sweep (<see cref="LimiterSweep"/>).
/// </summary>
public sealed class AdaptiveLimiterRealServerTests(ITestOutputHelper output)
{
    /// <summary>The share of the downstream's capacity the worker must keep busy (at most 5 % lost).</summary>
    private const double KeptThroughput = 0.95;

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 4, 40)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 12, 40)]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas, 50, 100)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 4, 40)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 12, 40)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd, 50, 100)]
    public async Task Limit_QueueingDownstream_SettlesWithin30PercentOfCapacity_KeepingItsThroughput(ConcurrencyLimitAlgorithm algorithm, int capacity, int baseLatencyMs)
    {
        var baseLatency = TimeSpan.FromMilliseconds(baseLatencyMs);
        double warmUp = Scenarios.WarmUpSeconds(algorithm, capacity, baseLatency);
        double end = warmUp + 6;

        RunResult result = await Scenarios.SteadyAsync(algorithm, capacity, baseLatency, end);

        PhaseStats settled = result.Phase(warmUp, end);
        output.WriteLine($"{Scenarios.Describe(algorithm, capacity, baseLatency)}, judged from {warmUp:0.#} s: {settled}");
        output.WriteLine(result.LimitSeries());
        output.WriteLine("stalls: " + result.StallSummary());
        output.WriteLine(result.PerSecondTable(0, end));
        ShouldHoldNear(settled, capacity, algorithm);
        settled.MedianUtilisation.Should().BeGreaterThanOrEqualTo(KeptThroughput, "the limit should keep the downstream busy: at most 5 % of its throughput may be lost");
        settled.TimedOutOutsideStalls.Should().BeLessThanOrEqualTo(Math.Max(2, settled.Ok / 100), "near C latency stays far below the client timeout (calls caught in a stall of the machine are not the limiter's)");
        settled.Unavailable.Should().Be(0, "the limit should stay well below the 503 cliff (2 C waiting)");
        ShouldStayWithinBounds(result, maxLimit: 100);
    }

    [Theory]
    [InlineData(ConcurrencyLimitAlgorithm.Vegas)]
    [InlineData(ConcurrencyLimitAlgorithm.Aimd)]
    public async Task Limit_CapacityDropsFrom12To4AndReturns_FollowsWithinAboutTwoSeconds_AndTimeoutsStop(ConcurrencyLimitAlgorithm algorithm)
    {
        RunResult result = await Scenarios.DipAsync(algorithm);

        PhaseStats before = result.Phase(3, Scenarios.DipFrom);
        double? down = result.SecondsUntilWithin(Scenarios.DipFrom, Scenarios.DipUntil, 4);
        PhaseStats first = result.Phase(Scenarios.DipFrom, Scenarios.DipFrom + 2.5);
        PhaseStats dip = result.Phase(Scenarios.DipFrom + 2.5, Scenarios.DipUntil);
        double? up = result.SecondsUntilWithin(Scenarios.DipUntil, Scenarios.DipEnd, 12);
        PhaseStats after = result.Phase(Scenarios.DipUntil + 2.5, Scenarios.DipEnd);
        output.WriteLine($"{algorithm}: before {before}");
        output.WriteLine($"C 12 -> 4: within ±30 % after {down:0.0#} s; first 2.5 s {first}; then {dip}");
        output.WriteLine($"C 4 -> 12: within ±30 % after {up:0.0#} s; then {after}");
        output.WriteLine(result.LimitSeries());
        output.WriteLine(result.PerSecondTable(0, Scenarios.DipEnd));
        output.WriteLine("stalls: " + result.StallSummary());

        ShouldHoldNear(before, 12, algorithm);
        down.Should().NotBeNull().And.BeLessThanOrEqualTo(2.5, "the limit should be within ±30 % of the new C within about 2 s");
        ShouldHoldNear(dip, 4, algorithm);
        dip.TimedOutOutsideStalls.Should().BeLessThanOrEqualTo(Math.Max(2, dip.Ok / 100), "once the limit follows C = 4, client timeouts stop (calls caught in a stall of the machine are not the limiter's)");
        dip.MedianUtilisation.Should().BeGreaterThanOrEqualTo(KeptThroughput, "the smaller downstream should still be kept busy");
        up.Should().NotBeNull().And.BeLessThanOrEqualTo(2.5, "the limit should be back within ±30 % of C = 12 within about 2 s");
        ShouldHoldNear(after, 12, algorithm);
        ShouldStayWithinBounds(result, maxLimit: 60);
    }

    [Fact]
    public async Task Worker_429WithRetryAfter_PausesForTheServersDelay_AndRetriesWithoutSpendingAnAttempt()
    {
        await using CapacityServer server = await CapacityServer.StartAsync(8, TimeSpan.FromMilliseconds(40));
        var run = new LimiterRun(server, Scenarios.Limiter(ConcurrencyLimitAlgorithm.Vegas, maxLimit: 30), TimeSpan.FromMilliseconds(150));
        ServerCounters atThrottle = default;

        RunResult result = await run.RunAsync(TimeSpan.FromSeconds(6), async (clock, ct) =>
        {
            await LimiterRun.UntilAsync(clock, TimeSpan.FromSeconds(3), ct);
            atThrottle = server.Counters;
            server.Throttle(HttpStatusCode.TooManyRequests, retryAfter: TimeSpan.FromSeconds(1), duration: TimeSpan.FromMilliseconds(200));
        });

        CallRecord[] limited = result.Calls.Where(c => c.Outcome == CallOutcome.RateLimited).ToArray();
        output.WriteLine($"429s: {limited.Length}; arrivals per 100 ms from the throttle on: {string.Join(' ', ArrivalsPer100Ms(result, atThrottle.Timestamp, 15))}");
        limited.Should().NotBeEmpty("the server answered 429 for 200 ms");

        // The first 429 pauses the worker for the server's 1 s: after the calls already under way, nothing reaches the
        // server until about 1 s after the first 429 (the 200 ms throttle keeps extending it by the later ones).
        long first429 = limited.Min(c => c.End);
        int quiet = ArrivalsBetween(result, first429 + Ticks(0.4), first429 + Ticks(0.9));
        quiet.Should().BeLessThanOrEqualTo(2, "the worker should pause fetching and starting jobs for the Retry-After");
        ArrivalsBetween(result, first429 + Ticks(1.3), first429 + Ticks(2.3)).Should().BeGreaterThan(50, "after the pause the worker calls again");

        // Attempts are counted at fetch; a RateLimited failure gives the attempt back, so the retry runs with the same number.
        foreach (CallRecord call in limited)
        {
            CallRecord? retry = result.Calls.Where(c => c.JobId == call.JobId && c.Start > call.Start).OrderBy(c => c.Start).Cast<CallRecord?>().FirstOrDefault();
            if (retry is { } next)
            {
                next.Attempt.Should().Be(call.Attempt, "a 429 with Retry-After does not spend an attempt");
            }
        }
    }

    // Vegas: the median and 80 % of the half-second medians within ±30 % of C. AIMD is a sawtooth that sits above C (its
    // latency signal needs a waiting call to see, and it backs off only once the window's average latency is past the
    // threshold): its median within ±30 % or C ± 2, whichever is wider, and 80 % of the half-second medians within ±50 %
    // or C ± 3 (CI saw 4-7 at C = 4 and 13-18 at C = 12, alone on the machine), as docs/adaptive-concurrency.md says. Far
    // from the error cliff either way: the 503 and timeout checks of each scenario hold for both.
    private static void ShouldHoldNear(PhaseStats phase, int capacity, ConcurrencyLimitAlgorithm algorithm)
    {
        bool aimd = algorithm == ConcurrencyLimitAlgorithm.Aimd;
        double band = aimd ? Math.Max(0.3, 2.0 / capacity) : 0.3;
        double windows = aimd ? Math.Max(0.5, 3.0 / capacity) : 0.3;
        phase.MedianLimit.Should().BeInRange((1 - band) * capacity, (1 + band) * capacity, $"the limit should settle within ±{band:P0} of C = {capacity} ({phase})");
        phase.ShareWithin(windows).Should().BeGreaterThanOrEqualTo(0.8, $"the limit should stay within ±{windows:P0} of C = {capacity}, not only have its median there (a probe or a hiccup may take a window out)");
    }

    private static void ShouldStayWithinBounds(RunResult result, int maxLimit) =>
        result.Samples.Where(s => s.Limit > 0).Should().OnlyContain(s => s.Limit >= Scenarios.MinLimit && s.Limit <= maxLimit, "the limit never leaves [MinLimit, MaxLimit]");

    private static long Ticks(double seconds) => (long)(seconds * System.Diagnostics.Stopwatch.Frequency);

    private static int ArrivalsBetween(RunResult result, long from, long to)
    {
        Sample[] inRange = result.Samples.Where(s => s.Server.Timestamp >= from && s.Server.Timestamp <= to).ToArray();
        return inRange.Length < 2 ? 0 : (int)(inRange[^1].Server.Arrivals - inRange[0].Server.Arrivals);
    }

    private static IEnumerable<long> ArrivalsPer100Ms(RunResult result, long from, int count) =>
        result.Samples.Where(s => s.Server.Timestamp >= from).Take(count + 1).Select(s => s.Server.Arrivals).Pairwise();
}

internal static class PairwiseExtensions
{
    public static IEnumerable<long> Pairwise(this IEnumerable<long> values)
    {
        long? previous = null;
        foreach (long value in values)
        {
            if (previous is { } p)
            {
                yield return value - p;
            }

            previous = value;
        }
    }
}
