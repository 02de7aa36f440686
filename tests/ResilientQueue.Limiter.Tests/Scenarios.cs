using System.Globalization;
using ResilientQueue.Concurrency;

namespace ResilientQueue.Limiter.Tests;

/// <summary>
/// The runs the tests and the sweep share, after the issue that asked for them: a downstream that serves C calls at once
/// and queues the rest (503 once 2 C wait), the hosted worker with MinLimit 2, InitialLimit 10, each job one call with a
/// client timeout of 3.75 × the base latency (150 ms at 40 ms).
/// </summary>
internal static class Scenarios
{
    public const int MinLimit = 2;
    public const int InitialLimit = 10;

    public static AdaptiveConcurrencyLimiterOptions Limiter(ConcurrencyLimitAlgorithm algorithm, int maxLimit) =>
        new() { Algorithm = algorithm, InitialLimit = InitialLimit, MinLimit = MinLimit, MaxLimit = maxLimit };

    public static TimeSpan ClientTimeout(TimeSpan baseLatency) => baseLatency * 3.75;

    /// <summary>A downstream of constant capacity, for <paramref name="seconds"/>.</summary>
    public static async Task<RunResult> SteadyAsync(ConcurrencyLimitAlgorithm algorithm, int capacity, TimeSpan baseLatency, double seconds, int maxLimit = 100)
    {
        await using CapacityServer server = await CapacityServer.StartAsync(capacity, baseLatency);
        server.RejectQueueLength = 2 * capacity;
        var run = new LimiterRun(server, Limiter(algorithm, maxLimit), ClientTimeout(baseLatency));
        return await run.RunAsync(TimeSpan.FromSeconds(seconds));
    }

    /// <summary>The dip: C = 12 at 40 ms, then C = 4 from <see cref="DipFrom"/> to <see cref="DipUntil"/>, then 12 again until <see cref="DipEnd"/>.</summary>
    public static async Task<RunResult> DipAsync(ConcurrencyLimitAlgorithm algorithm)
    {
        var baseLatency = TimeSpan.FromMilliseconds(40);
        await using CapacityServer server = await CapacityServer.StartAsync(12, baseLatency);
        server.RejectQueueLength = 24;
        var run = new LimiterRun(server, Limiter(algorithm, maxLimit: 60), ClientTimeout(baseLatency));
        return await run.RunAsync(TimeSpan.FromSeconds(DipEnd), async (clock, ct) =>
        {
            await LimiterRun.UntilAsync(clock, TimeSpan.FromSeconds(DipFrom), ct);
            server.Capacity = 4;
            await LimiterRun.UntilAsync(clock, TimeSpan.FromSeconds(DipUntil), ct);
            server.Capacity = 12;
        });
    }

    public const double DipFrom = 6;
    public const double DipUntil = 14;
    public const double DipEnd = 20;

    /// <summary>How long a steady run takes to settle before it is judged: the first probe, and AIMD's climb of one permit per two round trips.</summary>
    public static double WarmUpSeconds(ConcurrencyLimitAlgorithm algorithm, int capacity, TimeSpan baseLatency)
    {
        double roundTrips = algorithm == ConcurrencyLimitAlgorithm.Aimd ? (2.5 * Math.Abs(capacity - InitialLimit)) + 20 : 30;
        return Math.Max(4, roundTrips * baseLatency.TotalSeconds * 1.2);
    }

    public static string Describe(ConcurrencyLimitAlgorithm algorithm, int capacity, TimeSpan baseLatency) =>
        string.Create(CultureInfo.InvariantCulture, $"{algorithm}, C = {capacity}, {baseLatency.TotalMilliseconds:0} ms");
}
