using System.Diagnostics;
using System.Runtime.InteropServices;
using CrawlPipeline.Pipeline;
using CrawlPipeline.Site;
using CrawlPipeline.View;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResilientQueue;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Recovery;
using Spectre.Console;
using StackExchange.Redis;

namespace CrawlPipeline;

/// <summary>One run: starts the fake site and the pipeline's host, seeds the crawl, shows it, drains, checks the outcome.</summary>
public sealed class CrawlRun(CrawlOptions options, IAnsiConsole console, bool live)
{
    private static readonly string[] QueueNames = [CrawlSettings.CrawlQueue, CrawlSettings.PrivateQueue, CrawlSettings.ExtractQueue];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly PipelineStats _stats = new(); // listens from the start: every measurement of this run

    /// <summary>Runs; returns the exit code.</summary>
    public async Task<int> RunAsync()
    {
        var site = new SiteModel(options.Seed, options.Sections, options.PagesPerSection);
        await using FakeSite server = await FakeSite.StartAsync(site, options.Latency);
        using PipelineStats stats = _stats;
        var log = new RunLog(live ? null : Console.Out, () => _clock.Elapsed);

        ConnectionMultiplexer? redis = null;
        if (options.Redis is { } configuration)
        {
            try
            {
                redis = await ConnectionMultiplexer.ConnectAsync(configuration);
            }
            catch (RedisConnectionException ex)
            {
                console.MarkupLineInterpolated($"[red]error:[/] cannot connect to Redis at {configuration}: {ex.Message}");
                return ExitCodes.Usage;
            }
        }

        await using (redis)
        {
            using IHost host = BuildHost(server, stats, log, redis);
            IJobQueueProvider queues = host.Services.GetRequiredService<IJobQueueProvider>();
            IResultStore store = host.Services.GetRequiredService<IResultStore>();
            if (options.Reset)
            {
                foreach (string name in QueueNames)
                {
                    await queues.GetQueue(name).ClearAsync();
                }

                await store.ClearAsync(CancellationToken.None);
            }

            CrawlState crawl = await store.BeginAsync(options.Seed, options.Size, CancellationToken.None);
            if (crawl.Seed != options.Seed || crawl.Size != options.Size)
            {
                console.MarkupLineInterpolated($"[red]error:[/] Redis holds crawl {crawl.Id} of the {crawl.Size} site with seed {crawl.Seed}, not the {options.Size} site with seed {options.Seed}: run with those, or add --reset to start over.");
                return ExitCodes.Usage;
            }

            host.Services.GetRequiredService<CrawlSettings>().CrawlId = crawl.Id;
            string backend = redis is null ? "in-memory" : "Redis " + options.Redis;
            console.MarkupLine("[bold]CrawlPipeline[/]: " + Markup.Escape(FormattableString.Invariant(
                $"site {server.BaseAddress} ({site.Pages.Count} pages, {site.DeadLinks.Count} dead links, seed {options.Seed}{(options.Quick ? ", quick" : string.Empty)}), backend {backend}, crawl {crawl.Id}"))
                + (crawl.Resumed ? " [yellow](resumed from an earlier run)[/]" : string.Empty));
            await host.StartAsync();

            IJobQueue crawlQueue = queues.GetQueue(CrawlSettings.CrawlQueue);
            await crawlQueue.EnqueueObjectAsync(new CrawlPage("/"), options: new EnqueueOptions { IdempotencyKey = crawl.Id + ":/" });
            if (crawl.Resumed)
            {
                QueueStatus left = await crawlQueue.GetStatusAsync();
                console.MarkupLineInterpolated($"resuming: crawl has {left.Ready} ready, {left.Delayed} delayed, {left.Active} active (leases of a stopped run are taken back by the reaper once they expire)");
            }

            var view = new PipelineView(stats, log, "CrawlPipeline · " + backend);
            IHostApplicationLifetime lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
            void Stop(PosixSignalContext signal)
            {
                signal.Cancel = true; // not the default exit: stop the host, drain, write the summary
                lifetime.StopApplication();
            }

            using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
            bool finished = live
                ? await WatchLiveAsync(view, queues, health, lifetime.ApplicationStopping)
                : await WatchPlainAsync(view, queues, health, lifetime.ApplicationStopping);
            bool interrupted = lifetime.ApplicationStopping.IsCancellationRequested;

            IReadOnlyDictionary<string, string> finalHealth = await HealthAsync(health);
            await host.StopAsync(); // drain: stop fetching, release what has not started, let running jobs finish
            FinalState final = await FinalState.ReadAsync(queues, store, finalHealth, CancellationToken.None);
            Summary.Write(console, final, stats, log, _clock.Elapsed);
            if (interrupted)
            {
                console.MarkupLine(redis is null
                    ? "[yellow]interrupted:[/] the workers drained; the in-memory queues end with this process."
                    : "[yellow]interrupted:[/] the workers drained and gave back what they held; run again with the same options to resume.");
                return ExitCodes.Interrupted;
            }

            IReadOnlyList<Check> checks = Expectations.Evaluate(site, server, options, crawl, final, stats);
            if (!finished)
            {
                checks = [new Check(FormattableString.Invariant($"finished within the deadline ({options.Deadline.TotalSeconds:0} s)"), false, "still running: see the table above"), .. checks];
            }

            Summary.WriteChecks(console, checks, _clock.Elapsed);
            return checks.All(c => c.Passed) ? ExitCodes.Ok : ExitCodes.Unexpected;
        }
    }

    private IHost BuildHost(FakeSite server, PipelineStats stats, RunLog log, ConnectionMultiplexer? redis)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        builder.Logging.ClearProviders().AddProvider(log).SetMinimumLevel(LogLevel.Information);
        builder.Services.AddSingleton<IHostLifetime, SignalLifetime>(); // Ctrl-C and SIGTERM stop the host; the run then drains and sums up
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton(stats);
        builder.Services.AddSingleton(new CrawlSettings
        {
            Token = options.FixAuth ? SiteModel.GoodToken : SiteModel.ExpiredToken,
            ExtractCost = TimeSpan.FromMilliseconds(options.Quick ? 100 : 150), // slower than the crawl: the extract queue fills up
        });
        builder.Services.AddSingleton(new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) });
        builder.Services.AddSingleton<IRecoveryStrategy>(new CrawlRecoveryStrategy(options.Backoff));

        ResilientQueueBuilder queues = builder.Services.AddResilientQueue();
        if (redis is not null)
        {
            builder.Services.AddSingleton<IConnectionMultiplexer>(redis); // one multiplexer per process: the queues and the store share it
            builder.Services.AddSingleton<IResultStore, RedisResultStore>();
            queues.UseRedisLists();
        }
        else
        {
            builder.Services.AddSingleton<IResultStore, InMemoryResultStore>();
        }

        foreach (string name in QueueNames)
        {
            queues.ConfigureQueue(name, q =>
            {
                q.DefaultMaxAttempts = name == CrawlSettings.ExtractQueue ? 3 : options.Attempts;
                q.CompletedRetention = 10_000; // the view's "done"
                q.IdempotencyWindow = TimeSpan.FromDays(7);
            });
        }

        queues.ConfigureQueue(CrawlSettings.ExtractQueue, q =>
        {
            q.Capacity = 8; // small, so that the crawl outruns it and the backpressure shows
            q.HighWatermark = 0.5;
            q.BackpressureRetryAfter = TimeSpan.FromMilliseconds(50);
        });

        queues.AddHandler<CrawlHandler, CrawlPage>(CrawlSettings.CrawlQueue, w =>
            {
                w.AdaptiveConcurrency = new() { MinLimit = 2, InitialLimit = 4, MaxLimit = 16 };
                w.JobTimeout = options.JobTimeout;
                w.LeaseDuration = options.LeaseDuration;
                w.Backoff = options.Backoff;
                w.PollInterval = TimeSpan.FromMilliseconds(250);
                w.StatusInterval = TimeSpan.FromSeconds(1);
            })
            .AddHandler<CrawlHandler, CrawlPage>(CrawlSettings.PrivateQueue, w =>
            {
                w.Concurrency = 2;
                w.JobTimeout = options.JobTimeout;
                w.LeaseDuration = options.LeaseDuration;
                w.Backoff = options.Backoff;
                w.PollInterval = TimeSpan.FromMilliseconds(250);
            })
            .AddHandler<ExtractHandler, ExtractPage>(CrawlSettings.ExtractQueue, w =>
            {
                w.Concurrency = 1;
                w.LeaseDuration = options.LeaseDuration;
                w.Backoff = options.Backoff;
                w.PollInterval = TimeSpan.FromMilliseconds(250);
                w.StatusInterval = TimeSpan.FromSeconds(1);
            })
            .AddStaleJobReaper(r => r.Interval = options.ReaperInterval);
        builder.Services.AddHealthChecks();
        return builder.Build();
    }

    private async Task<bool> WatchLiveAsync(PipelineView view, IJobQueueProvider queues, HealthCheckService health, CancellationToken stopping)
    {
        bool finished = false;
        PipelineSnapshot first = await SnapshotAsync(queues, health);
        await console.Live(view.Render(first)).AutoClear(false).StartAsync(async context =>
        {
            await foreach ((PipelineSnapshot snapshot, bool done) in WatchAsync(queues, health, TimeSpan.FromMilliseconds(250), stopping))
            {
                context.UpdateTarget(view.Render(snapshot));
                context.Refresh();
                if (done)
                {
                    finished = true;
                    break;
                }
            }
        });
        return finished;
    }

    private async Task<bool> WatchPlainAsync(PipelineView view, IJobQueueProvider queues, HealthCheckService health, CancellationToken stopping)
    {
        TimeSpan lastLine = TimeSpan.FromSeconds(-10);
        await foreach ((PipelineSnapshot snapshot, bool done) in WatchAsync(queues, health, TimeSpan.FromMilliseconds(250), stopping))
        {
            if (done || snapshot.Elapsed - lastLine >= TimeSpan.FromSeconds(1))
            {
                Console.Out.WriteLine(view.Line(snapshot));
                lastLine = snapshot.Elapsed;
            }

            if (done)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Snapshots until the deadline or a stop; a finished pipeline must look finished twice in a row.</summary>
    private async IAsyncEnumerable<(PipelineSnapshot Snapshot, bool Finished)> WatchAsync(IJobQueueProvider queues, HealthCheckService health, TimeSpan every, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken stopping)
    {
        int quiet = 0;
        while (!stopping.IsCancellationRequested && _clock.Elapsed < options.Deadline)
        {
            PipelineSnapshot snapshot = await SnapshotAsync(queues, health);
            quiet = IsQuiet(snapshot) ? quiet + 1 : 0;
            yield return (snapshot, quiet >= 2);
            try
            {
                await Task.Delay(every, stopping);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    /// <summary>Nothing left to do: crawl and extract empty, and the 401 realm empty or its worker stopped.</summary>
    private static bool IsQuiet(PipelineSnapshot snapshot)
    {
        QueueStatus Of(string name) => snapshot.Queues.First(q => q.Name == name).Status;
        return Of(CrawlSettings.CrawlQueue).Depth == 0 && Of(CrawlSettings.ExtractQueue).Depth == 0
            && (Of(CrawlSettings.PrivateQueue).Depth == 0 || snapshot.Health.GetValueOrDefault(CrawlSettings.PrivateQueue) == "Unhealthy");
    }

    private async Task<PipelineSnapshot> SnapshotAsync(IJobQueueProvider queues, HealthCheckService health)
    {
        var statuses = new List<(string, QueueStatus)>();
        foreach (string name in QueueNames)
        {
            statuses.Add((name, await queues.GetQueue(name).GetStatusAsync()));
        }

        var backpressure = await queues.GetQueue(CrawlSettings.ExtractQueue).GetBackpressureAsync();
        _stats.Sample(); // the observable gauges: the crawl's concurrency limit
        return new PipelineSnapshot(_clock.Elapsed, statuses, backpressure, await HealthAsync(health));
    }

    private static async Task<IReadOnlyDictionary<string, string>> HealthAsync(HealthCheckService health)
    {
        HealthReport report = await health.CheckHealthAsync(r => r.Tags.Contains("resilientqueue"));
        return report.Entries.ToDictionary(e => e.Key["resilientqueue:".Length..], e => e.Value.Status.ToString(), StringComparer.Ordinal);
    }
}

/// <summary>
/// The host's lifetime without the console's signal handling: the run registers its own for SIGINT and SIGTERM, so that
/// after the host stopped (the workers drained) it still writes the summary and exits with <see cref="ExitCodes.Interrupted"/>.
/// </summary>
internal sealed class SignalLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The sample's exit codes.</summary>
public static class ExitCodes
{
    /// <summary>The outcome was as expected.</summary>
    public const int Ok = 0;

    /// <summary>It was not.</summary>
    public const int Unexpected = 1;

    /// <summary>Bad usage, or Redis unreachable.</summary>
    public const int Usage = 2;

    /// <summary>Ctrl-C: drained and stopped.</summary>
    public const int Interrupted = 130;
}
