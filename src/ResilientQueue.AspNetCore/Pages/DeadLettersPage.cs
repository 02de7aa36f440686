using System.Globalization;
using Microsoft.AspNetCore.Http;
using ResilientQueue.AspNetCore.Dashboard;
using ResilientQueue.AspNetCore.Rendering;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;

namespace ResilientQueue.AspNetCore.Pages;

/// <summary>A page of a queue's dead letters, newest first, filtered by category and age; the selection goes to the confirmation page.</summary>
internal static class DeadLettersPage
{
    public static async Task<IResult> RenderAsync(DashboardContext ctx, string queueName)
    {
        if (ctx.Queues.Find(queueName) is not { } queue)
        {
            return ctx.NotFound($"The dashboard lists no queue '{queueName}'.");
        }

        if (!Filter.TryRead(ctx.Http.Request.Query, out Filter filter, out string? problem))
        {
            return ctx.Page("Dead letters of " + queueName, new Html().Raw("<p class=\"bad\">").Text(problem).Raw("</p>"), status: StatusCodes.Status400BadRequest);
        }

        string? cursor = ctx.Http.Request.Query["cursor"];
        ResilientQueue.DeadLetter.DeadLetterPage page;
        try
        {
            page = await queue.DeadLetters.ListAsync(filter.Query(ctx.Options.PageSize, cursor), ctx.Aborted).ConfigureAwait(false);
        }
        catch (InvalidOptionsException ex)
        {
            return ctx.Page("Dead letters of " + queueName, new Html().Raw("<p class=\"bad\">").Text(ex.Message).Raw("</p>"), status: StatusCodes.Status400BadRequest);
        }

        long count = await queue.DeadLetters.CountAsync(ctx.Aborted).ConfigureAwait(false);
        DateTimeOffset now = ctx.Time.GetUtcNow();
        var html = new Html();
        html.Raw("<p>").Link(ctx.QueueUrl(queueName), "← queue " + queueName).Raw(" · ").Text($"{count} entries in the store").Raw("</p>");
        FilterForm(ctx, html, queueName, filter);

        html.Raw("<form method=\"get\" id=\"selection\"").Attr("action", ctx.QueueUrl(queueName, "confirm")).Raw(">");
        html.Raw("<table id=\"dead-letters\"><thead><tr>").Raw(ctx.Options.AllowActions ? "<th></th>" : string.Empty)
            .Raw("<th>Job id</th><th>Dead-lettered</th><th>Age</th><th>Category</th><th class=\"num\">Attempts</th><th>Reason</th><th>Last error</th></tr></thead><tbody>");
        foreach (DeadLetterEntry e in page.Entries)
        {
            html.Raw("<tr").Attr("data-job", e.Job.Id).Raw(">");
            if (ctx.Options.AllowActions)
            {
                html.Raw("<td><input type=\"checkbox\" name=\"id\"").Attr("value", e.Job.Id).Attr("aria-label", "select " + e.Job.Id).Raw("></td>");
            }

            html.Raw("<td>").Link(ctx.QueueUrl(queueName, "jobs/" + DashboardContext.Segment(e.Job.Id)), e.Job.Id).Raw("</td>")
                .Cell(e.DeadLetteredAt).Cell(now - e.DeadLetteredAt).Cell(e.Category)
                .Raw("<td class=\"num\">").Text($"{e.Job.Attempts}/{e.Job.MaxAttempts}").Raw("</td>")
                .Raw("<td class=\"reason\">").Text(Clip(e.Reason)).Raw("</td><td class=\"error\">").Text(Clip(e.Job.LastError)).Raw("</td></tr>");
        }

        html.Raw("</tbody></table>");
        if (page.Entries.Count == 0)
        {
            html.Raw("<p class=\"muted\">No entries on this page.</p>");
        }

        if (ctx.Options.AllowActions)
        {
            html.Raw("<p class=\"filters\"><button type=\"submit\" name=\"action\" value=\"requeue\">Requeue selected…</button>")
                .Raw("<button type=\"submit\" name=\"action\" value=\"purge\" class=\"danger\">Purge selected…</button></p>");
        }

        html.Raw("</form>");
        if (page.NextCursor is not null)
        {
            html.Raw("<p class=\"pager\">").Link(ctx.QueueUrl(queueName, "dead", [.. filter.QueryString(), ("cursor", page.NextCursor)]), "next page").Raw("</p>");
        }

        if (ctx.Options.AllowActions)
        {
            html.Raw("<h2>Every matching entry</h2><form class=\"inline\" method=\"get\"").Attr("action", ctx.QueueUrl(queueName, "confirm")).Raw(">")
                .Hidden("action", "requeue-all").Hidden("category", filter.Category).Hidden("olderThan", filter.OlderThanText)
                .Raw("<button type=\"submit\">Requeue all matching…</button></form> ")
                .Raw("<form class=\"inline\" method=\"get\"").Attr("action", ctx.QueueUrl(queueName, "confirm")).Raw(">")
                .Hidden("action", "purge-all").Hidden("olderThan", filter.OlderThanText)
                .Raw("<button type=\"submit\" class=\"danger\">").Text(filter.OlderThan is null ? "Purge every entry…" : "Purge every entry older than " + filter.OlderThanText + "…").Raw("</button></form>");
        }

        return ctx.Page("Dead letters of " + queueName, html);
    }

    private static void FilterForm(DashboardContext ctx, Html html, string queueName, Filter filter)
    {
        html.Raw("<form class=\"filters\" method=\"get\"").Attr("action", ctx.QueueUrl(queueName, "dead")).Raw("><label>Category <select name=\"category\"><option value=\"\">any</option>");
        foreach (ErrorCategory c in Enum.GetValues<ErrorCategory>())
        {
            html.Raw("<option").Attr("value", c).Raw(filter.Category == c ? " selected>" : ">").Text(c).Raw("</option>");
        }

        html.Raw("</select></label> <label>Older than <input name=\"olderThan\" size=\"6\" placeholder=\"e.g. 1h\"").Attr("value", filter.OlderThanText)
            .Raw("></label> <button type=\"submit\">Filter</button></form>");
    }

    private static string? Clip(string? text) => text is { Length: > 200 } ? text[..200] + "…" : text;
}

/// <summary>The dead-letter filter of a request: <c>category</c> (an <see cref="ErrorCategory"/> name) and <c>olderThan</c> (<c>30s</c>, <c>5m</c>, <c>2h</c>, <c>7d</c>).</summary>
internal readonly record struct Filter(ErrorCategory? Category, TimeSpan? OlderThan, string? OlderThanText)
{
    public static bool TryRead(IQueryCollection query, out Filter filter, out string? problem) => TryRead(query["category"], query["olderThan"], out filter, out problem);

    public static bool TryRead(string? category, string? olderThan, out Filter filter, out string? problem)
    {
        filter = default;
        problem = null;
        ErrorCategory? c = null;
        if (!string.IsNullOrEmpty(category))
        {
            if (!Enum.TryParse(category, ignoreCase: true, out ErrorCategory parsed) || !Enum.IsDefined(parsed) || int.TryParse(category, out _))
            {
                problem = "Unknown category. One of: " + string.Join(", ", Enum.GetNames<ErrorCategory>()) + ".";
                return false;
            }

            c = parsed;
        }

        TimeSpan? age = null;
        if (!string.IsNullOrEmpty(olderThan))
        {
            if (!TryParseAge(olderThan, out TimeSpan parsed))
            {
                problem = "Older than: a whole number and a unit, e.g. 30s, 5m, 2h or 7d (at most 3650d).";
                return false;
            }

            age = parsed;
        }

        filter = new Filter(c, age, string.IsNullOrEmpty(olderThan) ? null : olderThan.Trim());
        return true;
    }

    public DeadLetterQuery Query(int limit, string? cursor) => new() { Limit = limit, Cursor = string.IsNullOrEmpty(cursor) ? null : cursor, Category = Category, OlderThan = OlderThan };

    public (string Key, string? Value)[] QueryString() => [("category", Category?.ToString()), ("olderThan", OlderThanText)];

    private static bool TryParseAge(string text, out TimeSpan age)
    {
        age = default;
        text = text.Trim();
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n > 3650 * 86400L)
        {
            return false;
        }

        TimeSpan? unit = text[^1] switch { 's' => TimeSpan.FromSeconds(1), 'm' => TimeSpan.FromMinutes(1), 'h' => TimeSpan.FromHours(1), 'd' => TimeSpan.FromDays(1), _ => null };
        if (unit is null || n * unit.Value.TotalDays > 3650)
        {
            return false;
        }

        age = unit.Value * n;
        return true;
    }
}
