using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ResilientQueue.AspNetCore.Dashboard;

/// <summary>
/// Safe by default: until authorization applies to the dashboard's endpoints (their <c>RequireAuthorization</c>
/// metadata, or a fallback policy), only loopback requests are answered; others get 403. An endpoint marked
/// <c>AllowAnonymous</c> does not count as authorized.
/// </summary>
internal static partial class DashboardGuard
{
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        HttpContext http = context.HttpContext;
        DashboardState state = http.RequestServices.GetRequiredService<DashboardState>();
        if (state.Options.AllowUnauthenticatedRemoteRequests || IsLoopback(http) || HasAuthorization(http))
        {
            return await next(context).ConfigureAwait(false);
        }

        LogRefused(state.Logger, http.Connection.RemoteIpAddress?.ToString() ?? "(none)", http.Request.Path.Value ?? string.Empty);
        DashboardHeaders.Apply(http.Response);
        return TypedResults.Text(
            "The ResilientQueue dashboard answers only loopback requests until authorization is configured on it (MapResilientQueueDashboard(...).RequireAuthorization(...)).",
            "text/plain; charset=utf-8",
            statusCode: StatusCodes.Status403Forbidden);
    }

    internal static bool IsLoopback(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote);

    private static bool HasAuthorization(HttpContext http)
    {
        Endpoint? endpoint = http.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            return false;
        }

        return endpoint?.Metadata.GetMetadata<IAuthorizeData>() is not null
            || endpoint?.Metadata.GetMetadata<AuthorizationPolicy>() is not null
            || http.RequestServices.GetService<IOptions<AuthorizationOptions>>()?.Value.FallbackPolicy is not null;
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 6002, Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "Dashboard refused a request from {RemoteAddress} for {Path}: not loopback, and no authorization is configured on the dashboard")]
    private static partial void LogRefused(Microsoft.Extensions.Logging.ILogger logger, string remoteAddress, string path);
}
