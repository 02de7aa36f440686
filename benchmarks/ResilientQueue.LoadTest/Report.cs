using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ResilientQueue.LoadTest;

/// <summary>Writes results: one JSON line per run (for benchmarks/peers), or the markdown report.</summary>
internal static class Report
{
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Json(ScenarioResult result) => JsonSerializer.Serialize(result, JsonOptions);

    public static string Markdown(IReadOnlyList<ScenarioResult> results, string header)
    {
        var report = new StringBuilder(header);
        Section(report, results, Scenario.Prequeued, "Pre-queued: bulk enqueue N (batches of 1,000, 4 in flight), then start the consumer; jobs/s = N / (consumer start to last ack)",
            "| concurrency | consumer | jobs/s | bulk enqueue jobs/s | memory/queued job | commands/job | Redis CPU µs/job | client CPU µs/job | allocated B/job | commands per kind (per job) | warm-up jobs | jit ms |",
            r => $"| {r.Concurrency} | {r.Consumer.ToString().ToLowerInvariant()} | {r.JobsPerSecond:N0} | {r.EnqueueJobsPerSecond:N0} | {r.MemoryBytesPerQueuedJob:N0} B | {r.CommandsPerJob:N2} | {r.RedisCpuMicrosecondsPerJob:N2} | {r.ClientCpuMicrosecondsPerJob:N2} | {r.AllocatedBytesPerJob?.ToString("N0", CultureInfo.InvariantCulture) ?? "–"} | {r.CommandBreakdown} | {r.WarmupJobs:N0} | {r.JitMilliseconds:N0} |");
        Section(report, results, Scenario.Steady, "Steady: the producer enqueues batches of 100 (8 in flight) while the consumer runs; jobs/s = N / (first enqueue to last ack)",
            "| concurrency | consumer | end-to-end jobs/s | commands/job | Redis CPU µs/job | client CPU µs/job (with the producer) | allocated B/job | commands per kind (per job) | warm-up jobs | jit ms |",
            r => $"| {r.Concurrency} | {r.Consumer.ToString().ToLowerInvariant()} | {r.JobsPerSecond:N0} | {r.CommandsPerJob:N2} | {r.RedisCpuMicrosecondsPerJob:N2} | {r.ClientCpuMicrosecondsPerJob:N2} | {r.AllocatedBytesPerJob?.ToString("N0", CultureInfo.InvariantCulture) ?? "–"} | {r.CommandBreakdown} | {r.WarmupJobs:N0} | {r.JitMilliseconds:N0} |");
        Section(report, results, Scenario.Latency, $"Pickup latency when idle: one job every 2 ms, {ScenarioRunner.LatencySamples:N0} jobs; latency = enqueue call start to handler start",
            "| concurrency | consumer | p50 | p99 | max | commands/job | Redis CPU µs/job | client CPU µs/job | allocated B/job | warm-up jobs | jit ms |",
            r => $"| {r.Concurrency} | {r.Consumer.ToString().ToLowerInvariant()} | {r.P50Ms:N2} ms | {r.P99Ms:N2} ms | {r.MaxMs:N2} ms | {r.CommandsPerJob:N2} | {r.RedisCpuMicrosecondsPerJob:N2} | {r.ClientCpuMicrosecondsPerJob:N2} | {r.AllocatedBytesPerJob?.ToString("N0", CultureInfo.InvariantCulture) ?? "–"} | {r.WarmupJobs:N0} | {r.JitMilliseconds:N0} |");
        return report.ToString();
    }

    private static void Section(StringBuilder report, IReadOnlyList<ScenarioResult> results, Scenario scenario, string title, string columns, Func<ScenarioResult, FormattableString> row)
    {
        ScenarioResult[] rows = results.Where(r => r.Scenario == scenario).ToArray();
        if (rows.Length == 0)
        {
            return;
        }

        report.AppendLine(CultureInfo.InvariantCulture, $"## {title}").AppendLine().AppendLine(columns);
        report.AppendLine(string.Concat(Enumerable.Repeat("|---", columns.Count(c => c == '|') - 1)) + "|");
        foreach (ScenarioResult r in rows)
        {
            report.AppendLine(row(r).ToString(CultureInfo.InvariantCulture));
        }

        report.AppendLine();
    }
}
