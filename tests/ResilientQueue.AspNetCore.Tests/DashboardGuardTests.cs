using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ResilientQueue.AspNetCore.Tests;

/// <summary>
/// The loopback guard steps aside once authorization is configured on the dashboard's group: then the app's policy
/// decides, also for requests from other machines. Each test starts its own minimal app on 127.0.0.1 (no browser).
/// </summary>
public sealed class DashboardGuardTests
{
    private const string OpsHeader = "X-Test-Ops";

    private static readonly HttpClient Http = new();

    [Fact]
    public async Task ARemoteRequest_WithRequireAuthorization_IsDecidedByThePolicy()
    {
        await using WebApplication app = await StartAsync(group => group.RequireAuthorization("ops"));

        using HttpResponseMessage allowed = await SendAsync(app, "203.0.113.9", ops: true);

        allowed.StatusCode.Should().Be(HttpStatusCode.OK, "the policy allowed it; the loopback guard no longer applies");
        (await allowed.Content.ReadAsStringAsync()).Should().Contain("<h1>Queues</h1>");
    }

    [Fact]
    public async Task ARemoteRequest_WithAllowAnonymous_IsStillRefused()
    {
        await using WebApplication app = await StartAsync(group => group.AllowAnonymous());

        using HttpResponseMessage refused = await SendAsync(app, "203.0.113.9", ops: true);
        using HttpResponseMessage local = await SendAsync(app, remoteAddress: null, ops: false);

        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden, "AllowAnonymous is not authorization");
        local.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    private static async Task<WebApplication> StartAsync(Action<RouteGroupBuilder> configure)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IStartupFilter, SampleServer.RemoteAddressOverride>();
        builder.Services.AddAuthorization(o => o.AddPolicy("ops", p => p.RequireAssertion(c => c.Resource is HttpContext h && h.Request.Headers[OpsHeader] == "yes")));
        builder.Services.AddResilientQueueDashboard(o => o.Queues.Add("emails"));
        WebApplication app = builder.Build();
        app.UseAuthorization();
        configure(app.MapResilientQueueDashboard("/queues"));
        await app.StartAsync();
        return app;
    }

    private static async Task<HttpResponseMessage> SendAsync(WebApplication app, string? remoteAddress, bool ops)
    {
        string url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        using var request = new HttpRequestMessage(HttpMethod.Get, url + "/queues");
        if (remoteAddress is not null)
        {
            request.Headers.Add(SampleServer.RemoteAddressHeader, remoteAddress);
        }

        if (ops)
        {
            request.Headers.Add(OpsHeader, "yes");
        }

        return await Http.SendAsync(request);
    }
}
