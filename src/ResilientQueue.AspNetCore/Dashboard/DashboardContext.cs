using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResilientQueue.AspNetCore.Rendering;

namespace ResilientQueue.AspNetCore.Dashboard;

/// <summary>What a dashboard request works with: the options, the queues, the chart history, and URLs under the dashboard's prefix.</summary>
internal sealed class DashboardContext(HttpContext http, string prefix)
{
    private readonly string _base = (http.Request.PathBase.Value ?? string.Empty).TrimEnd('/') + "/" + prefix.Trim('/');

    public HttpContext Http => http;

    public DashboardOptions Options { get; } = http.RequestServices.GetRequiredService<DashboardState>().Options;

    public DashboardQueues Queues => http.RequestServices.GetRequiredService<DashboardState>().Queues;

    public DashboardHistory History => http.RequestServices.GetRequiredService<DashboardState>().History;

    public TimeProvider Time => http.RequestServices.GetRequiredService<DashboardState>().Time;

    public ILogger Logger => http.RequestServices.GetRequiredService<DashboardState>().Logger;

    public CancellationToken Aborted => http.RequestAborted;

    /// <summary>A URL under the dashboard: <paramref name="path"/> is already escaped (use <see cref="Segment"/> for names and ids).</summary>
    public string Url(string path, params (string Key, string? Value)[] query)
    {
        string url = _base.TrimEnd('/') + "/" + path;
        string q = string.Join('&', query.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => p.Key + "=" + Uri.EscapeDataString(p.Value!)));
        return q.Length == 0 ? url : url + "?" + q;
    }

    /// <summary>The URL of a queue's page, or of a page below it.</summary>
    public string QueueUrl(string queue, string rest = "", params (string Key, string? Value)[] query) =>
        Url("q/" + Segment(queue) + (rest.Length == 0 ? string.Empty : "/" + rest), query);

    public static string Segment(string value) => Uri.EscapeDataString(value);

    /// <summary>The hidden antiforgery field every action form carries.</summary>
    public Html AntiforgeryField(Html html)
    {
        AntiforgeryTokenSet tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        return html.Hidden(tokens.FormFieldName, tokens.RequestToken);
    }

    /// <summary>Renders a whole page with the dashboard's security headers.</summary>
    public IResult Page(string title, Html body, string? flash = null, bool flashIsError = false, int status = StatusCodes.Status200OK)
    {
        DashboardHeaders.Apply(http.Response);
        if (flash is null && http.Request.Query["flash"].ToString() is { Length: > 0 } fromQuery)
        {
            flash = fromQuery.Length > 500 ? fromQuery[..500] : fromQuery; // an outcome after an action's redirect; rendered as text
            flashIsError = http.Request.Query["error"] == "1";
        }

        return TypedResults.Content(Layout.Page(this, title, body, flash, flashIsError), "text/html; charset=utf-8", statusCode: status);
    }

    public IResult NotFound(string what) => Page("Not found", new Html().Raw("<p>").Text(what).Raw("</p>"), status: StatusCodes.Status404NotFound);
}

/// <summary>The dashboard's services, copied once: what <see cref="DashboardContext"/> reads.</summary>
internal sealed record DashboardState(DashboardOptions Options, DashboardQueues Queues, DashboardHistory History, TimeProvider Time, ILogger Logger);

/// <summary>Headers on every page: no script may run, nothing external may load, nothing is cached or framed.</summary>
internal static class DashboardHeaders
{
    public static void Apply(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-store";
    }
}
