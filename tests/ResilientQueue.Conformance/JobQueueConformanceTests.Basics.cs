using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task Enqueue_ThenFetch_ReturnsTheEnvelopeWithOneAttemptSpent()
    {
        IJobQueue queue = await NewQueueAsync();
        DateTimeOffset enqueuedAt = Time.GetUtcNow();
        string id = await EnqueueAsync(queue, "hello", new EnqueueOptions { CorrelationId = "order-7", TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });

        LeasedJob leased = await FetchOneAsync(queue);

        leased.Job.Id.Should().Be(id);
        leased.Job.Queue.Should().Be(queue.Name);
        Text(leased.Job).Should().Be("hello");
        leased.Job.State.Should().Be(JobState.Active);
        leased.Job.Attempts.Should().Be(1);
        leased.Job.MaxAttempts.Should().Be(new JobQueueOptions().DefaultMaxAttempts);
        leased.Job.EnqueuedAt.Should().Be(enqueuedAt);
        leased.Job.CorrelationId.Should().Be("order-7");
        leased.Job.TraceParent.Should().Be("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        leased.Lease.JobId.Should().Be(id);
        leased.Lease.Token.Should().NotBeNullOrEmpty();
        leased.Lease.ExpiresAt.Should().Be(enqueuedAt + Lease);
    }

    [Fact]
    public async Task Fetch_EmptyQueue_ReturnsNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        (await queue.FetchAsync(10, Lease)).Should().BeEmpty();
    }

    [Fact]
    public async Task Fetch_WithinOnePriority_IsFifo()
    {
        IJobQueue queue = await NewQueueAsync();
        string[] texts = Enumerable.Range(0, 20).Select(i => $"job-{i}").ToArray();
        foreach (string text in texts)
        {
            await EnqueueAsync(queue, text);
        }

        (await DrainTextsAsync(queue, batch: 7)).Should().Equal(texts);
    }

    [CapabilityFact(JobQueueCapabilities.Priorities)]
    public async Task Fetch_HigherPriorityFirst_FifoWithinEach()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "low-1");
        await EnqueueAsync(queue, "high-1", new EnqueueOptions { Priority = 9 });
        await EnqueueAsync(queue, "mid-1", new EnqueueOptions { Priority = 5 });
        await EnqueueAsync(queue, "low-2");
        await EnqueueAsync(queue, "high-2", new EnqueueOptions { Priority = 9 });
        await EnqueueAsync(queue, "mid-2", new EnqueueOptions { Priority = 5 });

        (await DrainTextsAsync(queue, batch: 4)).Should().Equal("high-1", "high-2", "mid-1", "mid-2", "low-1", "low-2");
    }

    [Fact]
    public async Task EnqueueMany_AddsAllInOrder_AndReturnsTheirIdsInOrder()
    {
        IJobQueue queue = await NewQueueAsync();
        JobSubmission[] batch = Enumerable.Range(0, 50).Select(i => new JobSubmission(Bytes($"b-{i}"))).ToArray();

        IReadOnlyList<EnqueueResult> results = await queue.EnqueueManyAsync(batch);

        results.Should().HaveCount(50);
        results.Select(r => r.JobId).Should().OnlyHaveUniqueItems();
        results.Should().OnlyContain(r => !r.Duplicate);
        IReadOnlyList<LeasedJob> fetched = await queue.FetchAsync(100, Lease);
        fetched.Select(j => j.Job.Id).Should().Equal(results.Select(r => r.JobId));
        fetched.Select(j => Text(j.Job)).Should().Equal(Enumerable.Range(0, 50).Select(i => $"b-{i}"));
    }

    [Fact]
    public async Task Fetch_TakesAtMostMaxCount()
    {
        IJobQueue queue = await NewQueueAsync();
        await queue.EnqueueManyAsync(Enumerable.Range(0, 10).Select(i => new JobSubmission(Bytes($"{i}"))).ToArray());

        (await queue.FetchAsync(4, Lease)).Should().HaveCount(4);
        (await queue.FetchAsync(10, Lease)).Should().HaveCount(6);
        (await queue.FetchAsync(10, Lease)).Should().BeEmpty();
    }

    [Fact]
    public async Task Fetch_EachFetchIssuesANewToken()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "x");
        LeasedJob first = await FetchOneAsync(queue);
        (await queue.ReleaseAsync(first.Lease)).Should().Be(LeaseResult.Succeeded);

        LeasedJob second = await FetchOneAsync(queue);

        second.Job.Id.Should().Be(first.Job.Id);
        second.Lease.Token.Should().NotBe(first.Lease.Token);
    }

    [Fact]
    public async Task ConcurrentConsumers_EachJobIsDeliveredOnce()
    {
        IJobQueue queue = await NewQueueAsync();
        const int total = 400;
        for (int i = 0; i < total; i += 100)
        {
            await queue.EnqueueManyAsync(Enumerable.Range(i, 100).Select(n => new JobSubmission(Bytes($"{n}"))).ToArray());
        }

        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        Task[] consumers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            for (int round = 0; round < 1000; round++)
            {
                IReadOnlyList<LeasedJob> jobs = await queue.FetchAsync(7, Lease);
                if (jobs.Count == 0)
                {
                    return;
                }

                foreach (LeasedJob job in jobs)
                {
                    seen.Add(Text(job.Job));
                }

                (await queue.AckManyAsync(jobs.Select(j => j.Lease).ToArray())).Should().OnlyContain(r => r == LeaseResult.Succeeded);
            }
        })).ToArray();
        await Task.WhenAll(consumers);

        seen.Should().HaveCount(total).And.OnlyHaveUniqueItems();
        ShouldCount(await StatusAsync(queue));
    }

    [Fact]
    public async Task Delayed_IsNotFetchableBeforeDue_AndIsExactlyWhenDue()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "later", new EnqueueOptions { Delay = TimeSpan.FromSeconds(10) });
        ShouldCount(await StatusAsync(queue), delayed: 1);
        (await queue.GetJobAsync(id))!.AvailableAt.Should().Be(Time.GetUtcNow() + TimeSpan.FromSeconds(10));

        Time.Advance(TimeSpan.FromMilliseconds(9_999));
        (await queue.FetchAsync(10, Lease)).Should().BeEmpty();

        Time.Advance(TimeSpan.FromMilliseconds(1));
        (await FetchOneAsync(queue)).Job.Id.Should().Be(id);
    }

    [Fact]
    public async Task Delayed_BecomeReadyInDueOrder()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "second", new EnqueueOptions { Delay = TimeSpan.FromSeconds(20) });
        await EnqueueAsync(queue, "first", new EnqueueOptions { Delay = TimeSpan.FromSeconds(10) });
        await EnqueueAsync(queue, "now");

        Time.Advance(TimeSpan.FromSeconds(30));

        (await DrainTextsAsync(queue)).Should().Equal("now", "first", "second");
    }

    [Fact]
    public async Task Pause_StopsFetching_KeepsAcceptingEnqueues_AndResumeRestores()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "a");
        await queue.PauseAsync();

        (await StatusAsync(queue)).IsPaused.Should().BeTrue();
        (await queue.FetchAsync(10, Lease)).Should().BeEmpty();
        await EnqueueAsync(queue, "b");
        ShouldCount(await StatusAsync(queue), ready: 2);

        await queue.ResumeAsync();

        (await StatusAsync(queue)).IsPaused.Should().BeFalse();
        (await DrainTextsAsync(queue)).Should().Equal("a", "b");
    }

    [Fact]
    public async Task Idempotency_SecondEnqueueWithTheKey_ReturnsTheFirstIdAndAddsNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        EnqueueResult first = await queue.EnqueueAsync(Bytes("pay"), new EnqueueOptions { IdempotencyKey = "invoice-42" });
        EnqueueResult second = await queue.EnqueueAsync(Bytes("pay again"), new EnqueueOptions { IdempotencyKey = "invoice-42" });

        first.Duplicate.Should().BeFalse();
        second.Should().Be(new EnqueueResult(first.JobId, EnqueueOutcome.Duplicate));
        ShouldCount(await StatusAsync(queue), ready: 1);
        (await queue.GetJobAsync(first.JobId))!.IdempotencyKey.Should().Be("invoice-42");
    }

    [Fact]
    public async Task Idempotency_KeyIsForgottenAfterTheWindow()
    {
        IJobQueue queue = await NewQueueAsync(o => o.IdempotencyWindow = TimeSpan.FromMinutes(5));
        EnqueueResult first = await queue.EnqueueAsync(Bytes("a"), new EnqueueOptions { IdempotencyKey = "k" });

        Time.Advance(TimeSpan.FromMinutes(4));
        (await queue.EnqueueAsync(Bytes("b"), new EnqueueOptions { IdempotencyKey = "k" })).Duplicate.Should().BeTrue();

        Time.Advance(TimeSpan.FromMinutes(1));
        EnqueueResult third = await queue.EnqueueAsync(Bytes("c"), new EnqueueOptions { IdempotencyKey = "k" });
        third.Duplicate.Should().BeFalse();
        third.JobId.Should().NotBe(first.JobId);
        ShouldCount(await StatusAsync(queue), ready: 2);
    }

    [Fact]
    public async Task Idempotency_DuplicatesWithinOneBatch_AreAddedOnce()
    {
        IJobQueue queue = await NewQueueAsync();
        IReadOnlyList<EnqueueResult> results = await queue.EnqueueManyAsync(
        [
            new JobSubmission(Bytes("a"), new EnqueueOptions { IdempotencyKey = "same" }),
            new JobSubmission(Bytes("b")),
            new JobSubmission(Bytes("c"), new EnqueueOptions { IdempotencyKey = "same" }),
        ]);

        results[0].Duplicate.Should().BeFalse();
        results[1].Duplicate.Should().BeFalse();
        results[2].Should().Be(new EnqueueResult(results[0].JobId, EnqueueOutcome.Duplicate));
        (await DrainTextsAsync(queue)).Should().Equal("a", "b");
    }

    [Fact]
    public async Task GetJob_ReportsTheStateOfAJobInEveryState()
    {
        IJobQueue queue = await NewQueueAsync(o => o.CompletedRetention = 10);
        string done = await EnqueueAsync(queue, "done");
        (await queue.AckAsync((await FetchOneAsync(queue)).Lease)).Should().Be(LeaseResult.Succeeded);
        string dead = await DeadLetterAsync(queue, "dead");
        string active = await EnqueueAsync(queue, "active");
        await FetchOneAsync(queue);
        string ready = await EnqueueAsync(queue, "ready");
        string delayed = await EnqueueAsync(queue, "delayed", new EnqueueOptions { Delay = TimeSpan.FromMinutes(1) });

        (await queue.GetJobAsync(ready))!.State.Should().Be(JobState.Ready);
        (await queue.GetJobAsync(delayed))!.State.Should().Be(JobState.Delayed);
        Job activeJob = (await queue.GetJobAsync(active))!;
        activeJob.State.Should().Be(JobState.Active);
        activeJob.LeaseExpiresAt.Should().Be(Time.GetUtcNow() + Lease);
        (await queue.GetJobAsync(dead))!.State.Should().Be(JobState.Dead);
        (await queue.GetJobAsync(done))!.State.Should().Be(JobState.Completed);
        (await queue.GetJobAsync("0000000000000000000000000000dead")).Should().BeNull();
    }

    [Fact]
    public async Task Counts_AreRightAfterEveryTransition()
    {
        IJobQueue queue = await NewQueueAsync(o => o.CompletedRetention = 10);
        await EnqueueAsync(queue, "a");
        await EnqueueAsync(queue, "b");
        await EnqueueAsync(queue, "c", new EnqueueOptions { Delay = TimeSpan.FromSeconds(5) });
        ShouldCount(await StatusAsync(queue), ready: 2, delayed: 1);

        IReadOnlyList<LeasedJob> leased = await queue.FetchAsync(2, Lease);
        ShouldCount(await StatusAsync(queue), active: 2, delayed: 1);

        await queue.AckAsync(leased[0].Lease);
        ShouldCount(await StatusAsync(queue), active: 1, delayed: 1, completed: 1);

        await queue.FailAsync(leased[1].Lease, Error(), RecoveryDecision.Retry(TimeSpan.FromSeconds(1)));
        ShouldCount(await StatusAsync(queue), delayed: 2, completed: 1);

        Time.Advance(TimeSpan.FromSeconds(5));
        IReadOnlyList<LeasedJob> again = await queue.FetchAsync(10, Lease);
        again.Should().HaveCount(2);
        ShouldCount(await StatusAsync(queue), active: 2, completed: 1);

        await queue.ReleaseAsync(again[0].Lease);
        ShouldCount(await StatusAsync(queue), ready: 1, active: 1, completed: 1);

        await queue.FailAsync(again[1].Lease, Error(), RecoveryDecision.DeadLetter("poison"));
        ShouldCount(await StatusAsync(queue), ready: 1, dead: 1, completed: 1);
        (await StatusAsync(queue)).Depth.Should().Be(1);

        await queue.DeadLetters.RequeueAsync(again[1].Job.Id);
        ShouldCount(await StatusAsync(queue), ready: 2, completed: 1);
    }

    [Fact]
    public async Task WaitForJobs_ReturnsWhenAJobIsEnqueued()
    {
        IJobQueue queue = await NewQueueAsync();
        Task<bool> waiting = queue.WaitForJobsAsync(TimeSpan.FromMinutes(5)).AsTask();
        await Task.Delay(50);
        waiting.IsCompleted.Should().BeFalse("nothing is ready yet");

        await EnqueueAsync(queue, "wake");

        (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue();
    }

    [Fact]
    public async Task WaitForJobs_ReturnsAtOnceWhenJobsAreReady()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "ready");

        (await queue.WaitForJobsAsync(TimeSpan.FromMinutes(5)).AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue();
    }

    [Fact]
    public async Task WaitForJobs_TimesOutWithFalseWhenNothingArrives()
    {
        IJobQueue queue = await NewQueueAsync();
        Task<bool> waiting = queue.WaitForJobsAsync(TimeSpan.FromSeconds(5)).AsTask();

        (await AdvanceUntilDoneAsync(waiting, TimeSpan.FromSeconds(1))).Should().BeFalse();
    }

    [Fact]
    public async Task WaitForJobs_IgnoresAJobDelayedPastTheWait_ButWakesWhenADelayedJobFallsDue()
    {
        IJobQueue queue = await NewQueueAsync();
        Task<bool> waiting = queue.WaitForJobsAsync(TimeSpan.FromMinutes(10)).AsTask();
        await EnqueueAsync(queue, "in an hour", new EnqueueOptions { Delay = TimeSpan.FromHours(1) });
        await EnqueueAsync(queue, "in a minute", new EnqueueOptions { Delay = TimeSpan.FromMinutes(1) });
        await Task.Delay(100);
        waiting.IsCompleted.Should().BeFalse("nothing is fetchable yet");

        (await AdvanceUntilDoneAsync(waiting, TimeSpan.FromSeconds(10))).Should().BeTrue();

        Time.GetUtcNow().Should().BeOnOrAfter(Time.Start + TimeSpan.FromMinutes(1));
        Text((await FetchOneAsync(queue)).Job).Should().Be("in a minute");
    }

    [Fact]
    public async Task WaitForJobs_OnAPausedQueue_DoesNotReturnTrueForAnEnqueue_ButDoesOnResume()
    {
        IJobQueue queue = await NewQueueAsync();
        await queue.PauseAsync();
        Task<bool> waiting = queue.WaitForJobsAsync(TimeSpan.FromMinutes(5)).AsTask();
        await EnqueueAsync(queue, "held");
        await Task.Delay(100);
        waiting.IsCompleted.Should().BeFalse("the queue is paused");

        await queue.ResumeAsync();

        (await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue();
    }

    [Fact]
    public async Task WaitForJobs_RejectsAWaitOutOfRange()
    {
        IJobQueue queue = await NewQueueAsync();
        await FluentActions.Awaiting(() => queue.WaitForJobsAsync(TimeSpan.FromDays(2)).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await FluentActions.Awaiting(() => queue.WaitForJobsAsync(TimeSpan.FromSeconds(-1)).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        (await queue.WaitForJobsAsync(TimeSpan.Zero)).Should().BeFalse();
    }

    /// <summary>Moves the fake clock forward in steps until the task completes (a backend may start its timer only after a round trip).</summary>
    protected async Task<T> AdvanceUntilDoneAsync<T>(Task<T> task, TimeSpan step, int maxSteps = 1000)
    {
        for (int i = 0; i < maxSteps && !task.IsCompleted; i++)
        {
            await Task.Delay(5);
            Time.Advance(step);
        }

        return await task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Checkpoint_SavedByOneAttempt_IsSeenByTheNext()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "long job");
        LeasedJob first = await FetchOneAsync(queue);
        first.Job.Checkpoint.Should().BeNull();

        (await queue.SaveCheckpointAsync(first.Lease, Bytes("page=17"))).Should().Be(LeaseResult.Succeeded);
        await queue.FailAsync(first.Lease, Error(), RecoveryDecision.Retry(TimeSpan.Zero));

        LeasedJob second = await FetchOneAsync(queue);
        second.Job.Attempts.Should().Be(2);
        second.Job.Checkpoint.Should().NotBeNull();
        System.Text.Encoding.UTF8.GetString(second.Job.Checkpoint!.Value.Span).Should().Be("page=17");
    }
}
