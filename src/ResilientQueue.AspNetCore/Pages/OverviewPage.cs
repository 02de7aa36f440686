using Microsoft.AspNetCore.Http;
using ResilientQueue.AspNetCore.Dashboard;
using ResilientQueue.AspNetCore.Rendering;

namespace ResilientQueue.AspNetCore.Pages;

/// <summary>Every listed queue in one table, a page at a time.</summary>
internal static class OverviewPage
{
    public static async Task<IResult> RenderAsync(DashboardContext ctx)
    {
        IReadOnlyList<string> names = ctx.Queues.Names;
        int page = Paging.Page(ctx.Http, names.Count, ctx.Options.PageSize);
        string[] shown = [.. names.Skip(page * ctx.Options.PageSize).Take(ctx.Options.PageSize)];
        var views = new List<QueueView>(shown.Length);
        foreach (string name in shown)
        {
            views.Add(await QueueView.ReadAsync(ctx.Queues.Provider.GetQueue(name), ctx.Aborted).ConfigureAwait(false));
        }

        DateTimeOffset now = ctx.Time.GetUtcNow();
        var html = new Html();
        if (names.Count == 0)
        {
            html.Raw("<p class=\"muted\">No queues: add a handler, <code>AddQueueMetrics(o =&gt; o.Queues.Add(...))</code> or <code>DashboardOptions.Queues</code>.</p>");
            return ctx.Page("Queues", html);
        }

        html.Raw("<table id=\"queues\"><thead><tr><th>Queue</th><th class=\"num\">Ready</th><th class=\"num\">Delayed</th><th class=\"num\">Active</th>")
            .Raw("<th class=\"num\">Stale</th><th class=\"num\">Dead</th><th class=\"num\">DLQ trimmed</th><th>Paused</th><th>Oldest ready</th>")
            .Raw("<th class=\"num\">Completed/min</th><th class=\"num\">Failed/min</th><th>Backpressure</th></tr></thead><tbody>");
        foreach (QueueView v in views)
        {
            html.Raw("<tr").Attr("data-queue", v.Name).Raw("><td>").Link(ctx.QueueUrl(v.Name), v.Name).Raw("</td>");
            if (v.Error is not null)
            {
                html.Raw("<td colspan=\"11\" class=\"bad\">").Text("cannot read: " + v.Error).Raw("</td></tr>");
                continue;
            }

            (double Completed, double Failed)? rates = ctx.History.RatesPerMinute(v.Name);
            html.Raw("<td class=\"num\" data-col=\"ready\">").Text(v.Status.Ready).Raw("</td>")
                .Raw("<td class=\"num\" data-col=\"delayed\">").Text(v.Status.Delayed).Raw("</td>")
                .Raw("<td class=\"num\" data-col=\"active\">").Text(v.Status.Active).Raw("</td>")
                .Raw(v.Stale > 0 ? "<td class=\"num bad\" data-col=\"stale\">" : "<td class=\"num\" data-col=\"stale\">").Text(v.StaleText).Raw("</td>")
                .Raw("<td class=\"num\" data-col=\"dead\">").Link(ctx.QueueUrl(v.Name, "dead"), v.Status.Dead).Raw("</td>")
                .Raw(v.Status.DeadLetterTrimmed > 0 ? "<td class=\"num warn\" data-col=\"trimmed\">" : "<td class=\"num\" data-col=\"trimmed\">").Text(v.Status.DeadLetterTrimmed).Raw("</td>")
                .Raw("<td data-col=\"paused\">").Text(v.Status.IsPaused ? "yes" : "no").Raw("</td>")
                .Raw("<td data-col=\"oldest-ready\">").Text(Ages.OldestReady(v, now)).Raw("</td>")
                .Raw("<td class=\"num\" data-col=\"completed-rate\">").Text(rates is { } r ? r.Completed : "-").Raw("</td>")
                .Raw("<td class=\"num\" data-col=\"failed-rate\">").Text(rates is { } f ? f.Failed : "-").Raw("</td>")
                .Raw("<td data-col=\"backpressure\">").Text(v.Backpressure.Level).Raw("</td></tr>");
        }

        html.Raw("</tbody></table>");
        Paging.Links(html, ctx, names.Count, page, p => ctx.Url("", ("page", p)));
        html.Raw("<p class=\"muted\">Counts are read live. Completed/failed per minute: this process's workers, over the last five minutes of samples. Stale: leases run out and not yet reaped (counted up to 1,000).</p>");
        return ctx.Page("Queues", html);
    }
}

/// <summary>Page numbers from the query (<c>?page=N</c>, 0-based) and the pager below a list.</summary>
internal static class Paging
{
    public static int Page(HttpContext http, int total, int pageSize)
    {
        int last = Math.Max(0, (total - 1) / pageSize);
        return int.TryParse(http.Request.Query["page"], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int p) ? Math.Clamp(p, 0, last) : 0;
    }

    public static void Links(Html html, DashboardContext ctx, int total, int page, Func<string, string> url)
    {
        int pages = Math.Max(1, (total + ctx.Options.PageSize - 1) / ctx.Options.PageSize);
        if (pages == 1)
        {
            return;
        }

        html.Raw("<p class=\"pager\">").Text($"Page {page + 1} of {pages} ");
        if (page > 0)
        {
            html.Link(url((page - 1).ToString(System.Globalization.CultureInfo.InvariantCulture)), "previous").Raw(" ");
        }

        if (page + 1 < pages)
        {
            html.Link(url((page + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)), "next");
        }

        html.Raw("</p>");
    }
}

/// <summary>Ages as the pages show them.</summary>
internal static class Ages
{
    public static string OldestReady(QueueView v, DateTimeOffset now) =>
        v.Ages is null ? "n/a" : v.Ages.OldestReadySince is { } since ? Html.Age(now - since) : "-";

    public static string OldestActive(QueueView v, DateTimeOffset now) =>
        v.Ages is null ? "n/a" : v.Ages.OldestActiveSince is { } since ? Html.Age(now - since) : "-";
}
