using System.Diagnostics;
using ResilientQueue.Redis.Lists;
using StackExchange.Redis;

namespace ResilientQueue.LoadTest;

/// <summary>
/// The figures of one run. Redis figures cover the jobs' whole life (enqueue + consume); client figures cover the
/// consuming window (host start to last ack; in steady and latency runs the producer runs in it too).
/// </summary>
internal sealed record ScenarioResult(
    Scenario Scenario,
    ConsumerKind Consumer,
    int Concurrency,
    int Jobs,
    double JobsPerSecond,
    double? EnqueueJobsPerSecond,
    double? MemoryBytesPerQueuedJob,
    double CommandsPerJob,
    double RedisCpuMicrosecondsPerJob,
    double ClientCpuMicrosecondsPerJob,
    double AllocatedBytesPerJob,
    double? P50Ms,
    double? P99Ms,
    double? MaxMs,
    string CommandBreakdown);

/// <summary>Runs one scenario with one consumer on a flushed server and measures it.</summary>
internal sealed class ScenarioRunner(IConnectionMultiplexer redis, IServer server)
{
    /// <summary>Latency samples: one job every 2 ms.</summary>
    public const int LatencySamples = 2000;

    /// <summary>
    /// Runs <paramref name="jobs"/> pre-queued jobs through the consumer and throws the figures away: the code paths are
    /// jitted and tiered up as in a worker that has been running for a while. The next run flushes the server.
    /// </summary>
    public async Task WarmUpAsync(ConsumerKind kind, int concurrency, int jobs, CancellationToken cancellationToken)
    {
        if (jobs > 0)
        {
            _ = await RunAsync(Scenario.Prequeued, kind, concurrency, jobs, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<ScenarioResult> RunAsync(Scenario scenario, ConsumerKind kind, int concurrency, int jobs, CancellationToken cancellationToken)
    {
        await server.FlushAllDatabasesAsync().ConfigureAwait(false);
        string queue = $"load-{scenario}-{kind}-{concurrency}".ToLowerInvariant();
        int target = scenario == Scenario.Latency ? LatencySamples : jobs;
        var probe = new LoadProbe(target, scenario == Scenario.Latency ? LatencySamples : 0);
        await using var producer = new RedisListJobQueue(redis, queue, new JobQueueOptions { Capacity = 10_000_000 });

        RedisStats start = await RedisStats.ReadAsync(server).ConfigureAwait(false);
        double? enqueueRate = null, memoryPerJob = null;
        if (scenario == Scenario.Prequeued)
        {
            long began = Stopwatch.GetTimestamp();
            await BulkEnqueueAsync(producer, jobs, batch: 1000, inFlight: 4, cancellationToken).ConfigureAwait(false);
            enqueueRate = jobs / Stopwatch.GetElapsedTime(began).TotalSeconds;
            memoryPerJob = (await RedisStats.ReadAsync(server).ConfigureAwait(false) - start).UsedMemory / (double)jobs;
        }

        await using IConsumerUnderTest consumer = kind == ConsumerKind.Hosted
            ? new HostedConsumer(redis, queue, concurrency, probe)
            : new RawConsumer(redis, queue, concurrency, target, scenario == Scenario.Latency ? probe : null);
        ClientStats clientStart = ClientStats.Read();
        long timer = Stopwatch.GetTimestamp();
        await consumer.StartAsync(cancellationToken).ConfigureAwait(false);
        if (scenario == Scenario.Steady)
        {
            timer = Stopwatch.GetTimestamp(); // end to end: first enqueue to last ack
            await BulkEnqueueAsync(producer, jobs, batch: 100, inFlight: 8, cancellationToken).ConfigureAwait(false);
        }
        else if (scenario == Scenario.Latency)
        {
            await Task.Delay(500, cancellationToken).ConfigureAwait(false); // the consumer goes idle
            for (int n = 0; n < LatencySamples; n++)
            {
                await producer.EnqueueAsync(Payload.Sample(n, probe.Stamp()), cancellationToken: cancellationToken).ConfigureAwait(false);
                await Task.Delay(2, cancellationToken).ConfigureAwait(false);
            }
        }

        await consumer.WaitForAllAsync(cancellationToken).ConfigureAwait(false);
        double seconds = Stopwatch.GetElapsedTime(timer).TotalSeconds;
        ClientStats client = ClientStats.Read() - clientStart;
        RedisStats life = await RedisStats.ReadAsync(server).ConfigureAwait(false) - start;
        (double p50, double p99, double max) = probe.Percentiles();
        bool latency = scenario == Scenario.Latency;
        return new ScenarioResult(
            scenario, kind, concurrency, target, target / seconds, enqueueRate, memoryPerJob,
            life.Commands / (double)target, life.CpuSeconds * 1e6 / target,
            client.Cpu.TotalMicroseconds / target, client.AllocatedBytes / (double)target,
            latency ? p50 : null, latency ? p99 : null, latency ? max : null, life.Breakdown(target));
    }

    private static async Task BulkEnqueueAsync(IJobProducer queue, int jobs, int batch, int inFlight, CancellationToken cancellationToken)
    {
        var submission = new JobSubmission(Payload.StandardBytes);
        var pending = new List<Task>(inFlight);
        for (int sent = 0; sent < jobs; sent += batch)
        {
            JobSubmission[] chunk = Enumerable.Repeat(submission, Math.Min(batch, jobs - sent)).ToArray();
            pending.Add(queue.EnqueueManyAsync(chunk, cancellationToken).AsTask());
            if (pending.Count == inFlight)
            {
                Task done = await Task.WhenAny(pending).ConfigureAwait(false);
                await done.ConfigureAwait(false);
                pending.Remove(done);
            }
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }
}
