using System.Globalization;
using CrawlPipeline.Pipeline;
using ResilientQueue;
using ResilientQueue.Backpressure;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace CrawlPipeline.View;

/// <summary>One look at the pipeline: the queues' counts, the extract queue's backpressure, the workers' health.</summary>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Queues">Each queue's status, in pipeline order.</param>
/// <param name="Backpressure">The extract queue's signal.</param>
/// <param name="Health">Each worker's health (<c>Healthy</c>, <c>Degraded</c>, <c>Unhealthy</c>), by queue.</param>
public sealed record PipelineSnapshot(TimeSpan Elapsed, IReadOnlyList<(string Name, QueueStatus Status)> Queues, BackpressureSignal Backpressure, IReadOnlyDictionary<string, string> Health);

/// <summary>Draws a <see cref="PipelineSnapshot"/>: a live Spectre.Console view on a terminal, one plain line otherwise.</summary>
public sealed class PipelineView(PipelineStats stats, RunLog log, string title)
{
    private static readonly string[] Categories = ["Transient", "RateLimited", "Unknown", "Validation", "Auth", "LeaseExpired", "Database"];

    /// <summary>The live view.</summary>
    public IRenderable Render(PipelineSnapshot snapshot)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title) + "  " + Seconds(snapshot.Elapsed))
            .AddColumns("queue", "ready", "delayed", "active", "done", "dead", "retried", "failed", "worker");
        foreach ((string name, QueueStatus status) in snapshot.Queues)
        {
            string health = snapshot.Health.GetValueOrDefault(name, "?");
            string worker = health switch
            {
                "Healthy" => "[green]healthy[/]",
                "Unhealthy" => "[red]stopped (unhealthy)[/]",
                _ => "[yellow]" + Markup.Escape(health.ToLowerInvariant()) + "[/]",
            };
            table.AddRow(name, N(status.Ready), N(status.Delayed), N(status.Active), N(status.Completed), status.Dead > 0 ? $"[red]{status.Dead}[/]" : "0",
                N(stats.Count("resilientqueue.jobs.retried", name)), N(stats.Count("resilientqueue.jobs.failed", name)), worker);
        }

        foreach (int i in Enumerable.Range(1, 8))
        {
            table.Columns[i].RightAligned();
        }

        BackpressureSignal bp = snapshot.Backpressure;
        string level = bp.Level switch
        {
            BackpressureLevel.Normal => "[green]Normal[/]",
            BackpressureLevel.Elevated => "[yellow]Elevated[/]",
            _ => "[red]Saturated[/]",
        };
        var facts = new Grid().AddColumn().AddColumn();
        facts.AddRow("crawl concurrency limit", Inv($"{Limit()} (adaptive 2-16; in flight {stats.Gauge("resilientqueue.concurrency.in_flight", CrawlSettings.CrawlQueue) ?? 0})"));
        facts.AddRow("extract backpressure", Inv($"{level} {bp.Depth}/{bp.Capacity} ({bp.Utilisation:P0}); crawl waited {stats.BackpressureWaits} times"));
        facts.AddRow("links", Inv($"{stats.LinksFound} found, {stats.Duplicates} already known (idempotency key)"));
        facts.AddRow("errors by category", Markup.Escape(Errors()));
        facts.AddRow("timeouts → fallback", Inv($"{stats.Count("resilientqueue.jobs.fallback", CrawlSettings.CrawlQueue)} completed by the fallback; reaped leases {log.EventCounts.GetValueOrDefault(3001) + log.EventCounts.GetValueOrDefault(3004)}"));
        var events = new Rows(log.Recent.Select(l => new Text(l) { Overflow = Overflow.Ellipsis }));
        return new Rows(table, facts, new Panel(events).Header("events").Border(BoxBorder.Rounded).Expand());
    }

    /// <summary>The same as one line, for redirected output.</summary>
    public string Line(PipelineSnapshot snapshot)
    {
        IEnumerable<string> queues = snapshot.Queues.Select(q =>
        {
            string health = snapshot.Health.GetValueOrDefault(q.Name, "?");
            string worker = health == "Healthy" ? string.Empty : " worker " + health.ToLowerInvariant();
            return Inv($"{q.Name} ready {q.Status.Ready} delayed {q.Status.Delayed} active {q.Status.Active} done {q.Status.Completed} dead {q.Status.Dead}{worker}");
        });
        return Inv($"{Seconds(snapshot.Elapsed),7} | {string.Join(" | ", queues)} | limit {Limit()} | extract backpressure {snapshot.Backpressure.Level} | errors {Errors()}");
    }

    /// <summary>Failures by category over every queue, e.g. <c>Transient 9, RateLimited 2</c>.</summary>
    public string Errors()
    {
        IReadOnlyDictionary<string, long> failures = stats.FailuresByCategory();
        string text = string.Join(", ", Categories.Where(failures.ContainsKey).Select(c => Inv($"{c} {failures[c]}")));
        return text.Length == 0 ? "none" : text;
    }

    private string Limit() => stats.Gauge("resilientqueue.concurrency.limit", CrawlSettings.CrawlQueue)?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
