using ResilientQueue.AspNetCore.Dashboard;

namespace ResilientQueue.AspNetCore.Rendering;

/// <summary>The frame of every page: header, navigation, the flash message, and the page's body.</summary>
internal static class Layout
{
    public static string Page(DashboardContext ctx, string title, Html body, string? flash = null, bool flashIsError = false)
    {
        var html = new Html();
        html.Raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Raw("<title>").Text(title).Raw(" · ResilientQueue</title>")
            .Raw("<link rel=\"stylesheet\"").Attr("href", ctx.Url("assets/dashboard.css")).Raw("></head><body>")
            .Raw("<header><a class=\"brand\"").Attr("href", ctx.Url("")).Raw(">ResilientQueue</a>")
            .Link(ctx.Url(""), "Queues")
            .Raw("<form class=\"inline\" method=\"get\"").Attr("action", ctx.Url("jobs")).Raw(">")
            .Raw("<input name=\"id\" placeholder=\"job id\" aria-label=\"job id\" size=\"34\"> <button type=\"submit\">Find job</button></form>")
            .Raw("<span class=\"mode\">").Text(ctx.Options.AllowActions ? "actions allowed" : "read-only").Raw("</span></header><main>");
        if (!string.IsNullOrEmpty(flash))
        {
            html.Raw(flashIsError ? "<div class=\"flash error\" role=\"alert\">" : "<div class=\"flash\" role=\"status\">").Text(flash).Raw("</div>");
        }

        html.Raw("<h1>").Text(title).Raw("</h1>").Raw(body.ToString()).Raw("</main></body></html>");
        return html.ToString();
    }
}
