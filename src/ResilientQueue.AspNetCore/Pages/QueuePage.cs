using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using ResilientQueue.AspNetCore.Dashboard;
using ResilientQueue.AspNetCore.Rendering;

namespace ResilientQueue.AspNetCore.Pages;

/// <summary>One queue: its counts, ages, limiter and worker health, the last hour's charts, and its actions.</summary>
internal static class QueuePage
{
    public static async Task<IResult> RenderAsync(DashboardContext ctx, string queueName)
    {
        if (ctx.Queues.Find(queueName) is not { } queue)
        {
            return ctx.NotFound($"The dashboard lists no queue '{queueName}'.");
        }

        QueueView v = await QueueView.ReadAsync(queue, ctx.Aborted, JobQueueOptions.MaxStepWork).ConfigureAwait(false);
        DateTimeOffset now = ctx.Time.GetUtcNow();
        var html = new Html();
        if (v.Error is not null)
        {
            html.Raw("<p class=\"bad\">").Text("The queue cannot be read: " + v.Error).Raw("</p>");
            return ctx.Page("Queue " + queueName, html);
        }

        html.Raw("<div class=\"cards\">");
        Card(html, "ready", v.Status.Ready);
        Card(html, "delayed", v.Status.Delayed);
        Card(html, "active", v.Status.Active);
        Card(html, "stale", v.StaleText);
        Card(html, "dead", v.Status.Dead);
        Card(html, "DLQ trimmed", v.Status.DeadLetterTrimmed);
        Card(html, "paused", v.Status.IsPaused ? "yes" : "no");
        Card(html, "oldest ready", Ages.OldestReady(v, now));
        Card(html, "oldest active", Ages.OldestActive(v, now));
        Card(html, "backpressure", $"{v.Backpressure.Level} ({v.Backpressure.Utilisation:P0})");
        if (ctx.History.Limiter(queueName) is { } limiter)
        {
            Card(html, "limiter limit", limiter.Limit);
            Card(html, "limiter in flight", limiter.InFlight);
        }

        html.Raw("</div>");
        await WorkerHealthAsync(ctx, html, queueName).ConfigureAwait(false);

        html.Raw("<p>").Link(ctx.QueueUrl(queueName, "dead"), "Dead letters").Raw(" · ").Link(ctx.QueueUrl(queueName, "reap"), "Stale leases and reaping").Raw("</p>");
        if (ctx.Options.AllowActions)
        {
            string action = v.Status.IsPaused ? "resume" : "pause";
            html.Raw("<form method=\"get\"").Attr("action", ctx.QueueUrl(queueName, "confirm")).Raw(">").Hidden("action", action)
                .Raw("<button type=\"submit\">").Text(v.Status.IsPaused ? "Resume fetching…" : "Pause fetching…").Raw("</button></form>");
        }

        html.Raw("<form class=\"filters\" method=\"get\"").Attr("action", ctx.Url("jobs")).Raw(">").Hidden("queue", queueName)
            .Raw("<label>Job id <input name=\"id\" size=\"34\"></label> <button type=\"submit\">Look up</button></form>");
        Charts(ctx, html, queueName);
        return ctx.Page("Queue " + queueName, html);
    }

    private static void Card(Html html, string key, object? value) =>
        html.Raw("<div class=\"card\"").Attr("data-card", key).Raw("><div class=\"v\">").Text(value).Raw("</div><div class=\"k\">").Text(key).Raw("</div></div>");

    private static async Task WorkerHealthAsync(DashboardContext ctx, Html html, string queueName)
    {
        if (ctx.Http.RequestServices.GetService<HealthCheckService>() is not { } health)
        {
            return;
        }

        string check = "resilientqueue:" + queueName;
        HealthReport report = await health.CheckHealthAsync(r => r.Name == check, ctx.Aborted).ConfigureAwait(false);
        if (report.Entries.TryGetValue(check, out HealthReportEntry entry))
        {
            string css = entry.Status == HealthStatus.Healthy ? "ok" : entry.Status == HealthStatus.Degraded ? "warn" : "bad";
            html.Raw("<p>Worker in this process: <span").Attr("class", css).Attr("data-health", entry.Status).Raw(">").Text(entry.Status).Raw("</span> — ").Text(entry.Description).Raw("</p>");
        }
        else
        {
            html.Raw("<p class=\"muted\">No worker of this queue runs in this process.</p>");
        }
    }

    private static void Charts(DashboardContext ctx, Html html, string queueName)
    {
        IReadOnlyList<HistoryPoint> points = ctx.History.Points(queueName);
        DateTimeOffset[] times = [.. points.Select(p => p.At)];
        html.Raw("<h2>Depth, last hour</h2>");
        SvgChart.Render(html, "Jobs by state", times,
        [
            ("ready", [.. points.Select(p => (double)p.Ready)]),
            ("delayed", [.. points.Select(p => (double)p.Delayed)]),
            ("active", [.. points.Select(p => (double)p.Active)]),
            ("dead", [.. points.Select(p => (double)p.Dead)]),
        ]);
        var completed = new double[points.Count];
        var failed = new double[points.Count];
        for (int i = 1; i < points.Count; i++)
        {
            double minutes = Math.Max((points[i].At - points[i - 1].At).TotalMinutes, 1.0 / 60);
            completed[i] = (points[i].Completed - points[i - 1].Completed) / minutes;
            failed[i] = (points[i].Failed - points[i - 1].Failed) / minutes;
        }

        html.Raw("<h2>Throughput, last hour (this process's workers)</h2>");
        SvgChart.Render(html, "Jobs per minute", times, [("completed", completed), ("failed", failed)]);
        html.Raw("<p class=\"muted\">").Text($"Sampled every {Html.Age(ctx.Options.SampleInterval)} in this process; {points.Count} samples kept.").Raw("</p>");
    }
}
