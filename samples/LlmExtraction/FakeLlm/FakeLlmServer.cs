using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlmExtraction.FakeLlm;

/// <summary>
/// A local stand-in for an LLM server, on 127.0.0.1 and a free port: <c>POST /v1/extract</c> takes an
/// <see cref="ExtractionRequest"/> and answers an <see cref="Extraction"/>. It serves a hidden capacity C of calls at
/// once (<see cref="CapacityGate"/>, C following <see cref="Scale.CapacitySchedule"/>), so past C its latency grows;
/// when as many calls wait as it serves it answers 429 or 503 with <c>Retry-After: 1</c>; and it injects the
/// <see cref="FaultPlan"/>'s faults (malformed JSON, a hung call).
/// </summary>
internal sealed class FakeLlmServer : IAsyncDisposable
{
    private static readonly TimeSpan StuckBound = TimeSpan.FromSeconds(60);
    private readonly WebApplication _app;
    private readonly FaultPlan _plan;
    private readonly Scale _scale;
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _hung = new(StringComparer.Ordinal);
    private readonly Timer _pump;
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _callCount;
    private long _tooManyRequests;
    private long _unavailable;
    private long _malformed;
    private long _stuck;
    private long _answered;

    private FakeLlmServer(WebApplication app, FaultPlan plan, Scale scale)
    {
        _app = app;
        _plan = plan;
        _scale = scale;
        Gate = new CapacityGate(() => CapacityAt(Elapsed));
        _pump = new Timer(_ => Gate.Pump(), null, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(20));
    }

    /// <summary>Where the model answers, e.g. <c>http://127.0.0.1:40123/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    public CapacityGate Gate { get; }

    /// <summary>Time since the server started (the capacity schedule's clock).</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    public double BaseLatencyMs => _scale.BaseLatency.TotalMilliseconds;

    public long Calls => Interlocked.Read(ref _callCount);

    public long Answered => Interlocked.Read(ref _answered);

    public long TooManyRequests => Interlocked.Read(ref _tooManyRequests);

    public long Unavailable => Interlocked.Read(ref _unavailable);

    public long Malformed => Interlocked.Read(ref _malformed);

    public long Stuck => Interlocked.Read(ref _stuck);

    /// <summary>Calls the model served for a chunk so far (answered, well or not; not those turned away or hung).</summary>
    public int CallsFor(string chunkId) => _calls.GetValueOrDefault(chunkId);

    /// <summary>The hidden capacity at a time of the run.</summary>
    public int CapacityAt(TimeSpan elapsed) => _scale.CapacitySchedule.Last(s => s.At <= elapsed).Capacity;

    public static async Task<FakeLlmServer> StartAsync(FaultPlan plan, Scale scale, CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0"); // loopback, a free port
        WebApplication app = builder.Build();
        var server = new FakeLlmServer(app, plan, scale);
        app.MapPost("/v1/extract", server.ExtractAsync);
        await app.StartAsync(cancellationToken);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Address = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    private async Task ExtractAsync(HttpContext context)
    {
        CancellationToken aborted = context.RequestAborted;
        ExtractionRequest? request = await JsonSerializer.DeserializeAsync<ExtractionRequest>(context.Request.Body, JsonSerializerOptions.Web, aborted);
        if (request is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        Interlocked.Increment(ref _callCount);
        ChunkFate fate = _plan.FateOf(request.ChunkId);
        if (fate == ChunkFate.StuckOnce && _hung.TryAdd(request.ChunkId, true))
        {
            // A generation that never ends: the caller has to give up (bounded here all the same).
            Interlocked.Increment(ref _stuck);
            await Task.Delay(StuckBound, aborted).ContinueWith(static _ => { }, TaskScheduler.Default);
            return;
        }

        Task? admitted = Gate.TryEnter(aborted);
        if (admitted is null)
        {
            // Overloaded: as many calls wait as are served. Alternate 429 and 503, both with Retry-After.
            bool tooMany = Interlocked.Increment(ref _tooManyRequests) % 2 == 1;
            if (!tooMany)
            {
                Interlocked.Decrement(ref _tooManyRequests);
                Interlocked.Increment(ref _unavailable);
            }

            context.Response.StatusCode = tooMany ? StatusCodes.Status429TooManyRequests : StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            return;
        }

        try
        {
            await admitted;
            double jitter = 0.9 + (0.2 * Random.Shared.NextDouble());
            await Task.Delay(_scale.BaseLatency * jitter, aborted);
        }
        catch (OperationCanceledException)
        {
            return; // the caller gave up
        }
        finally
        {
            if (admitted.IsCompletedSuccessfully)
            {
                Gate.Exit();
            }
        }

        int call = _calls.AddOrUpdate(request.ChunkId, 1, static (_, n) => n + 1);
        context.Response.ContentType = "application/json";
        if ((fate == ChunkFate.MalformedOnce && call == 1) || (fate == ChunkFate.Poison && call <= FaultPlan.PoisonCalls))
        {
            // What a model does now and then: the JSON stops half-way.
            Interlocked.Increment(ref _malformed);
            await context.Response.WriteAsync($"{{\"chunkId\":\"{request.ChunkId}\",\"entities\":[\"Acme\",\"Bor", aborted);
            return;
        }

        Interlocked.Increment(ref _answered);
        await context.Response.WriteAsJsonAsync(Answer(request), JsonSerializerOptions.Web, aborted);
    }

    /// <summary>The "extraction": the capitalised words of the chunk, and its first sentence as the summary.</summary>
    private static Extraction Answer(ExtractionRequest request)
    {
        string[] words = request.Text.Split([' ', '.'], StringSplitOptions.RemoveEmptyEntries);
        string[] entities = [.. words.Where(w => char.IsUpper(w[0])).Distinct(StringComparer.Ordinal)];
        string summary = request.Text.Split('.', 2)[0];
        return new Extraction(request.ChunkId, entities, summary);
    }

    public async ValueTask DisposeAsync()
    {
        await _pump.DisposeAsync();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
