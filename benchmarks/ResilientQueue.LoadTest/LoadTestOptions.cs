using System.Globalization;

namespace ResilientQueue.LoadTest;

/// <summary>A scenario of the load test.</summary>
internal enum Scenario
{
    /// <summary>Bulk enqueue N, then start the consumer and time until the last ack.</summary>
    Prequeued,

    /// <summary>A producer enqueues batches while the consumer runs; end to end time.</summary>
    Steady,

    /// <summary>Idle consumer, one job every 2 ms; enqueue start to handler start.</summary>
    Latency,
}

/// <summary>
/// The command line. Report mode (no <c>--json</c>) runs every scenario for both consumers and prints a markdown report;
/// <c>--json</c> runs exactly one scenario (<c>--scenario</c>, one <c>--concurrency</c>, <c>--consumer</c>) and prints one
/// JSON line (benchmarks/peers/run.sh uses it).
/// </summary>
internal sealed record LoadTestOptions(
    int Jobs,
    int[] Concurrency,
    Scenario[] Scenarios,
    ConsumerKind[] Consumers,
    string? Redis,
    string? Output,
    bool Json,
    int TimeLimitSeconds,
    Backend Backend = Backend.Lists,
    int Groups = 1,
    int Warmup = 0,
    double? TraceSample = 1.0)
{
    public const string Usage =
        "Usage: ResilientQueue.LoadTest [--jobs 100000] [--concurrency 1,10,100] [--scenario all|prequeued|steady|latency]\n" +
        "       [--consumer all|hosted|raw] [--redis 127.0.0.1:PORT] [--output FILE.md] [--json] [--time-limit SECONDS]\n" +
        "       [--backend lists|streams] [--groups N] [--warmup JOBS] [--trace-sample 1|RATIO|none]\n" +
        "--json runs one scenario (one --scenario, one --concurrency, one --consumer) and prints one JSON line.\n" +
        "--groups (streams only, 1-10): consumer groups reading the stream, each with its own consumer; every job is consumed once per group.\n" +
        "--warmup runs that many pre-queued jobs through the same consumer in the same process before each measured run\n" +
        "(not measured), as a long-running worker is warm; 0 (the default) measures a cold process.\n" +
        "--trace-sample: the hosted worker's OpenTelemetry trace sampler: 1 (the default) records every job's span, a ratio\n" +
        "below 1 records that share (TraceIdRatioBasedSampler; the others are created only to propagate), none registers\n" +
        "no tracing (metrics stay on).";

    public static LoadTestOptions Parse(string[] args)
    {
        var o = new LoadTestOptions(100_000, [1, 10, 100], [Scenario.Prequeued, Scenario.Steady, Scenario.Latency], [ConsumerKind.Hosted, ConsumerKind.Raw], null, null, false, 1800);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--json")
            {
                o = o with { Json = true };
                continue;
            }

            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.\n{Usage}");
            o = args[i] switch
            {
                "--jobs" => o with { Jobs = Int(value, 1, 5_000_000, "--jobs") },
                "--concurrency" => o with { Concurrency = value.Split(',').Select(c => Int(c, 1, 1000, "--concurrency")).ToArray() },
                "--scenario" or "--mode" => o with
                {
                    Scenarios = value == "all" ? [Scenario.Prequeued, Scenario.Steady, Scenario.Latency]
                        : [Enum.TryParse(value, ignoreCase: true, out Scenario s) && Enum.IsDefined(s) ? s : throw new ArgumentException($"--scenario is all, prequeued, steady or latency, not '{value}'.")],
                },
                "--consumer" => o with
                {
                    Consumers = value == "all" ? [ConsumerKind.Hosted, ConsumerKind.Raw]
                        : [Enum.TryParse(value, ignoreCase: true, out ConsumerKind c) && Enum.IsDefined(c) ? c : throw new ArgumentException($"--consumer is all, hosted or raw, not '{value}'.")],
                },
                "--redis" => o with { Redis = value },
                "--output" => o with { Output = value },
                "--time-limit" => o with { TimeLimitSeconds = Int(value, 1, 7200, "--time-limit") },
                "--backend" => o with { Backend = Enum.TryParse(value, ignoreCase: true, out Backend b) && Enum.IsDefined(b) ? b : throw new ArgumentException($"--backend is lists or streams, not '{value}'.") },
                "--groups" => o with { Groups = Int(value, 1, 10, "--groups") },
                "--warmup" => o with { Warmup = Int(value, 0, 1_000_000, "--warmup") },
                "--trace-sample" => o with { TraceSample = value == "none" ? null : Ratio(value, "--trace-sample") },
                _ => throw new ArgumentException($"Unknown option {args[i]}.\n{Usage}"),
            };
            i++;
        }

        if (o.Json && (o.Scenarios.Length != 1 || o.Consumers.Length != 1 || o.Concurrency.Length != 1))
        {
            throw new ArgumentException($"--json runs one scenario: give one --scenario, one --consumer and one --concurrency.\n{Usage}");
        }

        if (o.Groups > 1 && o.Backend != Backend.Streams)
        {
            throw new ArgumentException("--groups needs --backend streams (a list queue has no consumer groups).");
        }

        if (o.Groups > 1 && o.Scenarios.Contains(Scenario.Latency))
        {
            throw new ArgumentException("--groups above 1 measures prequeued and steady runs; give --scenario prequeued or steady.");
        }

        if (o.Json && o.Redis is null)
        {
            throw new ArgumentException("--json needs --redis (the server the caller measures).");
        }

        return o;
    }

    public static void RequireLoopback(string endpoint)
    {
        string host = endpoint.Split(',')[0];
        host = host.StartsWith('[') ? host[1..host.IndexOf(']', StringComparison.Ordinal)] : host.Split(':')[0];
        if (host != "localhost" && !(System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip)))
        {
            throw new ArgumentException($"The load test only targets loopback servers; '{host}' is not one.");
        }
    }

    private static double Ratio(string text, string name) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && r >= 0 && r <= 1
            ? r
            : throw new ArgumentException($"{name} is a ratio from 0 to 1 or none, not '{text}'.");

    private static int Int(string text, int min, int max, string name) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name} must be a whole number from {min:N0} to {max:N0}, not '{text}'.");
}
