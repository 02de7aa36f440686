// ResilientQueue load test: throughput, latency and Redis cost per job of the Redis list backend.
// Usage: dotnet run -c Release --project benchmarks/ResilientQueue.LoadTest -- [--jobs 100000] [--concurrency 1,10,100]
//        [--mode all|prequeued|steady|latency] [--redis 127.0.0.1:6379] [--output benchmarks/results/<name>.md]
// Without --redis it starts its own redis-server (no persistence) on a free loopback port and stops it at the end.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ResilientQueue;
using ResilientQueue.LoadTest;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Testing.Redis;
using StackExchange.Redis;

var options = LoadTestOptions.Parse(args);
using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(30)); // every run is bounded
await using RedisServerProcess? server = options.Redis is null
    ? await RedisServerProcess.StartAsync(new RedisServerProcessOptions { ExtraArguments = ["--maxmemory-policy", "noeviction"] }, timeout.Token)
    : null;
string endpoint = options.Redis ?? server!.EndPoint;
LoadTestOptions.RequireLoopback(endpoint);

using ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(endpoint + ",allowAdmin=true,abortConnect=false,syncTimeout=30000");
IDatabase db = redis.GetDatabase();
string version = ((string)(await db.ExecuteAsync("INFO", "server"))!).Split('\n').First(l => l.StartsWith("redis_version:", StringComparison.Ordinal))[14..].Trim();
byte[] payload = Encoding.UTF8.GetBytes("{\"url\":\"https://example.org/articles/2026/11/22/some-article\",\"depth\":2,\"tenant\":\"acme\",\"n\":12345}");

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"# Load test: Redis list backend");
report.AppendLine();
report.AppendLine(CultureInfo.InvariantCulture, $"- date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC; machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}; redis-server {version} on loopback, no persistence");
report.AppendLine(CultureInfo.InvariantCulture, $"- jobs per run: {options.Jobs:N0}; payload: {payload.Length} bytes of JSON; handler: no-op; one ConnectionMultiplexer (StackExchange.Redis {RedisTestSettings.ClientPackageVersion})");
report.AppendLine("- consumer: one fetch loop keeps a local buffer of max(2 x concurrency, 64) jobs full with batch fetches, `concurrency` handler loops, one ack loop acknowledging in batches (group commit)");
report.AppendLine("- commands/job and CPU/job: deltas of `INFO commandstats` (calls, including the commands scripts run) and `INFO cpu` (main thread, sys + user) over the job's whole life (enqueue + fetch + ack), divided by the jobs");
report.AppendLine();

if (options.Mode is "all" or "prequeued")
{
    report.AppendLine("## Pre-queued: bulk enqueue, then consume");
    report.AppendLine();
    report.AppendLine("| concurrency | bulk enqueue jobs/s | memory/queued job | consume jobs/s | commands/job | Redis CPU µs/job (enqueue + consume) | commands per kind (per job) |");
    report.AppendLine("|---|---|---|---|---|---|---|");
    foreach (int concurrency in options.Concurrency)
    {
        await db.ExecuteAsync("FLUSHALL");
        var queue = new RedisListJobQueue(redis, $"load-pre-{concurrency}", new JobQueueOptions { Capacity = 10_000_000 });
        RedisStats start = await RedisStats.ReadAsync(db);
        var watch = Stopwatch.StartNew();
        await BulkEnqueueAsync(queue, payload, options.Jobs, timeout.Token);
        double enqueueRate = options.Jobs / watch.Elapsed.TotalSeconds;
        RedisStats queued = await RedisStats.ReadAsync(db);

        var consumer = new LoadConsumer(queue, concurrency, static _ => ValueTask.CompletedTask);
        watch.Restart();
        await consumer.RunAsync(options.Jobs, timeout.Token);
        double consumeRate = options.Jobs / watch.Elapsed.TotalSeconds;
        RedisStats end = await RedisStats.ReadAsync(db);
        RedisStats life = end - start;
        report.AppendLine(CultureInfo.InvariantCulture,
            $"| {concurrency} | {enqueueRate:N0} | {(queued - start).UsedMemory / (double)options.Jobs:N0} B | {consumeRate:N0} | {life.Commands / (double)options.Jobs:N2} | {life.CpuSeconds * 1e6 / options.Jobs:N2} ({(queued - start).CpuSeconds * 1e6 / options.Jobs:N1} + {(end - queued).CpuSeconds * 1e6 / options.Jobs:N1}) | {Breakdown(life, options.Jobs)} |");
        Console.WriteLine($"prequeued c={concurrency}: enqueue {enqueueRate:N0}/s, consume {consumeRate:N0}/s, {life.Commands / (double)options.Jobs:N2} commands/job, {life.CpuSeconds * 1e6 / options.Jobs:N2} µs CPU/job");
        await queue.DisposeAsync();
    }

    report.AppendLine();
}

if (options.Mode is "all" or "steady")
{
    report.AppendLine("## Steady: producer and consumers together");
    report.AppendLine();
    report.AppendLine("The producer enqueues batches of 100 (up to 8 in flight) while the consumers run; end to end = jobs / time from the first enqueue to the last ack.");
    report.AppendLine();
    report.AppendLine("| concurrency | end-to-end jobs/s | commands/job | Redis CPU µs/job |");
    report.AppendLine("|---|---|---|---|");
    foreach (int concurrency in options.Concurrency)
    {
        await db.ExecuteAsync("FLUSHALL");
        var queue = new RedisListJobQueue(redis, $"load-steady-{concurrency}", new JobQueueOptions { Capacity = 10_000_000 });
        RedisStats start = await RedisStats.ReadAsync(db);
        var consumer = new LoadConsumer(queue, concurrency, static _ => ValueTask.CompletedTask);
        var watch = Stopwatch.StartNew();
        Task consuming = consumer.RunAsync(options.Jobs, timeout.Token);
        await BulkEnqueueAsync(queue, payload, options.Jobs, timeout.Token, batch: 100, inFlight: 8);
        await consuming;
        double rate = options.Jobs / watch.Elapsed.TotalSeconds;
        RedisStats life = await RedisStats.ReadAsync(db) - start;
        report.AppendLine(CultureInfo.InvariantCulture, $"| {concurrency} | {rate:N0} | {life.Commands / (double)options.Jobs:N2} | {life.CpuSeconds * 1e6 / options.Jobs:N2} |");
        Console.WriteLine($"steady c={concurrency}: {rate:N0} jobs/s end to end");
        await queue.DisposeAsync();
    }

    report.AppendLine();
}

if (options.Mode is "all" or "latency")
{
    report.AppendLine("## Pickup latency when idle");
    report.AppendLine();
    const int samples = 2000;
    report.AppendLine(CultureInfo.InvariantCulture, $"10 idle consumers wait for work (pub/sub wake-up, 1 s poll fallback); one job is enqueued every 2 ms, {samples:N0} jobs; latency = enqueue call start to handler start.");
    report.AppendLine();
    await db.ExecuteAsync("FLUSHALL");
    var queue = new RedisListJobQueue(redis, "load-latency");
    var latencies = new double[samples];
    long clockStart = Stopwatch.GetTimestamp();
    var consumer = new LoadConsumer(queue, 10, job =>
    {
        int n = BitConverter.ToInt32(job.Job.Payload.Span[..4]);
        long stamp = BitConverter.ToInt64(job.Job.Payload.Span[4..12]);
        latencies[n] = Stopwatch.GetElapsedTime(clockStart + stamp).TotalMilliseconds;
        return ValueTask.CompletedTask;
    });
    Task consuming = consumer.RunAsync(samples, timeout.Token);
    await Task.Delay(500, timeout.Token); // consumers go idle
    for (int n = 0; n < samples; n++)
    {
        byte[] body = new byte[12];
        BitConverter.TryWriteBytes(body.AsSpan(0, 4), n);
        BitConverter.TryWriteBytes(body.AsSpan(4, 8), Stopwatch.GetTimestamp() - clockStart);
        await queue.EnqueueAsync(body, cancellationToken: timeout.Token);
        await Task.Delay(2, timeout.Token);
    }

    await consuming;
    Array.Sort(latencies);
    double p50 = latencies[samples / 2], p99 = latencies[(int)(samples * 0.99)], max = latencies[^1];
    report.AppendLine("| p50 | p99 | max |");
    report.AppendLine("|---|---|---|");
    report.AppendLine(CultureInfo.InvariantCulture, $"| {p50:N2} ms | {p99:N2} ms | {max:N2} ms |");
    report.AppendLine();
    Console.WriteLine($"latency: p50 {p50:N2} ms, p99 {p99:N2} ms, max {max:N2} ms");
    await queue.DisposeAsync();
}

Console.WriteLine();
Console.WriteLine(report.ToString());
if (options.Output is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Output))!);
    await File.WriteAllTextAsync(options.Output, report.ToString());
    Console.WriteLine($"written to {options.Output}");
}

static async Task BulkEnqueueAsync(IJobQueue queue, byte[] payload, int jobs, CancellationToken cancellationToken, int batch = 1000, int inFlight = 4)
{
    var submission = new JobSubmission(payload);
    var pending = new List<Task>(inFlight);
    for (int sent = 0; sent < jobs; sent += batch)
    {
        JobSubmission[] chunk = Enumerable.Repeat(submission, Math.Min(batch, jobs - sent)).ToArray();
        pending.Add(queue.EnqueueManyAsync(chunk, cancellationToken).AsTask());
        if (pending.Count == inFlight)
        {
            Task done = await Task.WhenAny(pending);
            await done;
            pending.Remove(done);
        }
    }

    await Task.WhenAll(pending);
}

static string Breakdown(RedisStats life, int jobs) =>
    string.Join(", ", life.CommandCalls.Where(kv => kv.Value / (double)jobs >= 0.005).OrderByDescending(kv => kv.Value)
        .Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value / (double)jobs:0.##}")));

internal sealed record LoadTestOptions(int Jobs, int[] Concurrency, string Mode, string? Redis, string? Output)
{
    public static LoadTestOptions Parse(string[] args)
    {
        var o = new LoadTestOptions(100_000, [1, 10, 100], "all", null, null);
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.");
            o = args[i] switch
            {
                "--jobs" => o with { Jobs = int.Parse(value, CultureInfo.InvariantCulture) is var n and >= 1 and <= 5_000_000 ? n : throw new ArgumentException("--jobs must be 1 to 5,000,000.") },
                "--concurrency" => o with { Concurrency = value.Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture) is var n and >= 1 and <= 1000 ? n : throw new ArgumentException("--concurrency values must be 1 to 1000.")).ToArray() },
                "--mode" => o with { Mode = value is "all" or "prequeued" or "steady" or "latency" ? value : throw new ArgumentException("--mode is all, prequeued, steady or latency.") },
                "--redis" => o with { Redis = value },
                "--output" => o with { Output = value },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
            i++;
        }

        return o;
    }

    public static void RequireLoopback(string endpoint)
    {
        string host = endpoint.Split(',')[0];
        host = host.StartsWith('[') ? host[1..host.IndexOf(']', StringComparison.Ordinal)] : host.Split(':')[0];
        if (host != "localhost" && !(System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip)))
        {
            throw new ArgumentException($"The load test only targets loopback servers; '{host}' is not one.");
        }
    }
}
