using Microsoft.AspNetCore.Http;
using ResilientQueue.AspNetCore.Dashboard;
using ResilientQueue.AspNetCore.Rendering;

namespace ResilientQueue.AspNetCore.Pages;

/// <summary>
/// Every action is confirmed first: this page says what will change and holds the POST form (with its antiforgery
/// token) that does it. Nothing changes on a GET.
/// </summary>
internal static class ConfirmPage
{
    public static IResult Render(DashboardContext ctx, string queueName)
    {
        if (!ctx.Options.AllowActions)
        {
            return ctx.Page("Read-only", new Html().Raw("<p>").Text("This dashboard is read-only (DashboardOptions.AllowActions is false).").Raw("</p>"), status: StatusCodes.Status403Forbidden);
        }

        if (ctx.Queues.Find(queueName) is null)
        {
            return ctx.NotFound($"The dashboard lists no queue '{queueName}'.");
        }

        IQueryCollection q = ctx.Http.Request.Query;
        if (!ActionRequest.TryRead(q["action"], q["id"], q["category"], q["olderThan"], ctx.Options.PageSize, out ActionRequest request, out string problem))
        {
            return ctx.Page("Confirm", new Html().Raw("<p class=\"bad\">").Text(problem).Raw("</p>"), status: StatusCodes.Status400BadRequest);
        }

        var html = new Html();
        html.Raw("<p id=\"what\">").Text(request.Describe(queueName)).Raw("</p>");
        if (request.Ids.Count > 1)
        {
            html.Raw("<ul>");
            foreach (string id in request.Ids)
            {
                html.Raw("<li>").Text(id).Raw("</li>");
            }

            html.Raw("</ul>");
        }

        html.Raw("<form method=\"post\"").Attr("action", ctx.QueueUrl(queueName, "actions/" + request.Action)).Raw(">");
        ctx.AntiforgeryField(html);
        foreach (string id in request.Ids)
        {
            html.Hidden("id", id);
        }

        html.Hidden("category", request.Filter.Category).Hidden("olderThan", request.Filter.OlderThanText)
            .Raw(request.IsDestructive ? "<button type=\"submit\" class=\"danger\" id=\"confirm\">" : "<button type=\"submit\" class=\"primary\" id=\"confirm\">")
            .Text(request.IsDestructive ? "Yes, delete" : "Yes, " + request.Action.Replace('-', ' ')).Raw("</button> ")
            .Link(ctx.QueueUrl(queueName), "Cancel").Raw("</form>");
        return ctx.Page("Confirm: " + request.Action.Replace('-', ' '), html);
    }
}
