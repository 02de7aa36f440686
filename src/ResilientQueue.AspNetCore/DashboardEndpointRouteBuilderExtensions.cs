using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ResilientQueue.AspNetCore.Dashboard;
using ResilientQueue.AspNetCore.Pages;

// In the namespace of MapGet and MapHealthChecks, so the dashboard is found with no other using.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the ResilientQueue web dashboard.</summary>
public static class DashboardEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the dashboard under <paramref name="prefix"/>: the overview of every queue, each queue's page with the last
    /// hour's charts, job lookup, dead letters, reaping, and (with <see cref="ResilientQueue.AspNetCore.Dashboard.DashboardOptions.AllowActions"/>)
    /// requeue, purge, pause and resume behind a confirmation and an antiforgery-checked POST. Until authorization is
    /// configured on the returned group (<c>.RequireAuthorization(policy)</c>) or by a fallback policy, it answers only
    /// loopback requests. Call <c>services.AddResilientQueueDashboard()</c> first.
    /// </summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="prefix">Where the dashboard lives: a literal path such as <c>/queues</c> (no route parameters).</param>
    /// <returns>The dashboard's endpoint group, for conventions such as <c>RequireAuthorization</c>.</returns>
    /// <exception cref="InvalidOperationException"><c>AddResilientQueueDashboard</c> was not called.</exception>
    /// <exception cref="ArgumentException">The prefix is empty of a path or holds a route parameter.</exception>
    public static RouteGroupBuilder MapResilientQueueDashboard(this IEndpointRouteBuilder endpoints, string prefix = "/queues")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        if (!prefix.StartsWith('/') || prefix.Contains('{', StringComparison.Ordinal) || prefix.Contains('}', StringComparison.Ordinal) || prefix.Contains('?', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The dashboard's prefix must be a literal path starting with '/', such as '/queues'; was '{prefix}'.", nameof(prefix));
        }

        if (endpoints.ServiceProvider.GetService<DashboardState>() is null)
        {
            throw new InvalidOperationException("Call services.AddResilientQueueDashboard() before MapResilientQueueDashboard.");
        }

        RouteGroupBuilder group = endpoints.MapGroup(prefix);
        group.AddEndpointFilter(DashboardGuard.FilterAsync);
        group.ExcludeFromDescription();
        group.DisableAntiforgery(); // the action endpoint validates the token itself, so the app needs no UseAntiforgery()

        group.MapGet("/", (Func<HttpContext, Task<IResult>>)(h => OverviewPage.RenderAsync(Ctx(h, prefix))));
        group.MapGet("/assets/dashboard.css", (Func<HttpContext, IResult>)Stylesheet);
        group.MapGet("/jobs", (Func<HttpContext, Task<IResult>>)(h => JobPage.FindAsync(Ctx(h, prefix))));
        group.MapGet("/q/{queue}", (HttpContext h, string queue) => QueuePage.RenderAsync(Ctx(h, prefix), queue));
        group.MapGet("/q/{queue}/jobs/{id}", (HttpContext h, string queue, string id) => JobPage.RenderAsync(Ctx(h, prefix), queue, id));
        group.MapGet("/q/{queue}/dead", (HttpContext h, string queue) => DeadLettersPage.RenderAsync(Ctx(h, prefix), queue));
        group.MapGet("/q/{queue}/reap", (HttpContext h, string queue) => ReapPage.RenderAsync(Ctx(h, prefix), queue));
        group.MapGet("/q/{queue}/confirm", (HttpContext h, string queue) => ConfirmPage.Render(Ctx(h, prefix), queue));
        group.MapPost("/q/{queue}/actions/{action}", (HttpContext h, string queue, string action) => ActionEndpoint.HandleAsync(Ctx(h, prefix), queue, action));
        return group;
    }

    private static DashboardContext Ctx(HttpContext http, string prefix) => new(http, prefix);

    private static IResult Stylesheet(HttpContext http)
    {
        Stream css = typeof(DashboardState).Assembly.GetManifestResourceStream("ResilientQueue.AspNetCore.Assets.dashboard.css")
            ?? throw new InvalidOperationException("The dashboard's stylesheet is missing from its assembly.");
        http.Response.Headers.CacheControl = "public, max-age=3600";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Stream(css, "text/css; charset=utf-8");
    }
}
