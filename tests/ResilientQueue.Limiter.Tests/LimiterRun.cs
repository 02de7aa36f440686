using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using ResilientQueue.Concurrency;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Errors;
using ResilientQueue.Processing;
using ResilientQueue.Recovery;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Limiter.Tests;

/// <summary>One job: one call of the downstream.</summary>
public sealed record Call;

/// <summary>
/// Drives a <see cref="CapacityServer"/> with the hosted worker, as an application would: <c>AddResilientQueue()</c> with
/// the in-memory backend, <c>AddHandler</c> with <see cref="JobWorkerOptions.AdaptiveConcurrency"/>, each job one HTTP
/// call with a client timeout. A feeder keeps the queue full (the worker is never short of jobs), and every
/// <see cref="SampleEvery"/> the published gauges <c>resilientqueue.concurrency.limit</c> and <c>.in_flight</c> of the
/// worker's limiter are read (through <see cref="MetricCollector{T}"/>) with the server's counters. Every wait is bounded.
/// </summary>
public sealed class LimiterRun
{
    public static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(100);

    /// <summary>The tag naming a limiter on its instruments (docs/telemetry.md); a worker's limiter is named after its queue.</summary>
    private const string LimiterTag = "resilientqueue.limiter";

    private readonly CapacityServer _server;
    private readonly AdaptiveConcurrencyLimiterOptions _limiter;
    private readonly TimeSpan _clientTimeout;
    private readonly string _queue = "limiter-" + Guid.NewGuid().ToString("N")[..8];

    static LimiterRun()
    {
        // One process holds the downstream, the client and the worker, on two shared cores. With the default minimum of
        // one thread per core, any burst of work (JIT at start-up, a neighbour's build) starves the thread pool until it
        // injects threads, about one per half second: 0.5 to 1 s in which nothing completes and every call in flight
        // times out (seen here, 50 threads' worth of calls at once). A real downstream is another process: give this one
        // enough threads that it behaves like two. StallWatch still reports what remains.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
    }

    public LimiterRun(CapacityServer server, AdaptiveConcurrencyLimiterOptions limiter, TimeSpan clientTimeout)
    {
        _server = server;
        _limiter = limiter;
        _clientTimeout = clientTimeout;
    }

    /// <summary>Runs for <paramref name="duration"/>; <paramref name="script"/> gets the run's clock and may change the server meanwhile.</summary>
    public async Task<RunResult> RunAsync(TimeSpan duration, Func<Stopwatch, CancellationToken, Task>? script = null)
    {
        var calls = new CallLog();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 10_000, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = _server.Address,
            Timeout = _clientTimeout,
        };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(http);
        services.AddSingleton(calls);
        services.AddResilientQueue()
            .ConfigureQueue(_queue, q => q.DefaultMaxAttempts = 1000)
            .AddHandler<CallHandler, Call>(_queue, w =>
            {
                w.AdaptiveConcurrency = _limiter;
                w.PollInterval = TimeSpan.FromMilliseconds(20);
                w.Backoff = new BackoffPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(100), jitterRatio: 0);
            });
        await using ServiceProvider provider = services.BuildServiceProvider();
        IHostedService[] workers = provider.GetServices<IHostedService>().ToArray();
        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue(_queue);
        using var limit = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.concurrency.limit");
        using var inFlight = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.concurrency.in_flight");

        await FeedAsync(queue, 3 * _limiter.MaxLimit, CancellationToken.None);
        using var stop = new CancellationTokenSource(duration + TimeSpan.FromSeconds(5));
        var clock = Stopwatch.StartNew();
        foreach (IHostedService worker in workers)
        {
            await worker.StartAsync(CancellationToken.None);
        }

        var samples = new List<Sample>();
        var stalls = new StallWatch(clock);
        Task watching = stalls.RunAsync(duration);
        Task feeder = Task.Run(async () =>
        {
            while (clock.Elapsed < duration && !stop.IsCancellationRequested)
            {
                await FeedAsync(queue, 3 * _limiter.MaxLimit, stop.Token);
                await Task.Delay(20, stop.Token);
            }
        });
        Task scripted = script is null ? Task.CompletedTask : Task.Run(() => script(clock, stop.Token));
        try
        {
            TimeSpan next = TimeSpan.Zero;
            while (clock.Elapsed < duration)
            {
                if (clock.Elapsed >= next)
                {
                    long[] limits = limit.Observe((LimiterTag, _queue));
                    long[] held = inFlight.Observe((LimiterTag, _queue));
                    samples.Add(new Sample(clock.Elapsed, limits.Length > 0 ? (int)limits[0] : 0, held.Length > 0 ? (int)held[0] : 0, _server.Counters));
                    next += SampleEvery;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(10));
            }

            await scripted.WaitAsync(TimeSpan.FromSeconds(5));
            await feeder.WaitAsync(TimeSpan.FromSeconds(5));
            await watching.WaitAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            foreach (IHostedService worker in workers)
            {
                await worker.StopAsync(deadline.Token);
            }
        }

        return new RunResult(samples, calls.Snapshot(), Stopwatch.Frequency, stalls.Stalls);
    }

    /// <summary>Waits until the run's clock reads <paramref name="at"/> (for scripts that change the server mid-run).</summary>
    public static async Task UntilAsync(Stopwatch clock, TimeSpan at, CancellationToken cancellationToken)
    {
        while (clock.Elapsed < at)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }
    }

    private static async Task FeedAsync(IJobQueue queue, int atLeast, CancellationToken cancellationToken)
    {
        QueueStatus status = await queue.GetStatusAsync(cancellationToken);
        long missing = atLeast - status.Ready;
        if (missing > 0)
        {
            byte[] payload = Encoding.UTF8.GetBytes("{}");
            await queue.EnqueueManyAsync(Enumerable.Range(0, (int)Math.Min(missing, 1000)).Select(_ => new JobSubmission(payload)).ToArray(), cancellationToken);
        }
    }

    /// <summary>Calls the server once; a 429 or a 503 with Retry-After pauses the worker, a timeout or a plain 503 is a drop.</summary>
    private sealed class CallHandler(HttpClient http, CallLog log) : IJobHandler<Call>
    {
        public async ValueTask HandleAsync(JobContext<Call> job, CancellationToken ct)
        {
            long start = Stopwatch.GetTimestamp();
            CallOutcome outcome = CallOutcome.Failed;
            try
            {
                using HttpResponseMessage response = await http.GetAsync("work", ct);
                outcome = response.StatusCode switch
                {
                    HttpStatusCode.OK => CallOutcome.Ok,
                    HttpStatusCode.TooManyRequests => CallOutcome.RateLimited,
                    HttpStatusCode.ServiceUnavailable when response.Headers.RetryAfter is not null => CallOutcome.RateLimited,
                    HttpStatusCode.ServiceUnavailable => CallOutcome.Unavailable,
                    _ => CallOutcome.Failed,
                };
                response.EnsureSuccessStatusCodeWithRetryAfter();
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                outcome = CallOutcome.TimedOut;
                throw;
            }
            finally
            {
                log.Add(new CallRecord(start, Stopwatch.GetTimestamp(), outcome, job.Attempt, job.JobId));
            }
        }
    }
}

/// <summary>
/// Notices when the process (or the machine) stops running the calls' code: a loop on the thread pool waits 5 ms at a
/// time, as the calls' continuations do, and records every gap over <see cref="Threshold"/> as a stall. Calls in flight
/// then time out at once, and the limiter is not to blame.
/// </summary>
public sealed class StallWatch(Stopwatch clock)
{
    public static readonly TimeSpan Threshold = TimeSpan.FromMilliseconds(50);

    private readonly ConcurrentQueue<(TimeSpan At, TimeSpan Length)> _stalls = new();

    public IReadOnlyList<(TimeSpan At, TimeSpan Length)> Stalls => [.. _stalls];

    public Task RunAsync(TimeSpan duration) => Task.Run(async () =>
    {
        TimeSpan last = clock.Elapsed;
        while (last < duration)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5));
            TimeSpan now = clock.Elapsed;
            if (now - last > Threshold)
            {
                _stalls.Enqueue((last, now - last));
            }

            last = now;
        }
    });
}

/// <summary>How one call ended.</summary>
public enum CallOutcome
{
    Ok,
    TimedOut,
    Unavailable,
    RateLimited,
    Failed,
}

/// <summary>One call: when it started and ended (<see cref="Stopwatch"/> timestamps), how, on which attempt of which job.</summary>
public readonly record struct CallRecord(long Start, long End, CallOutcome Outcome, int Attempt, string JobId);

/// <summary>The calls of a run (thread-safe).</summary>
public sealed class CallLog
{
    private readonly ConcurrentQueue<CallRecord> _calls = new();

    public void Add(CallRecord call) => _calls.Enqueue(call);

    public CallRecord[] Snapshot() => [.. _calls];
}

/// <summary>One reading: the limiter's gauges and the server's counters.</summary>
public readonly record struct Sample(TimeSpan At, int Limit, int InFlight, ServerCounters Server);
