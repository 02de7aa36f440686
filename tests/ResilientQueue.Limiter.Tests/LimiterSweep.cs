using System.Globalization;
using System.Text;
using ResilientQueue.Concurrency;
using Xunit.Abstractions;

namespace ResilientQueue.Limiter.Tests;

/// <summary>
/// The documented experiment behind docs/adaptive-concurrency.md, too long for CI (about 15 minutes): every algorithm
/// against the real downstream for C = 4, 12, 50 and base latencies of 5, 20, 100 and 500 ms, and the capacity dip with a
/// row per second. Runs only when <c>RESILIENTQUEUE_LIMITER_SWEEP</c> names a file to write the Markdown tables to:
/// <c>RESILIENTQUEUE_LIMITER_SWEEP=/tmp/sweep.md dotnet test tests/ResilientQueue.Limiter.Tests --filter LimiterSweep</c>.
/// </summary>
public sealed class LimiterSweep(ITestOutputHelper output)
{
    private const string Variable = "RESILIENTQUEUE_LIMITER_SWEEP";

    [SweepFact]
    public async Task Sweep_EveryAlgorithm_CapacitiesAndLatencies_WritesTheTable()
    {
        var table = new StringBuilder("| algorithm | C | base latency | judged after | limit (median) | half-seconds in ±30 % | limit range | latency (median) | throughput kept | timeouts (outside stalls) | 503 |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (ConcurrencyLimitAlgorithm algorithm in new[] { ConcurrencyLimitAlgorithm.Vegas, ConcurrencyLimitAlgorithm.Aimd, ConcurrencyLimitAlgorithm.Gradient })
        {
            foreach (int baseLatencyMs in new[] { 5, 20, 100, 500 })
            {
                foreach (int capacity in new[] { 4, 12, 50 })
                {
                    var baseLatency = TimeSpan.FromMilliseconds(baseLatencyMs);
                    double warmUp = Math.Min(60, Scenarios.WarmUpSeconds(algorithm, capacity, baseLatency) * (algorithm == ConcurrencyLimitAlgorithm.Gradient ? 2 : 1));
                    double end = warmUp + Math.Max(6, 40 * baseLatency.TotalSeconds);
                    RunResult result = await Scenarios.SteadyAsync(algorithm, capacity, baseLatency, end);
                    PhaseStats s = result.Phase(warmUp, end);
                    string row = string.Create(
                        CultureInfo.InvariantCulture,
                        $"| {algorithm} | {capacity} | {baseLatencyMs} ms | {warmUp:0} s | {s.MedianLimit:0.#} ({s.MedianLimit / capacity:0.00} C) | {s.ShareWithin():P0} | {s.MinLimit}-{s.MaxLimit} | {s.MedianLatencyMs:0.#} ms | {s.MedianUtilisation:P1} | {s.TimedOut} ({s.TimedOutOutsideStalls}) | {s.Unavailable} |\n");
                    table.Append(row);
                    output.WriteLine(row.TrimEnd() + "   stalls: " + result.StallSummary());
                }
            }
        }

        await WriteAsync("## Sweep\n\n" + table);
    }

    [SweepFact]
    public async Task Dip_EveryAlgorithm_WritesARowPerSecond()
    {
        var text = new StringBuilder();
        foreach (ConcurrencyLimitAlgorithm algorithm in new[] { ConcurrencyLimitAlgorithm.Vegas, ConcurrencyLimitAlgorithm.Aimd, ConcurrencyLimitAlgorithm.Gradient })
        {
            RunResult result = await Scenarios.DipAsync(algorithm);
            text.Append(CultureInfo.InvariantCulture, $"## Dip, {algorithm}\n\n");
            text.Append(CultureInfo.InvariantCulture, $"C 12 -> 4 at {Scenarios.DipFrom} s: within ±30 % after {result.SecondsUntilWithin(Scenarios.DipFrom, Scenarios.DipUntil, 4):0.0#} s; back to 12 at {Scenarios.DipUntil} s: within ±30 % after {result.SecondsUntilWithin(Scenarios.DipUntil, Scenarios.DipEnd, 12):0.0#} s.\n\n");
            text.Append(CultureInfo.InvariantCulture, $"- before: {result.Phase(3, Scenarios.DipFrom)}\n- dip, from 2.5 s in: {result.Phase(Scenarios.DipFrom + 2.5, Scenarios.DipUntil)}\n- after, from 2.5 s in: {result.Phase(Scenarios.DipUntil + 2.5, Scenarios.DipEnd)}\n- stalls: {result.StallSummary()}\n\n");
            text.Append(result.PerSecondTable(0, Scenarios.DipEnd)).Append('\n');
            text.Append("limit every 100 ms: ").Append(result.LimitSeries()).Append("\n\n");
        }

        output.WriteLine(text.ToString());
        await WriteAsync(text.ToString());
    }

    private static async Task WriteAsync(string markdown) =>
        await File.AppendAllTextAsync(Environment.GetEnvironmentVariable(Variable)!, markdown + "\n");

    /// <summary>A fact that runs only when <c>RESILIENTQUEUE_LIMITER_SWEEP</c> is set.</summary>
    private sealed class SweepFactAttribute : FactAttribute
    {
        public SweepFactAttribute()
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
            {
                Skip = $"An experiment of about 15 minutes, not for CI: set {Variable} to a file for its Markdown tables (docs/adaptive-concurrency.md).";
            }
        }
    }
}
