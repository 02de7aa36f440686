using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResilientQueue.DependencyInjection;

namespace ResilientQueue.AspNetCore.Tests;

/// <summary>
/// The sample host (samples/Dashboard) in this process on 127.0.0.1 and a free port, without its producer and workers
/// (<c>--no-traffic</c>), so every count on a page is the one the test made. For the remote-address test a startup
/// filter sets the connection's remote address from the <see cref="RemoteAddressHeader"/> header, before any other
/// middleware: the request itself still comes over loopback.
/// </summary>
public sealed class SampleServer : IAsyncDisposable
{
    public const string RemoteAddressHeader = "X-Test-Remote-Address";

    private readonly WebApplication _app;

    private SampleServer(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public IServiceProvider Services => _app.Services;

    public IJobQueue Queue(string name) => Services.GetRequiredService<IJobQueueProvider>().GetQueue(name);

    public static async Task<SampleServer> StartAsync(params string[] args)
    {
        WebApplicationBuilder builder = DashboardSample.SampleHost.CreateBuilder(["--no-traffic", "--urls", "http://127.0.0.1:0", .. args]);
        builder.Services.AddSingleton<IStartupFilter, RemoteAddressOverride>();
        builder.Logging.SetMinimumLevel(LogLevel.Warning); // the test output keeps the dashboard's warnings, not every request
        WebApplication app = DashboardSample.SampleHost.Build(builder);
        await app.StartAsync();
        string url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        url.Should().StartWith("http://127.0.0.1:", "the sample binds loopback only");
        return new SampleServer(app, url);
    }

    public async Task ClearAsync()
    {
        foreach (string name in DashboardSample.SampleHost.Queues)
        {
            await Queue(name).ClearAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Sets the connection's remote address from <see cref="RemoteAddressHeader"/>, before any other middleware.</summary>
    internal sealed class RemoteAddressOverride : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((HttpContext context, RequestDelegate nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(RemoteAddressHeader, out var value) && IPAddress.TryParse(value, out IPAddress? address))
                {
                    context.Connection.RemoteIpAddress = address;
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
