using System.Globalization;
using LlmExtraction.FakeLlm;
using LlmExtraction.Pipeline;
using Spectre.Console;

namespace LlmExtraction.Monitoring;

/// <summary>The end of a run: the dead letters and their requeue, a summary table, and the checks.</summary>
internal static class SummaryView
{
    public static void Write(
        IAnsiConsole console, TextWriter output, RunLedger ledger, IReadOnlyList<ReviewedDeadLetter> reviewed, Snapshot last,
        IReadOnlyList<PipelineSample> samples, FakeLlmServer llm, IReadOnlyList<Check> checks)
    {
        if (ledger.TimedOut.Values.FirstOrDefault() is { } timeout)
        {
            output.WriteLine();
            output.WriteLine("What a producer is told when its wait times out (RequestTimeout):");
            output.WriteLine($"  {timeout.GetType().Name}: {timeout.Message}");
        }

        if (ledger.Failed.Values.FirstOrDefault() is { } failed)
        {
            output.WriteLine("What a producer is told when its request is dead-lettered:");
            output.WriteLine($"  {failed.GetType().Name}: {failed.Message}");
        }

        var dead = new Table().Title("Dead letters: listed, requeued (two callers at once), run again").AddColumns("job", "chunk", "attempts", "category", "last error", "requeue", "after the requeue");
        foreach (ReviewedDeadLetter entry in reviewed)
        {
            dead.AddRow(
                Markup.Escape(entry.JobId),
                Markup.Escape(entry.ChunkId),
                entry.Attempts.ToString(CultureInfo.InvariantCulture),
                entry.Category,
                Markup.Escape(Shorten(entry.LastError ?? entry.Reason, 44)),
                string.Join(" + ", entry.RequeueOutcomes),
                Markup.Escape(entry.Answer is { } a ? F($"answered (call {llm.CallsFor(entry.ChunkId)}): {a.Entities.Count} entities") : entry.AnswerError ?? "-"));
        }

        console.WriteLine();
        console.Write(dead);

        long[] limits = [.. samples.Select(s => s.Limit).Where(l => l > 0)];
        double[] latencies = [.. samples.Select(s => s.LatencyMs).Where(l => l > 0).Order()];
        var summary = new Table().Title("Summary").AddColumns("", "").HideHeaders();
        void Row(string name, string value) => summary.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("requests", F($"{last.Chunks} from {last.Documents} documents; {ledger.AnsweredInTime.Count} answered while their producer waited, {ledger.TimedOut.Count} RequestTimeout ({ledger.TimedOut.Keys.Count(c => !ledger.Failed.ContainsKey(c))} answered later, the others dead-lettered), {ledger.Failed.Count} dead-lettered (requeued, {reviewed.Count(r => r.Answer is not null)} answered); {ledger.Answers.Count} answered in all"));
        Row("fake model", F($"{llm.Calls} calls: {llm.Answered} answered, {llm.Malformed} malformed JSON, {llm.TooManyRequests} × 429 and {llm.Unavailable} × 503 (overloaded, Retry-After: 1), {llm.Stuck} hung; at most {llm.Gate.MaxRunning} served at once"));
        Row("retries by category", Join(last.RetriedByCategory));
        Row("errors by category", Join(last.Errors));
        Row("adaptive limit", limits.Length == 0 ? "-" : F($"started at {PipelineQueue.Limiter.InitialLimit}{(last.Workers > 1 ? $" in each of {last.Workers} worker processes (summed here)" : "")}, ranged {limits.Min()}–{limits.Max()}, ended at {limits[^1]} (hidden capacity C: {string.Join(" → ", samples.Select(s => s.Capacity).Distinct())})"));
        Row("latency", latencies.Length == 0 ? "-" : F($"median per sample: lowest {latencies[0]:0} ms, median {latencies[latencies.Length / 2]:0} ms, highest {latencies[^1]:0} ms (no-load latency {llm.BaseLatencyMs:0} ms)"));
        Row("backpressure", F($"producer waited {ledger.BackpressureWaits} times at the high watermark ({ledger.BackpressureWaited.TotalSeconds:0.0} s in all); depth at most {ledger.MaxDepth} of {PipelineQueue.Capacity}"));
        Row("time", F($"{last.At.TotalSeconds:0.0} s"));
        console.WriteLine();
        console.Write(summary);

        var table = new Table().Title("Checks").AddColumns("check", "", "what was seen");
        foreach (Check check in checks)
        {
            table.AddRow(Markup.Escape(check.Name), check.Passed ? "[green]ok[/]" : "[red]FAILED[/]", Markup.Escape(check.Detail));
        }

        console.WriteLine();
        console.Write(table);
    }

    private static string Join(IReadOnlyDictionary<string, long> counts) =>
        counts.Count == 0 ? "none" : string.Join(", ", counts.Select(p => F($"{p.Key} {p.Value}")));

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
