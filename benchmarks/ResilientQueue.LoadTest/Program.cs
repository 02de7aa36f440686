// ResilientQueue load test: the hosted worker as users run it, and the raw backend consumer beside it (the backend's
// ceiling), on the Redis list backend or (--backend streams) the stream backend, read by --groups consumer groups.
// See benchmarks/README.md.
// Usage: dotnet run -c Release --project benchmarks/ResilientQueue.LoadTest -- [--jobs 100000] [--concurrency 1,10,100]
//        [--scenario all|prequeued|steady|latency] [--consumer all|hosted|raw] [--redis 127.0.0.1:PORT] [--output FILE.md]
//        [--json] [--time-limit SECONDS] [--backend lists|streams] [--groups N] [--warmup JOBS]
// Without --redis it starts its own redis-server (no persistence) on a free loopback port and stops it at the end.
using System.Globalization;
using System.Text;
using ResilientQueue.LoadTest;
using ResilientQueue.Testing.Redis;
using StackExchange.Redis;

LoadTestOptions options;
try
{
    options = LoadTestOptions.Parse(args);
    if (options.Redis is not null)
    {
        LoadTestOptions.RequireLoopback(options.Redis);
    }
}
catch (ArgumentException e)
{
    await Console.Error.WriteLineAsync(e.Message);
    return 2;
}

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.TimeLimitSeconds)); // every run is bounded
await using RedisServerProcess? ownServer = options.Redis is null
    ? await RedisServerProcess.StartAsync(new RedisServerProcessOptions { ExtraArguments = ["--maxmemory-policy", "noeviction"] }, timeout.Token)
    : null;
string endpoint = options.Redis ?? ownServer!.EndPoint;
LoadTestOptions.RequireLoopback(endpoint);

using ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true,abortConnect=false,syncTimeout=30000");
IServer server = redis.GetServers()[0];
var runner = new ScenarioRunner(redis, server, new LoadBackend(options.Backend, options.Groups), options.TraceSample);
try
{
    if (options.Json)
    {
        long warmed = await runner.WarmUpAsync(options.Consumers[0], options.Concurrency[0], options.Warmup, timeout.Token);
        ScenarioResult result = await runner.RunAsync(options.Scenarios[0], options.Consumers[0], options.Concurrency[0], options.Jobs, timeout.Token) with { WarmupJobs = warmed };
        Console.WriteLine(Report.Json(result));
        return 0;
    }

    var results = new List<ScenarioResult>();
    foreach (Scenario scenario in options.Scenarios)
    {
        foreach (int concurrency in scenario == Scenario.Latency ? [10] : options.Concurrency)
        {
            foreach (ConsumerKind consumer in options.Consumers)
            {
                long warmed = await runner.WarmUpAsync(consumer, concurrency, options.Warmup, timeout.Token);
                ScenarioResult r = await runner.RunAsync(scenario, consumer, concurrency, options.Jobs, timeout.Token) with { WarmupJobs = warmed };
                results.Add(r);
                Console.WriteLine(Report.Json(r));
            }
        }
    }

    string version = server.Version.ToString();
    var header = new StringBuilder();
    header.AppendLine(options.Backend == Backend.Streams
        ? $"# Load test: the hosted worker and the raw consumer on the Redis stream backend, {options.Groups} consumer group(s)"
        : "# Load test: the hosted worker and the raw consumer on the Redis list backend").AppendLine();
    if (options.Groups > 1)
    {
        header.AppendLine(CultureInfo.InvariantCulture, $"- {options.Groups} consumer groups, each with its own consumer: every job is consumed once per group; jobs/s and the per-job figures count jobs enqueued (each done {options.Groups} times)");
    }

    header.AppendLine(CultureInfo.InvariantCulture, $"- date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; redis-server {version} on loopback, no persistence");
    header.AppendLine(options.Warmup > 0
        ? string.Create(CultureInfo.InvariantCulture, $"- warm: before each measured run, rounds of {options.Warmup:N0} pre-queued jobs ran through the same consumer in the same process (not measured; the server is flushed after them) until a round after the first spent under {ScenarioRunner.SettledJitShare:P0} of its time in the JIT (at most {ScenarioRunner.MaxSettleRounds} more rounds); each row's `jit ms` is the JIT time inside its measured run")
        : "- cold: each run is the process's first (no warm-up; JIT and tiered compilation happen during the run)");
    header.AppendLine(CultureInfo.InvariantCulture, $"- jobs per run: {options.Jobs:N0}; payload: {Payload.StandardBytes.Length} bytes of JSON; handler: no-op; one shared ConnectionMultiplexer (StackExchange.Redis {RedisTestSettings.ClientPackageVersion})");
    header.AppendLine("- hosted: a generic host, `AddResilientQueue().UseRedisLists()` (streams: `UseRedisStreams(o => o.Group = g)`) on the shared multiplexer, `AddHandler<NoOpHandler, Payload>(queue, w => w.Concurrency = C)`, OpenTelemetry SDK recording the `ResilientQueue` meter and activity source into counting exporters");
    header.AppendLine(options.TraceSample switch
    {
        null => "- tracing: none registered (`--trace-sample none`; metrics on)",
        1.0 => "- tracing: every job's span recorded (the SDK's default sampler)",
        double ratio => string.Create(CultureInfo.InvariantCulture, $"- tracing: `ParentBasedSampler(TraceIdRatioBasedSampler({ratio}))`: that share of jobs' spans recorded, the others created only to propagate"),
    });
    header.AppendLine("- raw: the hand-written LoadConsumer on the backend (batch fetch into a buffer of max(2 x C, 64), C handler loops, batched acks): the backend's ceiling");
    header.AppendLine("- commands/job and Redis CPU/job: deltas of `INFO commandstats` (every call, including those scripts run) and `INFO cpu` (main thread, sys + user) over the jobs' whole life (enqueue + consume); client CPU/job (Process.TotalProcessorTime) and allocated B/job (GC.GetTotalAllocatedBytes; \"–\" when the count was not monotonic in the run, a .NET 10 server GC bug with DATAS, dotnet/runtime#131069) over the consuming window");
    header.AppendLine();
    string report = Report.Markdown(results, header.ToString());
    Console.WriteLine();
    Console.WriteLine(report);
    if (options.Output is not null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Output))!);
        await File.WriteAllTextAsync(options.Output, report, timeout.Token);
        Console.WriteLine($"written to {options.Output}");
    }

    return 0;
}
catch (OperationCanceledException) when (timeout.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync($"The load test ran past its time limit of {options.TimeLimitSeconds} s and stopped.");
    return 3;
}
