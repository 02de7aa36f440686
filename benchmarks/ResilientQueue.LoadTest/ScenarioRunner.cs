using System.Diagnostics;
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
    double? AllocatedBytesPerJob,
    double? P50Ms,
    double? P99Ms,
    double? MaxMs,
    string CommandBreakdown,
    Backend Backend = Backend.Lists,
    int Groups = 1,
    double JitMilliseconds = 0,
    long WarmupJobs = 0);

/// <summary>
/// Runs one scenario with one consumer (on streams, one per consumer group) on a flushed server and measures it. With
/// several groups every job is consumed once by each; jobs/s counts jobs enqueued, each done by every group.
/// </summary>
internal sealed class ScenarioRunner(IConnectionMultiplexer redis, IServer server, LoadBackend backend, double? traceSample = 1.0)
{
    /// <summary>Latency samples: one job every 2 ms.</summary>
    public const int LatencySamples = 2000;

    /// <summary>The most extra warm-up rounds while the JIT is still tiering up.</summary>
    public const int MaxSettleRounds = 10;

    /// <summary>A warm-up round whose JIT time is under this share of its wall time counts as settled.</summary>
    public const double SettledJitShare = 0.05;

    /// <summary>
    /// Runs <paramref name="jobs"/> pre-queued jobs through the consumer and throws the figures away: the code paths are
    /// jitted and tiered up as in a worker that has been running for a while. Then runs further rounds of the same size
    /// (at most <see cref="MaxSettleRounds"/>) while the runtime is still compiling: a round is settled when the JIT took
    /// under <see cref="SettledJitShare"/> of its time (<see cref="System.Runtime.JitInfo"/>, every thread). A fixed count
    /// is not enough on a busy 2-core machine: the background tier-1 compiler competes with the worker and redis-server for
    /// the cores, and after 150,000 jobs the hosted worker's per-job methods were still instrumented tier-0 code, so a
    /// 100,000-job measured run spent most of its time in code that is replaced a second later. The next run flushes the
    /// server.
    /// </summary>
    /// <returns>The jobs run to warm up.</returns>
    public async Task<long> WarmUpAsync(ConsumerKind kind, int concurrency, int jobs, CancellationToken cancellationToken)
    {
        if (jobs <= 0)
        {
            return 0;
        }

        long ran = 0;
        for (int round = 0; round <= MaxSettleRounds; round++)
        {
            TimeSpan jitBefore = System.Runtime.JitInfo.GetCompilationTime();
            long began = Stopwatch.GetTimestamp();
            _ = await RunAsync(Scenario.Prequeued, kind, concurrency, jobs, cancellationToken).ConfigureAwait(false);
            ran += jobs;
            Console.Error.WriteLine($"warm-up round {round}: jit {(System.Runtime.JitInfo.GetCompilationTime() - jitBefore).TotalMilliseconds:F0} ms of {Stopwatch.GetElapsedTime(began).TotalMilliseconds:F0} ms, methods {System.Runtime.JitInfo.GetCompiledMethodCount()}");
            double share = (System.Runtime.JitInfo.GetCompilationTime() - jitBefore) / Stopwatch.GetElapsedTime(began);
            if (round > 0 && share < SettledJitShare)
            {
                break; // the first round always compiles a lot; a later quiet one means tiering is done
            }
        }

        return ran;
    }

    public async Task<ScenarioResult> RunAsync(Scenario scenario, ConsumerKind kind, int concurrency, int jobs, CancellationToken cancellationToken)
    {
        await server.FlushAllDatabasesAsync().ConfigureAwait(false);
        string queue = $"load-{backend.Kind}-{scenario}-{kind}-{concurrency}".ToLowerInvariant();
        int target = scenario == Scenario.Latency ? LatencySamples : jobs;
        var probe = new LoadProbe((long)target * backend.Groups, scenario == Scenario.Latency ? LatencySamples : 0);
        await using Backends.JobQueueBase producer = backend.Producer(redis, queue);

        RedisStats start = await RedisStats.ReadAsync(server).ConfigureAwait(false);
        double? enqueueRate = null, memoryPerJob = null;
        if (scenario == Scenario.Prequeued)
        {
            long began = Stopwatch.GetTimestamp();
            await BulkEnqueueAsync(producer, jobs, batch: 1000, inFlight: 4, cancellationToken).ConfigureAwait(false);
            enqueueRate = jobs / Stopwatch.GetElapsedTime(began).TotalSeconds;
            memoryPerJob = (await RedisStats.ReadAsync(server).ConfigureAwait(false) - start).UsedMemory / (double)jobs;
        }

        await using var consumer = new ConsumerSet(Enumerable.Range(0, backend.Groups).Select(group => kind == ConsumerKind.Hosted
            ? (IConsumerUnderTest)new HostedConsumer(redis, queue, concurrency, probe, backend, group, traceSample)
            : new RawConsumer(redis, queue, concurrency, target, scenario == Scenario.Latency ? probe : null, backend, group)));
        ClientStats clientStart = ClientStats.Read();
        await using var allocations = new AllocationWatch();
        TimeSpan jitStart = System.Runtime.JitInfo.GetCompilationTime();
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
        long? allocated = await allocations.StopAsync().ConfigureAwait(false);
        double jitMilliseconds = (System.Runtime.JitInfo.GetCompilationTime() - jitStart).TotalMilliseconds;
        RedisStats life = await RedisStats.ReadAsync(server).ConfigureAwait(false) - start;
        (double p50, double p99, double max) = probe.Percentiles();
        bool latency = scenario == Scenario.Latency;
        return new ScenarioResult(
            scenario, kind, concurrency, target, target / seconds, enqueueRate, memoryPerJob,
            life.Commands / (double)target, life.CpuSeconds * 1e6 / target,
            client.Cpu.TotalMicroseconds / target, allocated / (double)target,
            latency ? p50 : null, latency ? p99 : null, latency ? max : null, life.Breakdown(target), backend.Kind, backend.Groups, jitMilliseconds);
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
