using System.Globalization;
using System.Text;

namespace ResilientQueue.Limiter.Tests;

/// <summary>
/// What a <see cref="LimiterRun"/> saw, judged over windows rather than single readings (the machine is shared and
/// noisy): medians of the limit over half-second windows, the downstream's utilisation (its busy slot-time over its
/// capacity × time, which is the throughput as a share of the most it can serve), calls by outcome.
/// </summary>
public sealed class RunResult(IReadOnlyList<Sample> samples, IReadOnlyList<CallRecord> calls, long frequency, IReadOnlyList<(TimeSpan At, TimeSpan Length)> stalls)
{
    /// <summary>How many readings make a judging window (half a second).</summary>
    private const int Window = 5;

    /// <summary>The run's start in <see cref="System.Diagnostics.Stopwatch"/> seconds (readings carry both clocks).</summary>
    private readonly double _origin = samples.Count == 0 ? 0 : (samples[0].Server.Timestamp / (double)frequency) - samples[0].At.TotalSeconds;

    public IReadOnlyList<Sample> Samples { get; } = samples;

    public IReadOnlyList<CallRecord> Calls { get; } = calls;

    /// <summary>When the process did not run for longer than <see cref="StallWatch.Threshold"/> (a loaded machine), and for how long.</summary>
    public IReadOnlyList<(TimeSpan At, TimeSpan Length)> Stalls { get; } = stalls;

    public string StallSummary() => Stalls.Count == 0 ? "no stalls" : string.Join(", ", Stalls.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.At.TotalSeconds:0.0} s: {s.Length.TotalMilliseconds:0} ms")));

    /// <summary>What happened between <paramref name="from"/> and <paramref name="to"/> (seconds since the start).</summary>
    public PhaseStats Phase(double from, double to)
    {
        Sample[] inPhase = Samples.Where(s => s.At.TotalSeconds >= from && s.At.TotalSeconds < to).ToArray();
        if (inPhase.Length < 2)
        {
            throw new InvalidOperationException($"No readings between {from} s and {to} s.");
        }

        ServerCounters first = inPhase[0].Server;
        ServerCounters last = inPhase[^1].Server;
        double seconds = (last.Timestamp - first.Timestamp) / (double)frequency;
        long t0 = first.Timestamp;
        long t1 = last.Timestamp;
        CallRecord[] ended = Calls.Where(c => c.End >= t0 && c.End < t1).ToArray();
        double[] latencies = ended.Where(c => c.Outcome == CallOutcome.Ok).Select(c => (c.End - c.Start) * 1000.0 / frequency).ToArray();
        return new PhaseStats(
            Capacity: last.Capacity,
            MedianLimit: Median(inPhase.Select(s => (double)s.Limit)),
            MinLimit: inPhase.Min(s => s.Limit),
            MaxLimit: inPhase.Max(s => s.Limit),
            WindowMedians: WindowMedians(inPhase),
            MedianInFlight: Median(inPhase.Select(s => (double)s.InFlight)),
            MedianWaiting: Median(inPhase.Select(s => (double)s.Server.Waiting)),
            MaxActive: inPhase.Max(s => s.Server.Active),
            Throughput: (last.Served - first.Served) / seconds,
            Utilisation: Utilisation(first, last),
            MedianUtilisation: Median(inPhase.Chunk(10).Where(second => second.Length >= 5).Select(second => Utilisation(second[0].Server, second[^1].Server))),
            MedianLatencyMs: latencies.Length > 0 ? Median(latencies) : double.NaN,
            Ok: ended.Count(c => c.Outcome == CallOutcome.Ok),
            TimedOut: ended.Count(c => c.Outcome == CallOutcome.TimedOut),
            TimedOutOutsideStalls: ended.Count(c => c.Outcome == CallOutcome.TimedOut && !DuringStall(c)),
            Unavailable: ended.Count(c => c.Outcome == CallOutcome.Unavailable),
            RateLimited: ended.Count(c => c.Outcome == CallOutcome.RateLimited));
    }

    /// <summary>Seconds after <paramref name="from"/> until a half-second median of the limit is within ±<paramref name="band"/> of <paramref name="capacity"/> (null: never before <paramref name="to"/>).</summary>
    public double? SecondsUntilWithin(double from, double to, int capacity, double band = 0.3)
    {
        Sample[] after = Samples.Where(s => s.At.TotalSeconds >= from && s.At.TotalSeconds < to).ToArray();
        for (int i = Window; i <= after.Length; i++)
        {
            double median = Median(after.Skip(i - Window).Take(Window).Select(s => (double)s.Limit));
            if (Math.Abs(median - capacity) <= band * capacity)
            {
                return after[i - 1].At.TotalSeconds - from;
            }
        }

        return null;
    }

    /// <summary>A row per second: limit, in flight (medians), the server's queue, latency (median of calls that ended in it), throughput, timeouts.</summary>
    public string PerSecondTable(double from, double to)
    {
        var table = new StringBuilder("| t (s) | C | limit | in flight | server queue | latency (ms) | calls/s | timeouts | 503 |\n|---|---|---|---|---|---|---|---|---|\n");
        for (double t = from; t < to - 0.5; t++)
        {
            PhaseStats s = Phase(t, t + 1);
            table.Append(CultureInfo.InvariantCulture, $"| {t:0} | {s.Capacity} | {s.MedianLimit:0} | {s.MedianInFlight:0} | {s.MedianWaiting:0} | {s.MedianLatencyMs:0} | {s.Throughput:0} | {s.TimedOut} | {s.Unavailable} |\n");
        }

        return table.ToString();
    }

    /// <summary>The limit series as text (one reading per <see cref="LimiterRun.SampleEvery"/>), for the test output.</summary>
    public string LimitSeries() => string.Join(' ', Samples.Select(s => s.Limit));

    /// <summary>Whether a call was in flight during a stall (or within 100 ms of one): its timeout is the machine's, not the limiter's.</summary>
    private bool DuringStall(CallRecord call)
    {
        double start = call.Start / (double)frequency;
        double end = call.End / (double)frequency;
        return Stalls.Any(s => start - 0.1 <= _origin + s.At.TotalSeconds + s.Length.TotalSeconds && _origin + s.At.TotalSeconds <= end + 0.1);
    }

    private static double Utilisation(ServerCounters first, ServerCounters last) =>
        (last.BusyTicks - first.BusyTicks) / (double)(last.Capacity * (last.Timestamp - first.Timestamp));

    internal static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static double[] WindowMedians(Sample[] readings) =>
        readings.Chunk(Window).Where(w => w.Length == Window).Select(w => Median(w.Select(s => (double)s.Limit))).ToArray();
}

/// <summary>One phase of a run (see <see cref="RunResult.Phase"/>).</summary>
public sealed record PhaseStats(
    int Capacity,
    double MedianLimit,
    int MinLimit,
    int MaxLimit,
    double[] WindowMedians,
    double MedianInFlight,
    double MedianWaiting,
    int MaxActive,
    double Throughput,
    double Utilisation,
    double MedianUtilisation,
    double MedianLatencyMs,
    int Ok,
    int TimedOut,
    int TimedOutOutsideStalls,
    int Unavailable,
    int RateLimited)
{
    /// <summary>The share of half-second medians of the limit within ±<paramref name="band"/> of the capacity.</summary>
    public double ShareWithin(double band = 0.3) =>
        WindowMedians.Length == 0 ? 0 : WindowMedians.Count(m => Math.Abs(m - Capacity) <= band * Capacity) / (double)WindowMedians.Length;

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"C={Capacity}: limit median {MedianLimit:0.#} [{MinLimit}..{MaxLimit}] ({MedianLimit / Capacity:0.00} C, {ShareWithin():P0} of half-second medians in ±30 %), in flight {MedianInFlight:0.#}, server queue {MedianWaiting:0.#}, max served at once {MaxActive}, latency {MedianLatencyMs:0.#} ms, {Throughput:0} calls/s = {Utilisation:P1} of capacity (median second {MedianUtilisation:P1}), ok {Ok}, timeouts {TimedOut} ({TimedOutOutsideStalls} outside stalls), 503 {Unavailable}, 429 {RateLimited}");
}
