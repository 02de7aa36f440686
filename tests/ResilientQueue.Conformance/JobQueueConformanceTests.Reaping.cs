using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task Reap_AnExpiredLease_RequeuesTheJobAtTheHead_KeepingAttempts_AndFencesTheOldWorker()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "crashed");
        LeasedJob leased = await FetchOneAsync(queue, TimeSpan.FromSeconds(10));
        await EnqueueAsync(queue, "later");
        Time.Advance(TimeSpan.FromSeconds(10));

        IReadOnlyList<ReapedJob> reaped = await queue.ReapExpiredAsync(100);

        reaped.Should().Equal(new ReapedJob(leased.Job.Id, ReapAction.Requeued, 1, 5, leased.Lease.ExpiresAt));
        Job job = (await queue.GetJobAsync(leased.Job.Id))!;
        job.State.Should().Be(JobState.Ready);
        job.Attempts.Should().Be(1);
        job.LastErrorCategory.Should().Be(ErrorCategory.LeaseExpired);
        job.LastError.Should().StartWith("LeaseExpired: the lease ran out at 2000-01-01T00:00:10.000Z");
        (await queue.AckAsync(leased.Lease)).Should().Be(LeaseResult.LeaseLost, "the crashed worker's lease was taken back");
        LeasedJob again = await FetchOneAsync(queue);
        Text(again.Job).Should().Be("crashed", "a reaped job goes back to the head of its priority");
        again.Job.Attempts.Should().Be(2);
    }

    [Fact]
    public async Task Reap_LeavesLeasesThatHaveNotRunOut_AndRenewedLeases()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "a");
        await EnqueueAsync(queue, "b");
        IReadOnlyList<LeasedJob> leased = await queue.FetchAsync(2, TimeSpan.FromSeconds(10));
        Time.Advance(TimeSpan.FromSeconds(9));
        (await queue.RenewAsync(leased[0].Lease, TimeSpan.FromSeconds(30))).Should().Be(LeaseResult.Succeeded);

        (await queue.ReapExpiredAsync(100)).Should().BeEmpty();
        Time.Advance(TimeSpan.FromSeconds(1));

        (await queue.ReapExpiredAsync(100)).Select(r => r.JobId).Should().Equal(leased[1].Job.Id);
        (await queue.AckAsync(leased[0].Lease)).Should().Be(LeaseResult.Succeeded, "a lease is valid until it is reaped");
    }

    [Fact]
    public async Task Reap_AtMaxAttempts_DeadLettersWithLeaseExpired()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "poison pill", new EnqueueOptions { MaxAttempts = 2 });

        for (int attempt = 1; attempt <= 2; attempt++)
        {
            (await FetchOneAsync(queue, TimeSpan.FromSeconds(5))).Job.Attempts.Should().Be(attempt);
            Time.Advance(TimeSpan.FromSeconds(5)); // the worker crashes every time: no ack, no fail
            (await queue.ReapExpiredAsync(10)).Single().Action.Should().Be(attempt < 2 ? ReapAction.Requeued : ReapAction.DeadLettered);
        }

        (await queue.FetchAsync(1, Lease)).Should().BeEmpty();
        DeadLetter.DeadLetterEntry entry = (await queue.DeadLetters.GetAsync(id))!;
        entry.Category.Should().Be(ErrorCategory.LeaseExpired);
        entry.Reason.Should().Be("Max attempts (2) exhausted. Last error: LeaseExpired: the lease ran out at 2000-01-01T00:00:10.000Z without an ack (worker crashed, hung or lost its connection)");
        entry.Job.Failures.Should().HaveCount(2).And.OnlyContain(f => f.Category == ErrorCategory.LeaseExpired);
        ShouldCount(await StatusAsync(queue), dead: 1);
    }

    [Fact]
    public async Task Reap_DryRun_ReportsWhatItWouldDo_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "requeue me");
        await EnqueueAsync(queue, "kill me", new EnqueueOptions { MaxAttempts = 1 });
        IReadOnlyList<LeasedJob> leased = await queue.FetchAsync(2, TimeSpan.FromSeconds(1));
        Time.Advance(TimeSpan.FromSeconds(2));

        IReadOnlyList<ReapedJob> plan = await queue.ReapExpiredAsync(10, dryRun: true);

        plan.Select(r => (r.JobId, r.Action)).Should().BeEquivalentTo([(leased[0].Job.Id, ReapAction.Requeued), (leased[1].Job.Id, ReapAction.DeadLettered)]);
        ShouldCount(await StatusAsync(queue), active: 2);
        (await queue.GetJobAsync(leased[0].Job.Id))!.LastError.Should().BeNull();
        (await queue.AckAsync(leased[0].Lease)).Should().Be(LeaseResult.Succeeded);
    }

    [Fact]
    public async Task Reap_TakesAtMostMaxCount_OldestDeadlineFirst()
    {
        IJobQueue queue = await NewQueueAsync();
        await queue.EnqueueManyAsync(Enumerable.Range(0, 5).Select(i => new JobSubmission(Bytes($"{i}"))).ToArray());
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            ids.Add((await FetchOneAsync(queue, TimeSpan.FromSeconds(10 - i))).Job.Id); // later fetches expire sooner
        }

        Time.Advance(TimeSpan.FromSeconds(20));

        (await queue.ReapExpiredAsync(2)).Select(r => r.JobId).Should().Equal(ids[4], ids[3]);
        (await queue.ReapExpiredAsync(10)).Should().HaveCount(3);
        (await queue.ReapExpiredAsync(10)).Should().BeEmpty();
        ShouldCount(await StatusAsync(queue), ready: 5);
    }

    [Fact]
    public async Task Reap_OlderThan_TakesOnlyLeasesThatRanOutLongEnoughAgo()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "long expired");
        LeasedJob old = await FetchOneAsync(queue, TimeSpan.FromSeconds(1));
        Time.Advance(TimeSpan.FromMinutes(10));
        await EnqueueAsync(queue, "just expired");
        LeasedJob fresh = await FetchOneAsync(queue, TimeSpan.FromSeconds(1));
        Time.Advance(TimeSpan.FromSeconds(2));

        (await queue.ReapExpiredAsync(10, olderThan: TimeSpan.FromMinutes(5), dryRun: true)).Select(r => r.JobId).Should().Equal(old.Job.Id);
        (await queue.ReapExpiredAsync(10, olderThan: TimeSpan.FromMinutes(5))).Select(r => r.JobId).Should().Equal(old.Job.Id);

        (await queue.GetJobAsync(fresh.Job.Id))!.State.Should().Be(JobState.Active);
        await FluentActions.Awaiting(() => queue.ReapExpiredAsync(10, olderThan: TimeSpan.FromSeconds(-1)).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task Reap_WithACountOutOfRange_Throws()
    {
        IJobQueue queue = await NewQueueAsync();
        await FluentActions.Awaiting(() => queue.ReapExpiredAsync(0).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await FluentActions.Awaiting(() => queue.ReapExpiredAsync(1001).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
    }
}
