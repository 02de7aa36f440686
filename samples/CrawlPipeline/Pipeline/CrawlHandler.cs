using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using CrawlPipeline.Site;
using Microsoft.Extensions.Logging;
using ResilientQueue;
using ResilientQueue.Backpressure;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Errors;
using ResilientQueue.Processing;

namespace CrawlPipeline.Pipeline;

/// <summary>The queues of the pipeline and what every handler needs to know about this crawl.</summary>
public sealed class CrawlSettings
{
    /// <summary>The crawl queue (the public site).</summary>
    public const string CrawlQueue = "crawl";

    /// <summary>The crawl queue of the 401 realm: its own worker, so that an auth failure stops only what shares the credentials.</summary>
    public const string PrivateQueue = "crawl.private";

    /// <summary>The extract queue.</summary>
    public const string ExtractQueue = "extract";

    /// <summary>The crawl's id, part of every idempotency key.</summary>
    public string CrawlId { get; set; } = string.Empty;

    /// <summary>The bearer token the crawler sends.</summary>
    public string Token { get; set; } = SiteModel.ExpiredToken;

    /// <summary>How long an extract enqueue may wait for the extract queue to get below its watermark.</summary>
    public TimeSpan BackpressureTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long extracting a page takes (a stand-in for real parsing work), so the extract queue fills up.</summary>
    public TimeSpan ExtractCost { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The idempotency key of a path in one of the queues: the same link found twice is enqueued once.</summary>
    public string Key(string path) => CrawlId + ":" + path;
}

/// <summary>
/// The crawl stage: fetches a page (every part of a paginated one, saving a checkpoint after each), enqueues the links
/// it finds (deduplicated by their idempotency key) and the page for extraction (waiting while the extract queue is
/// above its watermark). A 429 or 503 with Retry-After becomes a <see cref="RateLimitedException"/> (the worker pauses,
/// no attempt spent); a 404 is recorded and thrown (the recovery strategy skips it); a 401 throws (the worker stops);
/// other failures are retried with backoff. On a timeout, <see cref="HandleTimeoutAsync"/> sends what has arrived.
/// </summary>
public sealed partial class CrawlHandler(HttpClient http, IJobQueueProvider queues, IResultStore store, CrawlSettings settings, PipelineStats stats, ILogger<CrawlHandler> logger)
    : IJobHandler<CrawlPage>, IJobTimeoutFallback<CrawlPage>
{
    private readonly StringBuilder _html = new();
    private int _parts;
    private int? _resumedFrom;
    private bool _fetched;

    /// <inheritdoc />
    public async ValueTask HandleAsync(JobContext<CrawlPage> job, CancellationToken ct)
    {
        string path = job.Payload.Path;
        string url = path;
        if (job.GetCheckpoint<LongPageCheckpoint>() is { } checkpoint)
        {
            // An earlier attempt fetched some parts: go on from the next one.
            url = checkpoint.NextUrl;
            _html.Append(checkpoint.Html);
            _parts = checkpoint.Parts;
            _resumedFrom = checkpoint.Parts;
            LogResumed(logger, path, checkpoint.Parts);
        }

        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url.TrimStart('/'));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token);
            using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                await store.SkipAsync(path, "404 Not Found", ct);
                throw new HttpRequestException($"GET {path}: 404 Not Found", null, HttpStatusCode.NotFound);
            }

            response.EnsureSuccessStatusCodeWithRetryAfter(); // 429/503 + Retry-After: RateLimitedException; 401: Auth; 5xx: Transient
            await ReadBodyAsync(response, ct);
            _parts++;
            if (NextPart().Match(_html.ToString()) is not { Success: true } next || _parts >= 100)
            {
                break;
            }

            // Saved before the next part is fetched: a retry after a failure there starts at that part.
            url = WebUtility.HtmlDecode(next.Groups[1].Value);
            _html.Replace(next.Value, string.Empty);
            await job.SaveCheckpointAsync(new LongPageCheckpoint(url, _html.ToString(), _parts), ct);
        }

        _fetched = true;
        string html = _html.ToString();
        foreach (string link in Links(html))
        {
            IJobQueue target = queues.GetQueue(SiteModel.IsPrivate(link) ? CrawlSettings.PrivateQueue : CrawlSettings.CrawlQueue);
            EnqueueResult result = await target.EnqueueObjectAsync(new CrawlPage(link), options: new EnqueueOptions { IdempotencyKey = settings.Key(link) }, cancellationToken: ct);
            stats.LinkFound(result.Outcome == EnqueueOutcome.Duplicate);
        }

        await SendToExtractAsync(new ExtractPage(path, html, Partial: false, _parts, _resumedFrom), ct);
    }

    /// <summary>
    /// The job ran past its timeout: extract what has arrived, marked partial (or, if the page had arrived whole and the
    /// time went on waiting for room in the extract queue, the whole page).
    /// </summary>
    public async ValueTask HandleTimeoutAsync(JobContext<CrawlPage> job, CancellationToken ct)
    {
        LogTimedOut(logger, job.Payload.Path, _html.Length, _fetched ? "whole" : "partial");
        await SendToExtractAsync(new ExtractPage(job.Payload.Path, _html.ToString(), Partial: !_fetched, _parts, _resumedFrom), ct);
    }

    private async Task SendToExtractAsync(ExtractPage page, CancellationToken ct)
    {
        IJobQueue extract = queues.GetQueue(CrawlSettings.ExtractQueue);
        if ((await extract.GetBackpressureAsync(ct)).ShouldWait)
        {
            stats.BackpressureWaited(); // the extract stage is behind: slow down rather than flood it
        }

        await extract.EnqueueWithBackpressureAsync(page, settings.BackpressureTimeout, new EnqueueOptions { IdempotencyKey = settings.Key(page.Path) }, extract.Serializer, cancellationToken: ct);
    }

    /// <summary>Reads the body as it arrives, so that a timeout leaves what came in <see cref="_html"/>.</summary>
    private async Task ReadBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using Stream body = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(body, Encoding.UTF8);
        char[] buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(), ct)) > 0)
        {
            _html.Append(buffer, 0, read);
        }
    }

    private static IEnumerable<string> Links(string html) =>
        Anchor().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).Where(l => l.StartsWith('/')).Distinct(StringComparer.Ordinal);

    [GeneratedRegex("<a href=\"([^\"]+)\">")]
    private static partial Regex Anchor();

    [GeneratedRegex("<link rel=\"next\" href=\"([^\"]+)\">")]
    private static partial Regex NextPart();

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Crawl of {Path} resumes at part {Part} from its checkpoint")]
    private static partial void LogResumed(ILogger logger, string path, int part);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Crawl of {Path} timed out; the fallback sends the {Chars} characters that arrived, as a {Kind} result")]
    private static partial void LogTimedOut(ILogger logger, string path, int chars, string kind);
}
