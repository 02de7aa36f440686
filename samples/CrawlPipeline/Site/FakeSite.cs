using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CrawlPipeline.Site;

/// <summary>
/// The fake site on 127.0.0.1 (a free port): serves the <see cref="SiteModel"/>'s pages and injects their faults. It
/// counts the requests per path (and part), so a run can show what a checkpoint saved.
/// </summary>
public sealed class FakeSite : IAsyncDisposable
{
    private static readonly string[] Words =
        ["queue", "lease", "token", "retry", "backoff", "worker", "crawl", "extract", "page", "link", "redis", "fence",
         "attempt", "reaper", "checkpoint", "drain", "signal", "limit", "pause", "store"];

    private readonly WebApplication _app;
    private readonly SiteModel _model;
    private readonly TimeSpan _latency;
    private readonly ConcurrentDictionary<string, int> _hits = new(StringComparer.Ordinal);

    private FakeSite(WebApplication app, SiteModel model, TimeSpan latency)
    {
        _app = app;
        _model = model;
        _latency = latency;
    }

    /// <summary>The site's address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The pages it serves.</summary>
    public SiteModel Model => _model;

    /// <summary>Starts the site on a free loopback port.</summary>
    /// <param name="model">The pages.</param>
    /// <param name="latency">How long an ordinary page takes to answer (a little more or less, at random).</param>
    public static async Task<FakeSite> StartAsync(SiteModel model, TimeSpan latency)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0"); // loopback only, a free port
        WebApplication app = builder.Build();
        var site = new FakeSite(app, model, latency);
        app.Run(site.ServeAsync);
        await app.StartAsync().ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        site.BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
        return site;
    }

    /// <summary>How many requests a path (with its query, e.g. <c>/long?part=3</c>) received.</summary>
    public int Hits(string pathAndQuery) => _hits.GetValueOrDefault(pathAndQuery);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ServeAsync(HttpContext http)
    {
        string path = http.Request.Path.Value ?? "/";
        int part = int.TryParse(http.Request.Query["part"], CultureInfo.InvariantCulture, out int p) ? p : 0;
        string key = path == SiteModel.LongPath ? Inv($"{path}?part={part}") : path;
        int hit = _hits.AddOrUpdate(key, 1, (_, n) => n + 1);
        CancellationToken aborted = http.RequestAborted;
        SitePage? page = _model.Find(path);
        if (page is null || (page.Fault == PageFault.Long && (part < 0 || part >= SiteModel.LongParts)))
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (_latency > TimeSpan.Zero)
        {
            await Task.Delay(_latency * (0.5 + Random.Shared.NextDouble()), aborted).ConfigureAwait(false);
        }

        switch (page.Fault)
        {
            case PageFault.NeedsAuth when http.Request.Headers.Authorization != "Bearer " + SiteModel.GoodToken:
                http.Response.StatusCode = StatusCodes.Status401Unauthorized;
                http.Response.Headers.WWWAuthenticate = "Bearer realm=\"members\", error=\"invalid_token\"";
                return;
            case PageFault.RateLimited when hit == 1:
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = "1";
                return;
            case PageFault.Intermittent when hit <= page.FailFirst:
            case PageFault.AlwaysFails:
            case PageFault.Long when part == SiteModel.LongFailingPart && hit == 1:
                http.Response.StatusCode = StatusCodes.Status500InternalServerError;
                return;
        }

        http.Response.ContentType = "text/html; charset=utf-8";
        switch (page.Fault)
        {
            case PageFault.Malformed:
                await http.Response.WriteAsync("<html><head><title>A malformed pa\u0000\u0001ge <<<", aborted).ConfigureAwait(false);
                return;
            case PageFault.Slow:
                await http.Response.WriteAsync(Inv($"<!doctype html><html><head><title>{page.Title}</title></head><body><p>{Text(path, 0, 40)}</p>"), aborted).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(aborted).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromMinutes(1), aborted).ConfigureAwait(false); // the crawler's timeout comes first
                await http.Response.WriteAsync(Inv($"<p>{Text(path, 1, 400)}</p></body></html>"), aborted).ConfigureAwait(false);
                return;
            case PageFault.Long:
                string next = part + 1 < SiteModel.LongParts ? Inv($"<link rel=\"next\" href=\"{path}?part={part + 1}\">") : string.Empty;
                string links = part == 0 ? Links(page) : string.Empty;
                await http.Response.WriteAsync(Inv($"<!doctype html><html><head><title>{page.Title}</title>{next}</head><body><p>{Text(path, part, 60)}</p>{links}</body></html>"), aborted).ConfigureAwait(false);
                return;
            default:
                await http.Response.WriteAsync(Inv($"<!doctype html><html><head><title>{page.Title}</title></head><body><h1>{page.Title}</h1><p>{Text(path, 0, 50)}</p>{Links(page)}</body></html>"), aborted).ConfigureAwait(false);
                return;
        }
    }

    private static string Links(SitePage page) =>
        string.Concat(page.Links.Select(l => Inv($"<a href=\"{WebUtility.HtmlEncode(l)}\">{WebUtility.HtmlEncode(l)}</a> ")));

    /// <summary>The same words for the same page and part, every time.</summary>
    private static string Text(string path, int part, int count)
    {
        var random = new Random(path.Aggregate(17 + part * 7919, (h, c) => unchecked((h * 31) + c)));
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            text.Append(i == 0 ? string.Empty : " ").Append(Words[random.Next(Words.Length)]);
        }

        return text.ToString();
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
