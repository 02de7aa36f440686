using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.Errors;
using ResilientQueue.Reaping;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Conformance.Processing;

/// <summary>The stale-job reaper on every backend (fake time: leases run out when the test says so).</summary>
public abstract class StaleJobReaperConformanceTests
{
    protected FakeTimeProvider Time { get; } = new();

    /// <summary>What the reapers of the test logged.</summary>
    protected FakeLogCollector Logs { get; } = new();

    /// <summary>Creates a queue of the backend under test, shared by everything in one test (several "processes").</summary>
    protected abstract IJobQueue CreateQueue(string name, JobQueueOptions options, TimeProvider time);

    private IJobQueue NewQueue() => CreateQueue("reap-" + Guid.NewGuid().ToString("N")[..12], new JobQueueOptions { DefaultMaxAttempts = 2 }, Time);

    private StaleJobReaper NewReaper(IJobQueue queue) =>
        new([queue], new StaleJobReaperOptions { Interval = TimeSpan.FromSeconds(30) }, Time, new FakeLogger(Logs, "ResilientQueue.Reaper"));

    private async Task<List<string>> LeaseAndCrashAsync(IJobQueue queue, int count)
    {
        await queue.EnqueueManyAsync(Enumerable.Range(0, count).Select(i => new JobSubmission(new byte[] { (byte)i })).ToArray());
        IReadOnlyList<LeasedJob> leased = await queue.FetchAsync(count, TimeSpan.FromSeconds(10));
        await queue.MarkStartedManyAsync(leased.Select(j => j.Lease).ToArray()); // their handlers ran
        var ids = leased.Select(j => j.Job.Id).ToList();
        Time.Advance(TimeSpan.FromSeconds(11)); // every worker "crashed": no ack, the leases run out
        return ids;
    }

    [Fact]
    public async Task Reaper_RequeuesAStaleJobWithItsAttemptsKept_AndCountsAndLogsIt()
    {
        using var reaped = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.jobs.reaped");
        IJobQueue queue = NewQueue();
        List<string> ids = await LeaseAndCrashAsync(queue, 3);

        (await NewReaper(queue).ReapQueueAsync(queue, CancellationToken.None)).Should().Be(3);

        foreach (string id in ids)
        {
            Job job = (await queue.GetJobAsync(id))!;
            job.State.Should().Be(JobState.Ready);
            job.Attempts.Should().Be(1);
            job.LastErrorCategory.Should().Be(ErrorCategory.LeaseExpired);
        }

        reaped.Sum(("messaging.destination.name", queue.Name), ("resilientqueue.reap.action", "requeued")).Should().Be(3);
        FakeLogRecord[] requeued = Logs.Events(3001);
        requeued.Select(r => r.GetStructuredStateValue("JobId")).Should().BeEquivalentTo(ids, "each requeue is logged once");
        foreach (FakeLogRecord record in requeued)
        {
            // Leased for 10 s and 11 s have passed: each lease ran out 1 s ago, on attempt 1 of 2.
            record.ShouldBeEvent(3001, LogLevel.Warning, ReapedFields(queue, record.GetStructuredStateValue("JobId")!, staleSeconds: "1", attempts: "1", maxAttempts: "2"));
        }

        Logs.Events(3002).Should().BeEmpty();
    }

    [Fact]
    public async Task Reaper_AtMaxAttempts_DeadLettersWithLeaseExpired_AndCountsAndLogsIt()
    {
        using var reaped = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.jobs.reaped");
        IJobQueue queue = NewQueue();
        StaleJobReaper reaper = NewReaper(queue);
        string id = (await LeaseAndCrashAsync(queue, 1))[0];
        await reaper.ReapQueueAsync(queue, CancellationToken.None);
        LeasedJob second = (await queue.FetchAsync(1, TimeSpan.FromSeconds(10))).Should().ContainSingle().Subject; // attempt 2 of 2 crashes too
        await queue.MarkStartedManyAsync([second.Lease]);
        Time.Advance(TimeSpan.FromSeconds(31));         // and the reaper's next turn comes

        (await reaper.ReapQueueAsync(queue, CancellationToken.None)).Should().Be(1);

        DeadLetter.DeadLetterEntry entry = (await queue.DeadLetters.GetAsync(id))!;
        entry.Category.Should().Be(ErrorCategory.LeaseExpired);
        entry.Job.Attempts.Should().Be(2);
        reaped.Sum(("messaging.destination.name", queue.Name), ("resilientqueue.reap.action", "dead_lettered")).Should().Be(1);
        Logs.Events(3001).Should().ContainSingle("the first reap requeued the job")
            .Which.ShouldBeEvent(3001, LogLevel.Warning, ReapedFields(queue, id, staleSeconds: "1", attempts: "1", maxAttempts: "2"));

        // Attempt 2 was leased at 11 s for 10 s; the reap at 42 s finds it 21 s stale.
        Logs.Events(3002).Should().ContainSingle("the dead-lettering is logged once")
            .Which.ShouldBeEvent(3002, LogLevel.Error, ReapedFields(queue, id, staleSeconds: "21", attempts: "2", maxAttempts: "2"));
    }

    [Fact]
    public async Task Reapers_InTwoProcesses_HandleEachJobOnce_AndOnlyOneReapsPerInterval()
    {
        IJobQueue queue = NewQueue();
        List<string> ids = await LeaseAndCrashAsync(queue, 50);
        StaleJobReaper first = NewReaper(queue), second = NewReaper(queue);

        int[] counts = await Task.WhenAll(
            Task.Run(() => first.ReapQueueAsync(queue, CancellationToken.None)),
            Task.Run(() => second.ReapQueueAsync(queue, CancellationToken.None)));

        counts.Sum().Should().Be(50);
        counts.Should().Contain(0, "the other process did not have the turn");
        (await queue.GetStatusAsync()).Should().Match<QueueStatus>(s => s.Ready == 50 && s.Active == 0);
        foreach (string id in ids)
        {
            (await queue.GetJobAsync(id))!.Failures.Should().ContainSingle("each job was reaped once");
        }

        Logs.Events(3001).Select(r => r.GetStructuredStateValue("JobId")).Should().BeEquivalentTo(ids, "each job's requeue is logged once, by the reaper that did it");
    }

    [Fact]
    public async Task DryRun_ReportsWhatWouldBeReaped_AndChangesNothing()
    {
        IJobQueue queue = NewQueue();
        List<string> ids = await LeaseAndCrashAsync(queue, 2);

        IReadOnlyList<ReapedJob> plan = await queue.ReapExpiredAsync(100, dryRun: true);

        plan.Select(p => p.JobId).Should().BeEquivalentTo(ids);
        (await queue.GetStatusAsync()).Active.Should().Be(2);
        (await NewReaper(queue).ReapQueueAsync(queue, CancellationToken.None)).Should().Be(2, "the dry run left them for the real reap");
    }

    /// <summary>The fields of events 3001 and 3002 (docs/telemetry.md).</summary>
    private static Dictionary<string, string?> ReapedFields(IJobQueue queue, string jobId, string staleSeconds, string attempts, string maxAttempts) => new()
    {
        ["Queue"] = queue.Name,
        ["JobId"] = jobId,
        ["StaleSeconds"] = staleSeconds,
        ["Attempts"] = attempts,
        ["MaxAttempts"] = maxAttempts,
    };
}
