using System.Text;
using Microsoft.AspNetCore.Http;
using ResilientQueue.AspNetCore.Dashboard;
using ResilientQueue.AspNetCore.Rendering;
using ResilientQueue.DeadLetter;

namespace ResilientQueue.AspNetCore.Pages;

/// <summary>One job in any state: its envelope, failure history and a bounded, escaped payload preview; for a dead letter also why it died and its actions.</summary>
internal static class JobPage
{
    /// <summary><c>jobs?id=…[&amp;queue=…]</c>: looks the id up in that queue, or in every listed queue.</summary>
    public static async Task<IResult> FindAsync(DashboardContext ctx)
    {
        string id = ctx.Http.Request.Query["id"].ToString().Trim();
        string? only = ctx.Http.Request.Query["queue"];
        if (id.Length is 0 or > 256)
        {
            return ctx.Page("Find a job", new Html().Raw("<p>").Text("Give a job id (at most 256 characters).").Raw("</p>"), status: StatusCodes.Status400BadRequest);
        }

        foreach (string name in string.IsNullOrEmpty(only) ? ctx.Queues.Names : [only])
        {
            if (ctx.Queues.Find(name) is { } queue && await queue.GetJobAsync(id, ctx.Aborted).ConfigureAwait(false) is not null)
            {
                return TypedResults.Redirect(ctx.QueueUrl(name, "jobs/" + DashboardContext.Segment(id)));
            }
        }

        return ctx.NotFound($"No listed queue has a job '{id}'.");
    }

    public static async Task<IResult> RenderAsync(DashboardContext ctx, string queueName, string jobId)
    {
        if (ctx.Queues.Find(queueName) is not { } queue)
        {
            return ctx.NotFound($"The dashboard lists no queue '{queueName}'.");
        }

        if (await queue.GetJobAsync(jobId, ctx.Aborted).ConfigureAwait(false) is not { } job)
        {
            return ctx.NotFound($"Queue '{queueName}' has no job '{jobId}'.");
        }

        DeadLetterEntry? dead = job.State == JobState.Dead ? await queue.DeadLetters.GetAsync(jobId, ctx.Aborted).ConfigureAwait(false) : null;
        var html = new Html();
        html.Raw("<p>").Link(ctx.QueueUrl(queueName), "← queue " + queueName).Raw("</p><dl class=\"kv\">");
        Row(html, "id", job.Id);
        Row(html, "state", job.State);
        Row(html, "attempts", $"{job.Attempts} of {job.MaxAttempts}");
        Row(html, "priority", job.Priority);
        Row(html, "enqueued at", job.EnqueuedAt);
        Row(html, "available at", job.AvailableAt);
        Row(html, "lease expires at", job.LeaseExpiresAt);
        Row(html, "last error", job.LastError);
        Row(html, "last error category", job.LastErrorCategory);
        if (dead is not null)
        {
            Row(html, "dead-lettered at", dead.DeadLetteredAt);
            Row(html, "dead-letter reason", dead.Reason);
            Row(html, "dead-letter category", dead.Category);
        }

        Row(html, "correlation id", job.CorrelationId);
        Row(html, "idempotency key", job.IdempotencyKey);
        Row(html, "traceparent", job.TraceParent);
        html.Raw("</dl>");

        html.Raw("<h2>Failures</h2>");
        if (job.Failures.Count == 0)
        {
            html.Raw("<p class=\"muted\">None recorded.</p>");
        }
        else
        {
            html.Raw("<table id=\"failures\"><thead><tr><th>At</th><th class=\"num\">Attempt</th><th>Category</th><th>Error</th></tr></thead><tbody>");
            foreach (JobFailureRecord f in job.Failures)
            {
                html.Raw("<tr>").Cell(f.At).Raw("<td class=\"num\">").Text(f.Attempt).Raw("</td>").Cell(f.Category).Raw("<td class=\"error\">").Text(f.Error).Raw("</td></tr>");
            }

            html.Raw("</tbody></table><p class=\"muted\">").Text($"The first and the most recent failures, at most {Job.MaxFailureHistory}.").Raw("</p>");
        }

        Payload(html, job.Payload, ctx.Options.PayloadPreviewBytes);
        if (dead is not null && ctx.Options.AllowActions)
        {
            html.Raw("<h2>Actions</h2><form class=\"inline\" method=\"get\"").Attr("action", ctx.QueueUrl(queueName, "confirm")).Raw(">")
                .Hidden("action", "requeue").Hidden("id", job.Id).Raw("<button type=\"submit\">Requeue…</button></form> ")
                .Raw("<form class=\"inline\" method=\"get\"").Attr("action", ctx.QueueUrl(queueName, "confirm")).Raw(">")
                .Hidden("action", "purge").Hidden("id", job.Id).Raw("<button type=\"submit\" class=\"danger\">Purge…</button></form>");
        }

        return ctx.Page("Job " + job.Id, html);
    }

    private static void Row(Html html, string key, object? value)
    {
        if (value is not null)
        {
            html.Raw("<dt>").Text(key).Raw("</dt><dd").Attr("data-field", key).Raw(">").Text(value).Raw("</dd>");
        }
    }

    /// <summary>At most <paramref name="max"/> bytes: as text when they are UTF-8 without control characters, else as hex; always escaped.</summary>
    private static void Payload(Html html, ReadOnlyMemory<byte> payload, int max)
    {
        html.Raw("<h2>Payload</h2>");
        if (max == 0)
        {
            html.Raw("<p class=\"muted\">").Text($"{payload.Length} bytes (preview turned off).").Raw("</p>");
            return;
        }

        ReadOnlySpan<byte> shown = payload.Span[..Math.Min(payload.Length, max)];
        string text;
        string kind;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(shown);
            kind = text.Any(c => char.IsControl(c) && c is not ('\t' or '\r' or '\n')) ? "hex" : "text";
        }
        catch (DecoderFallbackException)
        {
            text = string.Empty;
            kind = "hex";
        }

        if (kind == "hex")
        {
            text = Convert.ToHexString(shown);
        }

        string note = payload.Length > shown.Length ? $"{payload.Length} bytes, first {shown.Length} shown as {kind}" : $"{payload.Length} bytes, as {kind}";
        html.Raw("<p class=\"muted\">").Text(note).Raw("</p><pre id=\"payload\">").Text(text).Raw("</pre>");
    }
}
