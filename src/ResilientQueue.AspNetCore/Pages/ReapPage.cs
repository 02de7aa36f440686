using Microsoft.AspNetCore.Http;
using ResilientQueue.AspNetCore.Dashboard;
using ResilientQueue.AspNetCore.Rendering;

namespace ResilientQueue.AspNetCore.Pages;

/// <summary>The expired leases of a queue as a dry run shows them (what a reap would do to each), and the button to reap now.</summary>
internal static class ReapPage
{
    public static async Task<IResult> RenderAsync(DashboardContext ctx, string queueName)
    {
        if (ctx.Queues.Find(queueName) is not { } queue)
        {
            return ctx.NotFound($"The dashboard lists no queue '{queueName}'.");
        }

        if (!Filter.TryRead(null, ctx.Http.Request.Query["olderThan"], out Filter filter, out string? problem))
        {
            return ctx.Page("Stale leases of " + queueName, new Html().Raw("<p class=\"bad\">").Text(problem).Raw("</p>"), status: StatusCodes.Status400BadRequest);
        }

        IReadOnlyList<ReapedJob> preview = await queue.ReapExpiredAsync(JobQueueOptions.MaxBatchSize, filter.OlderThan ?? TimeSpan.Zero, dryRun: true, ctx.Aborted).ConfigureAwait(false);
        DateTimeOffset now = ctx.Time.GetUtcNow();
        int page = Paging.Page(ctx.Http, preview.Count, ctx.Options.PageSize);
        var html = new Html();
        html.Raw("<p>").Link(ctx.QueueUrl(queueName), "← queue " + queueName).Raw("</p>")
            .Raw("<form class=\"filters\" method=\"get\"").Attr("action", ctx.QueueUrl(queueName, "reap")).Raw("><label>Lease ran out at least <input name=\"olderThan\" size=\"6\" placeholder=\"e.g. 5m\"")
            .Attr("value", filter.OlderThanText).Raw("> ago</label> <button type=\"submit\">Preview</button></form>")
            .Raw("<p id=\"preview-count\">").Text(preview.Count >= JobQueueOptions.MaxBatchSize ? $"Dry run: at least {preview.Count} expired leases (the first {preview.Count} shown)." : $"Dry run: {preview.Count} expired leases. Nothing was changed.").Raw("</p>");
        html.Raw("<table id=\"stale\"><thead><tr><th>Job id</th><th class=\"num\">Attempts</th><th>Lease expired at</th><th>Stale for</th><th>Reap would</th></tr></thead><tbody>");
        foreach (ReapedJob job in preview.Skip(page * ctx.Options.PageSize).Take(ctx.Options.PageSize))
        {
            html.Raw("<tr><td>").Link(ctx.QueueUrl(queueName, "jobs/" + DashboardContext.Segment(job.JobId)), job.JobId).Raw("</td><td class=\"num\">").Text($"{job.Attempts}/{job.MaxAttempts}").Raw("</td>")
                .Cell(job.LeaseExpiredAt).Cell(now - job.LeaseExpiredAt).Cell(Outcome(job)).Raw("</tr>");
        }

        html.Raw("</tbody></table>");
        Paging.Links(html, ctx, preview.Count, page, p => ctx.QueueUrl(queueName, "reap", ("olderThan", filter.OlderThanText), ("page", p)));
        if (ctx.Options.AllowActions && preview.Count > 0)
        {
            html.Raw("<form method=\"get\"").Attr("action", ctx.QueueUrl(queueName, "confirm")).Raw(">").Hidden("action", "reap").Hidden("olderThan", filter.OlderThanText)
                .Raw("<button type=\"submit\">Reap now…</button></form>");
        }

        return ctx.Page("Stale leases of " + queueName, html);
    }

    private static string Outcome(ReapedJob job) =>
        job.Action == ReapAction.DeadLettered ? "dead-letter"
        : job.AttemptRefunded ? "requeue, attempt given back (its handler never started)"
        : "requeue";
}
