using System.Globalization;
using CrawlPipeline.Pipeline;
using CrawlPipeline.View;
using Spectre.Console;

namespace CrawlPipeline;

/// <summary>The end-of-run tables: the queues, the results, the dead letters, and the checks of the expected outcome.</summary>
public static class Summary
{
    /// <summary>Writes the queues', results' and dead letters' tables.</summary>
    public static void Write(IAnsiConsole console, FinalState final, PipelineStats stats, RunLog log, TimeSpan elapsed)
    {
        var queues = new Table().Border(TableBorder.Rounded).Title(Inv($"summary after {elapsed.TotalSeconds:0.0} s"))
            .AddColumns("queue", "done", "dead", "kept (ready/delayed/active)", "retried", "failures by category (this run)", "worker");
        foreach ((string name, ResilientQueue.QueueStatus status) in final.Queues)
        {
            IReadOnlyDictionary<string, long> failures = stats.FailuresByCategory(name);
            queues.AddRow(
                Markup.Escape(name),
                N(status.Completed),
                N(status.Dead),
                Inv($"{status.Ready}/{status.Delayed}/{status.Active}"),
                N(stats.Count("resilientqueue.jobs.retried", name)),
                Markup.Escape(failures.Count == 0 ? "-" : string.Join(", ", failures.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => Inv($"{f.Key} {f.Value}")))),
                Markup.Escape(final.Health.GetValueOrDefault(name, "?")));
        }

        console.Write(queues);

        IEnumerable<PageRecord> records = final.Records.Values;
        int full = records.Count(r => r.Result is { Partial: false });
        int partial = records.Count(r => r.Result is { Partial: true });
        int skipped = records.Count(r => r.SkipReason is not null);
        var results = new Table().Border(TableBorder.Rounded).AddColumns("results", "pages", "examples");
        results.AddRow("extracted", N(full), Markup.Escape(Examples(records.Where(r => r.Result is { Partial: false }).Select(r => Inv($"{r.Path} \"{r.Result!.Title}\" {r.Result.Words} words")))));
        results.AddRow("partial (timeout fallback)", N(partial), Markup.Escape(Examples(records.Where(r => r.Result is { Partial: true }).Select(r => Inv($"{r.Path}: {r.Result!.Words} words arrived")))));
        results.AddRow("skipped (404)", N(skipped), Markup.Escape(Examples(records.Where(r => r.SkipReason is not null).Select(r => r.Path))));
        foreach ((string queue, IReadOnlyList<(string Path, ResilientQueue.Errors.ErrorCategory Category, string Reason)> dead) in final.DeadLetters.Where(d => d.Value.Count > 0))
        {
            results.AddRow("dead letters of " + Markup.Escape(queue), N(dead.Count), Markup.Escape(Examples(dead.Select(d => $"{d.Path} [{d.Category}] {Cut(d.Reason)}"))));
        }

        results.AddRow("links", N(stats.LinksFound), Inv($"{stats.Duplicates} already known, turned away by the idempotency key"));
        results.AddRow("backpressure waits", N(stats.BackpressureWaits), "crawl jobs that found the extract queue above its watermark and waited for room");
        results.AddRow("reaped leases", N(log.EventCounts.GetValueOrDefault(3001) + log.EventCounts.GetValueOrDefault(3004) + log.EventCounts.GetValueOrDefault(3002)), "expired leases the reaper took back (after a kill -9)");
        console.Write(results);
    }

    /// <summary>Writes the checks and the verdict.</summary>
    public static void WriteChecks(IAnsiConsole console, IReadOnlyList<Check> checks, TimeSpan elapsed)
    {
        foreach (Check check in checks)
        {
            console.MarkupLine((check.Passed ? "[green]ok  [/] " : "[red]FAIL[/] ") + Markup.Escape($"{check.Name}: {check.Detail}"));
        }

        int failed = checks.Count(c => !c.Passed);
        console.MarkupLine(failed == 0
            ? Inv($"[green]outcome as expected[/] ({checks.Count} checks, {elapsed.TotalSeconds:0.0} s)")
            : Inv($"[red]outcome NOT as expected[/]: {failed} of {checks.Count} checks failed ({elapsed.TotalSeconds:0.0} s)"));
    }

    private static string Examples(IEnumerable<string> items)
    {
        string[] all = [.. items.Order(StringComparer.Ordinal)];
        return all.Length <= 3 ? string.Join("; ", all) : string.Join("; ", all.Take(3)) + Inv($"; … {all.Length - 3} more");
    }

    private static string Cut(string text) => text.Length <= 90 ? text : text[..90] + "…";

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
