using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using ResilientQueue.Concurrency;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.Processing;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Conformance.Processing;

public abstract partial class JobWorkerConformanceTests
{
    /// <summary>The current values of the <c>resilientqueue.concurrency.limit</c> gauge for this test's worker (its limiter is named after its queue).</summary>
    private long[] CurrentLimit()
    {
        using var limit = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.concurrency.limit");
        return limit.Observe(("resilientqueue.limiter", QueueName));
    }

    [Fact]
    public async Task AdaptiveConcurrency_Successes_GrowTheLimitFromInitialTowardsMax()
    {
        // Additive increase alone (no latency signal): a 20 ms Task.Delay has no queue to find, only timer and thread-pool
        // jitter of several milliseconds, which the default latency signal (1.1 x the no-load latency) reads as one and
        // backs off on (seen as a final limit of 1, about 1 run in 12). The latency signal has tests of its own.
        Probe.Behaviour = async (_, ct) => await Task.Delay(20, ct);
        IJobQueue queue = await StartAsync<ProbeHandler>(o => o.AdaptiveConcurrency = new AdaptiveConcurrencyLimiterOptions { InitialLimit = 2, MinLimit = 1, MaxLimit = 6, LatencyThreshold = null });

        await queue.EnqueueManyAsync(Jobs(60));

        await EventuallyAsync(() => IsEmptyAsync(queue), "all jobs complete");
        Probe.Completed.Should().HaveCount(60);
        Probe.MaxRunning.Should().BeGreaterThan(2, "busy windows of successes raise the limit").And.BeLessThanOrEqualTo(6);
        CurrentLimit().Should().ContainSingle().Which.Should().BeGreaterThan(2);
    }

    [Fact]
    public async Task AdaptiveConcurrency_TransientFailures_ShrinkTheLimit()
    {
        Probe.Behaviour = async (_, ct) =>
        {
            await Task.Delay(10, ct);
            throw new TimeoutException("downstream too slow");
        };
        IJobQueue queue = await StartAsync<ProbeHandler>(o => o.AdaptiveConcurrency = new AdaptiveConcurrencyLimiterOptions { InitialLimit = 8, MinLimit = 1, MaxLimit = 8 });

        await queue.EnqueueManyAsync(Jobs(8), default);

        await EventuallyAsync(() => Probe.Calls.Count >= 16, "the jobs failed and were retried");
        CurrentLimit().Should().ContainSingle().Which.Should().BeLessThan(8, "timeouts are drops");
    }

    [Fact]
    public async Task AdaptiveConcurrency_ValidationFailures_SayNothingAboutCapacity()
    {
        IJobQueue queue = await StartAsync<ProbeHandler>(o => o.AdaptiveConcurrency = new AdaptiveConcurrencyLimiterOptions { InitialLimit = 4, MinLimit = 1, MaxLimit = 4 });

        await queue.EnqueueManyAsync(Enumerable.Range(0, 8).Select(i => new JobSubmission(Encoding.UTF8.GetBytes($"not json {i}"))).ToArray());

        await EventuallyAsync(async () => (await queue.GetStatusAsync()).Dead == 8, "the unreadable payloads are dead-lettered");
        CurrentLimit().Should().ContainSingle().Which.Should().Be(4);
    }

    [Fact]
    public async Task AdaptiveConcurrency_Partitioned_SlowPartitionDoesNotHoldBackTheOthers()
    {
        var slowGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int slowRunning = 0;
        int slowMax = 0;
        Probe.Behaviour = async (ctx, ct) =>
        {
            if (ctx.Payload.Text.StartsWith("slow", StringComparison.Ordinal))
            {
                int now = Interlocked.Increment(ref slowRunning);
                InterlockedMax(ref slowMax, now);
                try
                {
                    await slowGate.Task.WaitAsync(ct);
                }
                finally
                {
                    Interlocked.Decrement(ref slowRunning);
                }
            }
        };
        IJobQueue queue = await StartAsync<ProbeHandler>(o =>
        {
            o.Concurrency = 4;
            o.AdaptiveConcurrency = new AdaptiveConcurrencyLimiterOptions { InitialLimit = 1, MinLimit = 1, MaxLimit = 1 };
            o.ConcurrencyKey = job => JsonSerializer.Deserialize<Msg>(job.Payload.Span, JsonSerializerOptions.Web)!.Text.Split('-')[0];
        });

        await queue.EnqueueManyAsync(Enumerable.Range(0, 4).Select(i => Job($"slow-{i}")).Concat(Enumerable.Range(0, 6).Select(i => Job($"fast-{i}"))).ToArray());

        await EventuallyAsync(() => Probe.Completed.Count(id => Probe.Calls.Any(c => c.JobId == id && c.Text.StartsWith("fast", StringComparison.Ordinal))) == 6, "the fast partition's jobs all complete while the slow partition is stuck");
        Volatile.Read(ref slowMax).Should().Be(1, "the slow partition's limit is 1");
        slowGate.SetResult();
        await EventuallyAsync(() => IsEmptyAsync(queue), "the slow jobs complete once released");
        Probe.Completed.Should().HaveCount(10);
        Probe.Calls.Should().OnlyContain(c => c.Attempt == 1, "a deferral for a busy partition spends no attempt");
    }

    /// <summary>The lease of the lease-keeping tests: 2 s, as a cold process on a loaded 2-core CI machine was seen to miss every renewal of a 1 s lease.</summary>
    private static readonly TimeSpan KeptLease = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task AdaptiveConcurrency_JobWaitingForAPermit_KeepsItsLeaseAlive()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Probe.Behaviour = async (ctx, ct) =>
        {
            if (ctx.Payload.Text == "blocker")
            {
                await gate.Task.WaitAsync(ct);
            }
        };
        IJobQueue queue = await StartAsync<ProbeHandler>(
            o =>
            {
                // Limit 1 with two handler loops: the second loop holds the next job while it waits for the permit.
                o.AdaptiveConcurrency = new AdaptiveConcurrencyLimiterOptions { InitialLimit = 1, MinLimit = 1, MaxLimit = 2 };
                o.LeaseDuration = KeptLease;
                o.RenewInterval = TimeSpan.FromMilliseconds(300);
            },
            b => b.AddStaleJobReaper(r => r.Interval = TimeSpan.FromSeconds(1)));
        await EnqueueAsync(queue, "blocker");
        await EventuallyAsync(() => !Probe.Calls.IsEmpty, "the blocker runs");
        string waiting = await EnqueueAsync(queue, "waiting");

        await Task.Delay(3 * KeptLease + TimeSpan.FromSeconds(0.5)); // three lease durations, six reaper passes
        gate.SetResult();

        await EventuallyAsync(() => IsEmptyAsync(queue), "both jobs complete");
        Probe.Calls.Where(c => c.JobId == waiting).Should().ContainSingle("the waiting job's lease was renewed, so the reaper never took it back")
            .Which.Attempt.Should().Be(1);
        Probe.Calls.Should().HaveCount(2, "each job runs once: {0}", string.Join("; ", Probe.Calls.Select(c => $"{c.Text} attempt {c.Attempt} at {c.StartedAt:HH:mm:ss.fff}")));
    }

    [Fact]
    public async Task BufferedJob_WaitingBehindASlowHandler_KeepsItsLeaseAlive()
    {
        // The same guarantee without the limiter: a prefetched job waiting in the buffer longer than its lease.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Probe.Behaviour = async (ctx, ct) =>
        {
            if (ctx.Payload.Text == "blocker")
            {
                await gate.Task.WaitAsync(ct);
            }
        };
        IJobQueue queue = await StartAsync<ProbeHandler>(
            o =>
            {
                o.Concurrency = 1;
                o.Prefetch = 2;
                o.LeaseDuration = KeptLease;
                o.RenewInterval = TimeSpan.FromMilliseconds(300);
            },
            b => b.AddStaleJobReaper(r => r.Interval = TimeSpan.FromSeconds(1)));
        await EnqueueAsync(queue, "blocker");
        await EventuallyAsync(() => !Probe.Calls.IsEmpty, "the blocker runs");
        string waiting = await EnqueueAsync(queue, "waiting");

        await Task.Delay(3 * KeptLease + TimeSpan.FromSeconds(0.5)); // three lease durations
        gate.SetResult();

        await EventuallyAsync(() => IsEmptyAsync(queue), "both jobs complete");
        Probe.Calls.Where(c => c.JobId == waiting).Should().ContainSingle("the buffered job's lease was renewed, so the reaper never took it back")
            .Which.Attempt.Should().Be(1);
    }

    private static JobSubmission Job(string text) => new(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Msg(text), JsonSerializerOptions.Web)));

    private static JobSubmission[] Jobs(int count) => Enumerable.Range(0, count).Select(i => Job($"job {i}")).ToArray();

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
