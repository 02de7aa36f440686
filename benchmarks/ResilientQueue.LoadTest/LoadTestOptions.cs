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
    int Warmup = 0)
{
    public const string Usage =
        "Usage: ResilientQueue.LoadTest [--jobs 100000] [--concurrency 1,10,100] [--scenario all|prequeued|steady|latency]\n" +
        "       [--consumer all|hosted|raw] [--redis 127.0.0.1:PORT] [--output FILE.md] [--json] [--time-limit SECONDS]\n" +
        "       [--warmup JOBS]\n" +
        "--json runs one scenario (one --scenario, one --concurrency, one --consumer) and prints one JSON line.\n" +
        "--warmup runs that many pre-queued jobs through the same consumer in the same process before each measured run\n" +
        "(not measured), as a long-running worker is warm; 0 (the default) measures a cold process.";

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
                "--warmup" => o with { Warmup = Int(value, 0, 1_000_000, "--warmup") },
                _ => throw new ArgumentException($"Unknown option {args[i]}.\n{Usage}"),
            };
            i++;
        }

        if (o.Json && (o.Scenarios.Length != 1 || o.Consumers.Length != 1 || o.Concurrency.Length != 1))
        {
            throw new ArgumentException($"--json runs one scenario: give one --scenario, one --consumer and one --concurrency.\n{Usage}");
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

    private static int Int(string text, int min, int max, string name) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name} must be a whole number from {min:N0} to {max:N0}, not '{text}'.");
}
