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
        LeasedJob leased = await FetchStartedAsync(queue, TimeSpan.FromSeconds(10)); // its handler ran, then the worker died
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
            (await FetchStartedAsync(queue, TimeSpan.FromSeconds(5))).Job.Attempts.Should().Be(attempt);
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
        await queue.MarkStartedManyAsync(leased.Select(j => j.Lease).ToArray());
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

    [Fact]
    public async Task Reap_ALeaseWhoseHandlerNeverStarted_GivesTheAttemptBack_AtMostTwiceInTheJobsLife()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "buffered when its worker died");

        for (int refund = 1; refund <= IJobConsumer.MaxUnstartedRefunds; refund++)
        {
            LeasedJob leased = await FetchOneAsync(queue, TimeSpan.FromSeconds(5)); // fetched into a buffer, never started
            leased.Job.Attempts.Should().Be(1, "the attempt given back before is counted again at fetch");
            Time.Advance(TimeSpan.FromSeconds(5));

            (await queue.ReapExpiredAsync(10)).Should().Equal(new ReapedJob(id, ReapAction.Requeued, 1, 5, leased.Lease.ExpiresAt, AttemptRefunded: true));
            Job job = (await queue.GetJobAsync(id))!;
            job.State.Should().Be(JobState.Ready);
            job.Attempts.Should().Be(0, $"refund {refund}: the job never ran");
            job.Failures.Should().BeEmpty("nothing ran, so nothing failed");
            (await queue.AckAsync(leased.Lease)).Should().Be(LeaseResult.LeaseLost, "the dead worker's lease is fenced out all the same");
        }

        LeasedJob third = await FetchOneAsync(queue, TimeSpan.FromSeconds(5));
        Time.Advance(TimeSpan.FromSeconds(5));
        (await queue.ReapExpiredAsync(10)).Single().AttemptRefunded.Should().BeFalse("the refunds are used up");
        Job charged = (await queue.GetJobAsync(third.Job.Id))!;
        charged.Attempts.Should().Be(1);
        charged.LastErrorCategory.Should().Be(ErrorCategory.LeaseExpired);
    }

    [Fact]
    public async Task Reap_APoisonJobThatKillsItsWorkerBeforeItsStartedMarkLands_StillEndsDeadLettered()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "kills its worker at once", new EnqueueOptions { MaxAttempts = 1 });

        int runs = 0;
        while ((await queue.FetchAsync(1, TimeSpan.FromSeconds(5))).Count == 1)
        {
            runs++;
            runs.Should().BeLessThanOrEqualTo(10, "the poison-pill guard must end the loop");
            Time.Advance(TimeSpan.FromSeconds(5));
            await queue.ReapExpiredAsync(10);
        }

        runs.Should().Be(1 + IJobConsumer.MaxUnstartedRefunds, "its one attempt, plus at most the unstarted refunds");
        (await queue.DeadLetters.GetAsync(id))!.Category.Should().Be(ErrorCategory.LeaseExpired);
    }

    [Fact]
    public async Task MarkStarted_IsFencedByTheLease_AndAMarkOfAnEarlierLeaseDoesNotCountForALaterOne()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "released and fetched again");
        LeasedJob first = await FetchStartedAsync(queue, TimeSpan.FromSeconds(5));
        (await queue.ReleaseAsync(first.Lease)).Should().Be(LeaseResult.Succeeded);

        (await queue.MarkStartedManyAsync([first.Lease])).Should().Equal([LeaseResult.LeaseLost], "that lease is over");
        LeasedJob second = await FetchOneAsync(queue, TimeSpan.FromSeconds(5));
        Time.Advance(TimeSpan.FromSeconds(5));

        (await queue.ReapExpiredAsync(10)).Single().AttemptRefunded.Should().BeTrue("the first lease's mark does not count for the second");
        (await queue.GetJobAsync(second.Job.Id))!.Attempts.Should().Be(0);
    }

    [Fact]
    public async Task Reap_ALeaseMarkedStarted_KeepsTheAttempt_AndAnAckRemovesTheMark()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "ran, then its worker died");
        await EnqueueAsync(queue, "ran and was acknowledged");
        IReadOnlyList<LeasedJob> leased = await queue.FetchAsync(2, TimeSpan.FromSeconds(5));
        (await queue.MarkStartedManyAsync(leased.Select(j => j.Lease).ToArray())).Should().Equal(LeaseResult.Succeeded, LeaseResult.Succeeded);
        (await queue.AckAsync(leased[1].Lease)).Should().Be(LeaseResult.Succeeded);
        Time.Advance(TimeSpan.FromSeconds(5));

        ReapedJob reaped = (await queue.ReapExpiredAsync(10)).Single();

        reaped.JobId.Should().Be(leased[0].Job.Id);
        reaped.AttemptRefunded.Should().BeFalse();
        (await queue.GetJobAsync(leased[0].Job.Id))!.Attempts.Should().Be(1, "the attempt that ran counts");
    }
}
