using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Results;

namespace ResilientQueue.Conformance;

/// <summary>
/// Request–reply: a result stored with the completion, atomically; read back, kept for the retention in the queue's
/// clock, bounded in size; and producers waiting for it: woken by the completion (not by a poll: the clock that would
/// time the poll never moves), told of a terminal failure with the stored error, of a result that cannot come, and of a
/// timeout naming the job and the time waited.
/// </summary>
public abstract partial class JobQueueConformanceTests
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(10);

    private static string Text(JobResult result) => System.Text.Encoding.UTF8.GetString(result.Value.Span);

    [Fact]
    public async Task Complete_StoresTheResultWithTheCompletion_KeptForTheRetention()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "question");
        LeasedJob leased = await FetchOneAsync(queue);
        Time.Advance(TimeSpan.FromSeconds(3));
        DateTimeOffset completedAt = Time.GetUtcNow();

        (await queue.CompleteAsync(leased.Lease, Bytes("answer"))).Should().Be(LeaseResult.Succeeded);

        JobResult result = (await queue.GetResultAsync(id))!;
        result.Should().NotBeNull();
        (result.JobId, result.Queue, Text(result)).Should().Be((id, queue.Name, "answer"));
        result.CompletedAt.Should().Be(completedAt);
        result.ExpiresAt.Should().Be(completedAt + new JobResultOptions().Retention);
        (await queue.GetJobAsync(id)).Should().BeNull("completed and, with no completed retention, removed as by an ack");
        ShouldCount(await StatusAsync(queue));
        (await queue.RenewAsync(leased.Lease, Lease)).Should().Be(LeaseResult.LeaseLost, "the lease ended with the completion");
    }

    [Fact]
    public async Task Complete_WithCompletedRetention_KeepsTheJobCompleted_AndItsResult()
    {
        IJobQueue queue = await NewQueueAsync(o => o.CompletedRetention = 5);
        string id = await EnqueueAsync(queue, "question");
        LeasedJob leased = await FetchOneAsync(queue);

        await queue.CompleteAsync(leased.Lease, Bytes("answer"));

        (await queue.GetJobAsync(id))!.State.Should().Be(JobState.Completed);
        ShouldCount(await StatusAsync(queue), completed: 1);
        Text((await queue.WaitForResultAsync(id, TimeSpan.Zero))).Should().Be("answer");
    }

    [Fact]
    public async Task Complete_WithALostLease_IsLeaseLost_AndStoresNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "x");
        LeasedJob first = await FetchOneAsync(queue);
        await queue.ReleaseAsync(first.Lease);
        LeasedJob second = await FetchOneAsync(queue);

        IReadOnlyList<LeaseResult> results = await queue.CompleteManyAsync([new JobCompletion(first.Lease, Bytes("late")), new JobCompletion(second.Lease, Bytes("current"))]);

        results.Should().Equal(LeaseResult.LeaseLost, LeaseResult.Succeeded);
        Text((await queue.GetResultAsync(id))!).Should().Be("current", "the stale lease stored nothing; the current one did");
        (await queue.CompleteAsync(second.Lease, Bytes("twice"))).Should().Be(LeaseResult.LeaseLost);
        Text((await queue.GetResultAsync(id))!).Should().Be("current");
    }

    [Fact]
    public async Task Complete_AResultOverTheLimit_Throws_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.MaxBytes = 8);
        string id = await EnqueueAsync(queue, "x");
        LeasedJob leased = await FetchOneAsync(queue);

        JobResultTooLargeException error = (await FluentActions.Awaiting(() => queue.CompleteAsync(leased.Lease, new byte[9]).AsTask())
            .Should().ThrowAsync<JobResultTooLargeException>()).Which;

        error.Message.Should().Be($"The result of job '{id}' is 9 bytes, over the 8-byte limit of queue '{queue.Name}' (JobQueueOptions.Results.MaxBytes). Nothing was stored.");
        (error.JobId, error.Size, error.Limit).Should().Be((id, 9, 8));
        (await queue.GetJobAsync(id))!.State.Should().Be(JobState.Active, "the job is still leased");
        (await queue.GetResultAsync(id)).Should().BeNull();
        (await queue.CompleteAsync(leased.Lease, new byte[8])).Should().Be(LeaseResult.Succeeded, "a result at the limit is accepted");
    }

    [Fact]
    public async Task Result_ExpiresAtTheRetention_InTheQueuesClock()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.Retention = TimeSpan.FromMinutes(1));
        string id = await EnqueueAsync(queue, "x");
        await queue.CompleteAsync((await FetchOneAsync(queue)).Lease, Bytes("answer"));

        Time.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromMilliseconds(1));
        Text((await queue.GetResultAsync(id))!).Should().Be("answer", "1 ms before the retention ends");
        Text(await queue.WaitForResultAsync(id, TimeSpan.Zero)).Should().Be("answer");

        Time.Advance(TimeSpan.FromMilliseconds(1));
        (await queue.GetResultAsync(id)).Should().BeNull("the retention is over");
        await FluentActions.Awaiting(() => queue.WaitForResultAsync(id, LongWait).AsTask()).Should().ThrowAsync<JobResultNotFoundException>();
    }

    [Fact]
    public async Task Results_PastTheirRetention_AreDroppedAsJobsComplete_AndOthersKept()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.Retention = TimeSpan.FromSeconds(10));
        string early = await EnqueueAsync(queue, "early");
        await queue.CompleteAsync((await FetchOneAsync(queue)).Lease, Bytes("1"));
        Time.Advance(TimeSpan.FromSeconds(6));
        string late = await EnqueueAsync(queue, "late");
        await queue.CompleteAsync((await FetchOneAsync(queue)).Lease, Bytes("2"));
        Time.Advance(TimeSpan.FromSeconds(6));

        (await queue.GetResultAsync(early)).Should().BeNull();
        Text((await queue.GetResultAsync(late))!).Should().Be("2");
    }

    [Fact]
    public async Task WaitForResult_OfAJobThatCompletedBefore_ReturnsAtOnce()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "x");
        await queue.CompleteAsync((await FetchOneAsync(queue)).Lease, Bytes("answer"));

        Text(await queue.WaitForResultAsync(id, LongWait).AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("answer");
    }

    [Fact]
    public async Task WaitForResult_IsWokenByTheCompletion_Promptly_WithoutPolling()
    {
        // The poll interval is an hour, on a clock that never moves here: only the completion can wake the waiter.
        IJobQueue queue = await NewQueueAsync(o => o.Results.PollInterval = TimeSpan.FromHours(1));
        string id = await EnqueueAsync(queue, "x");
        LeasedJob leased = await FetchOneAsync(queue);
        Task<JobResult> waiting = queue.WaitForResultAsync(id, LongWait).AsTask();
        await Task.Delay(200);
        waiting.IsCompleted.Should().BeFalse("the job is still running");

        var sinceCompletion = Stopwatch.StartNew();
        await queue.CompleteAsync(leased.Lease, Bytes("answer"));
        JobResult result = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        sinceCompletion.Stop();

        Text(result).Should().Be("answer");
        sinceCompletion.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "the completion wakes the waiter (typically within milliseconds); the poll would take an hour");
    }

    [Fact]
    public async Task WaitForResult_ManyWaitersOnManyJobs_EachGetsItsOwnResult()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.PollInterval = TimeSpan.FromHours(1));
        IReadOnlyList<EnqueueResult> jobs = await queue.EnqueueManyAsync([.. Enumerable.Range(0, 20).Select(i => new JobSubmission(Bytes($"q{i}")))]);
        IReadOnlyList<LeasedJob> leased = await queue.FetchAsync(20, Lease);

        // Two waiters for each job.
        Task<JobResult>[] waiting = [.. jobs.SelectMany(j => new[] { queue.WaitForResultAsync(j.JobId, LongWait).AsTask(), queue.WaitForResultAsync(j.JobId, LongWait).AsTask() })];
        await Task.Delay(200);
        await queue.CompleteManyAsync([.. leased.Select(l => new JobCompletion(l.Lease, Bytes("a" + Text(l.Job)[1..])))]);

        JobResult[] results = await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(10));
        results.Select(r => (r.JobId, Text(r))).Should().Equal(jobs.SelectMany((j, i) => new[] { (j.JobId, $"a{i}"), (j.JobId, $"a{i}") }));
    }

    [Fact]
    public async Task WaitForResult_OfAJobThatIsRetried_KeepsWaiting_ThenGetsTheResultOfTheRetry()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.PollInterval = TimeSpan.FromHours(1));
        string id = await EnqueueAsync(queue, "x");
        Task<JobResult> waiting = queue.WaitForResultAsync(id, LongWait).AsTask();

        await queue.FailAsync((await FetchOneAsync(queue)).Lease, Error("flaky"), RecoveryDecision.Retry(TimeSpan.Zero));
        await Task.Delay(200);
        waiting.IsCompleted.Should().BeFalse("a retried job is not finished");
        LeasedJob retry = await FetchOneAsync(queue);
        await queue.CompleteAsync(retry.Lease, Bytes("second time lucky"));

        Text(await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("second time lucky");
    }

    [Fact]
    public async Task WaitForResult_OfAJobDeadLettered_ThrowsJobFailed_WithTheStoredErrorAndCategory()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.PollInterval = TimeSpan.FromHours(1));
        string id = await EnqueueAsync(queue, "x", new EnqueueOptions { MaxAttempts = 2 });
        Task<JobResult> waiting = queue.WaitForResultAsync(id, LongWait).AsTask();
        await queue.FailAsync((await FetchOneAsync(queue)).Lease, Error("upstream 503"), RecoveryDecision.Retry(TimeSpan.Zero));
        Time.Advance(TimeSpan.FromSeconds(2));

        await queue.FailAsync((await FetchOneAsync(queue)).Lease, Error("upstream 503 again"), RecoveryDecision.Retry(TimeSpan.Zero));

        JobFailedException failed = (await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<JobFailedException>()).Which;
        (failed.QueueName, failed.JobId, failed.Error, failed.Category).Should().Be((queue.Name, id, "InvalidOperationException: upstream 503 again", ErrorCategory.Transient));
        failed.Reason.Should().Be("Max attempts (2) exhausted. Last error: InvalidOperationException: upstream 503 again");
        (failed.Attempts, failed.MaxAttempts, failed.DeadLetteredAt).Should().Be((2, 2, Time.GetUtcNow()));
        failed.Message.Should().Be($"Job '{id}' of queue '{queue.Name}' failed for good: dead-lettered at {Time.GetUtcNow().UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} after attempt 2 of 2, with Transient error InvalidOperationException: upstream 503 again.");
    }

    [Fact]
    public async Task WaitForResult_OfAPoisonJob_NamesTheDeadLetterReason_WhenItIsNotTheError()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await DeadLetterAsync(queue, "bad", ErrorCategory.Validation);

        JobFailedException failed = (await FluentActions.Awaiting(() => queue.WaitForResultAsync(id, LongWait).AsTask()).Should().ThrowAsync<JobFailedException>()).Which;

        (failed.Error, failed.Category, failed.Reason).Should().Be(("InvalidOperationException: bad bad", ErrorCategory.Validation, "poison bad"));
        failed.Message.Should().EndWith("after attempt 1 of 5, with Validation error InvalidOperationException: bad bad. Dead-letter reason: poison bad");
    }

    [Fact]
    public async Task WaitForResult_OfAJobReapedOnItsLastAttempt_ThrowsJobFailed_WithLeaseExpired()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.PollInterval = TimeSpan.FromHours(1));
        string id = await EnqueueAsync(queue, "x", new EnqueueOptions { MaxAttempts = 1 });
        await FetchStartedAsync(queue, TimeSpan.FromSeconds(5));
        Task<JobResult> waiting = queue.WaitForResultAsync(id, LongWait).AsTask();
        Time.Advance(TimeSpan.FromSeconds(6));

        (await queue.ReapExpiredAsync(10)).Should().ContainSingle().Which.Action.Should().Be(ReapAction.DeadLettered);

        JobFailedException failed = (await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<JobFailedException>()).Which;
        failed.Category.Should().Be(ErrorCategory.LeaseExpired);
        failed.Error.Should().StartWith("LeaseExpired: the lease ran out at ");
    }

    [Fact]
    public async Task WaitForResult_OfARequeuedDeadLetter_WaitsForTheJobToRunAgain()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.PollInterval = TimeSpan.FromHours(1));
        string id = await DeadLetterAsync(queue, "x");
        (await queue.DeadLetters.RequeueAsync(id)).Outcome.Should().Be(DeadLetter.RequeueOutcome.Requeued);
        Task<JobResult> waiting = queue.WaitForResultAsync(id, LongWait).AsTask();
        await Task.Delay(100);
        waiting.IsCompleted.Should().BeFalse("the requeued job is ready again");

        await queue.CompleteAsync((await FetchOneAsync(queue)).Lease, Bytes("fixed"));

        Text(await waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be("fixed");
    }

    [Fact]
    public async Task WaitForResult_TimesOut_NamingTheJobAndTheTimeWaited()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "x");
        Task<JobResult> waiting = queue.WaitForResultAsync(id, TimeSpan.FromSeconds(300)).AsTask();

        JobResultTimeoutException timedOut = (await FluentActions.Awaiting(() => AdvanceUntilDoneAsync(waiting, TimeSpan.FromSeconds(10))).Should().ThrowAsync<JobResultTimeoutException>()).Which;

        timedOut.Message.Should().Be($"No result for job '{id}' of queue '{queue.Name}' within 300 s; the job was Ready at the last look. The job goes on: wait again, or look its result up later.");
        (timedOut.QueueName, timedOut.JobId, timedOut.Waited, timedOut.LastState).Should().Be((queue.Name, id, TimeSpan.FromSeconds(300), JobState.Ready));
        Time.GetUtcNow().Should().BeOnOrAfter(Time.Start + TimeSpan.FromSeconds(300), "the wait lasted its timeout in the queue's clock");
        Logs.Events(1002).Should().ContainSingle().Which.ShouldBeEvent(1002, LogLevel.Warning, new Dictionary<string, string?>
        {
            ["Queue"] = queue.Name,
            ["JobId"] = id,
            ["Seconds"] = "300",
            ["State"] = "Ready",
        });
        (await queue.GetJobAsync(id))!.State.Should().Be(JobState.Ready, "the job is not affected by the wait");
    }

    [Fact]
    public async Task WaitForResult_WithZeroTimeout_LooksOnce()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "x");
        await FetchOneAsync(queue);

        (await FluentActions.Awaiting(() => queue.WaitForResultAsync(id, TimeSpan.Zero).AsTask()).Should().ThrowAsync<JobResultTimeoutException>())
            .Which.LastState.Should().Be(JobState.Active);
    }

    [Fact]
    public async Task WaitForResult_OfAnUnknownJob_ThrowsNotFound()
    {
        IJobQueue queue = await NewQueueAsync();

        JobResultNotFoundException error = (await FluentActions.Awaiting(() => queue.WaitForResultAsync("no-such-job", LongWait).AsTask()).Should().ThrowAsync<JobResultNotFoundException>()).Which;

        (error.QueueName, error.JobId, error.State).Should().Be((queue.Name, "no-such-job", (JobState?)null));
        error.Message.Should().Be($"Queue '{queue.Name}' has no result and no job 'no-such-job': the id is unknown, or the job ended without a result that is still kept (its handler returns none, its result expired per JobQueueOptions.Results.Retention, it was skipped or purged, or the queue was cleared).");
    }

    [Fact]
    public async Task WaitForResult_OfAJobAcknowledgedWithoutAResult_ThrowsNotFound_WhenTheAckComes()
    {
        IJobQueue queue = await NewQueueAsync(o =>
        {
            o.CompletedRetention = 10;
            o.Results.PollInterval = TimeSpan.FromHours(1);
        });
        string id = await EnqueueAsync(queue, "x");
        LeasedJob leased = await FetchOneAsync(queue);
        Task<JobResult> waiting = queue.WaitForResultAsync(id, LongWait).AsTask();
        await Task.Delay(100);

        await queue.AckAsync(leased.Lease);

        JobResultNotFoundException error = (await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<JobResultNotFoundException>()).Which;
        error.State.Should().Be(JobState.Completed);
        error.Message.Should().Be($"Job '{id}' of queue '{queue.Name}' completed, but no result of it is kept: its handler returns none, or its result expired (JobQueueOptions.Results.Retention).");
    }

    [Fact]
    public async Task WaitForResult_OfASkippedJob_ThrowsNotFound_WhenTheSkipComes()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.PollInterval = TimeSpan.FromHours(1));
        string id = await EnqueueAsync(queue, "x");
        LeasedJob leased = await FetchOneAsync(queue);
        Task<JobResult> waiting = queue.WaitForResultAsync(id, LongWait).AsTask();
        await Task.Delay(100);

        await queue.FailAsync(leased.Lease, Error("obsolete"), RecoveryDecision.Skip("obsolete"));

        await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<JobResultNotFoundException>();
    }

    [Fact]
    public async Task WaitForResult_WhenTheQueueIsCleared_ThrowsNotFound_AndTheResultsAreGone()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.PollInterval = TimeSpan.FromHours(1));
        string done = await EnqueueAsync(queue, "done");
        await queue.CompleteAsync((await FetchOneAsync(queue)).Lease, Bytes("answer"));
        string pending = await EnqueueAsync(queue, "pending");
        Task<JobResult> waiting = queue.WaitForResultAsync(pending, LongWait).AsTask();
        await Task.Delay(100);

        await queue.ClearAsync();

        await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<JobResultNotFoundException>();
        (await queue.GetResultAsync(done)).Should().BeNull("a clear removes the results too");
    }

    [Fact]
    public async Task WaitForResult_Cancelled_ThrowsOperationCanceled_AndLeavesTheJobAlone()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "x");
        using var cancel = new CancellationTokenSource();
        Task<JobResult> waiting = queue.WaitForResultAsync(id, LongWait, cancel.Token).AsTask();
        await Task.Delay(100);

        await cancel.CancelAsync();

        await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<OperationCanceledException>();
        (await queue.GetJobAsync(id))!.State.Should().Be(JobState.Ready);
    }

    [Fact]
    public async Task EnqueueAndWait_ReturnsTheResult_OfTheJobItEnqueued()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Results.PollInterval = TimeSpan.FromHours(1));
        Task<int> asking = queue.EnqueueAndWaitAsync<string, int>("two and two", LongWait).AsTask();

        LeasedJob leased = (await EventuallyFetchAsync(queue))!;
        Text(leased.Job).Should().Be("\"two and two\"", "the payload is written with the queue's serializer (JSON by default)");
        await queue.CompleteAsync(leased.Lease, Bytes("4"));

        (await asking.WaitAsync(TimeSpan.FromSeconds(10))).Should().Be(4, "the result is read with the same serializer");
    }

    [Fact]
    public async Task WaitForResult_RejectsBadArguments_AndEnqueueAndWaitAddsNoJobWithThem()
    {
        IJobQueue queue = await NewQueueAsync();
        await FluentActions.Awaiting(() => queue.WaitForResultAsync("x", TimeSpan.FromSeconds(-1)).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>().WithParameterName("timeout");
        await FluentActions.Awaiting(() => queue.WaitForResultAsync("x", TimeSpan.FromDays(2)).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>().WithParameterName("timeout");
        await FluentActions.Awaiting(() => queue.WaitForResultAsync("", LongWait).AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("jobId");
        await FluentActions.Awaiting(() => queue.GetResultAsync("").AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("jobId");
        await FluentActions.Awaiting(() => queue.EnqueueAndWaitAsync<string, string>("x", TimeSpan.FromDays(2)).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>().WithParameterName("timeout");
        await FluentActions.Awaiting(() => queue.CompleteManyAsync([]).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await FluentActions.Awaiting(() => queue.CompleteAsync(default, Bytes("x")).AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("lease");
        ShouldCount(await StatusAsync(queue));
    }

    [Theory]
    [InlineData("Retention", "JobQueueOptions.Results.Retention: must be from 1 second to 30 days, was 00:00:00.5000000.")]
    [InlineData("MaxBytes", "JobQueueOptions.Results.MaxBytes: must be from 1 to 268435456 bytes, was 0.")]
    [InlineData("PollInterval", "JobQueueOptions.Results.PollInterval: must be from 10 ms to 1 hour, was 00:00:00.0010000.")]
    public async Task Options_ResultsOutOfRange_AreRejected_NamingTheOption(string option, string message)
    {
        Func<Task> create = () => NewQueueAsync(o =>
        {
            switch (option)
            {
                case "Retention": o.Results.Retention = TimeSpan.FromMilliseconds(500); break;
                case "MaxBytes": o.Results.MaxBytes = 0; break;
                default: o.Results.PollInterval = TimeSpan.FromMilliseconds(1); break;
            }
        });

        (await create.Should().ThrowAsync<InvalidOptionsException>()).Which.Message.Should().Be(message);
    }

    /// <summary>Fetches one job once one is enqueued (by a task running beside the test), within a few seconds.</summary>
    private static async Task<LeasedJob?> EventuallyFetchAsync(IJobQueue queue)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            IReadOnlyList<LeasedJob> jobs = await queue.FetchAsync(1, Lease);
            if (jobs.Count == 1)
            {
                return jobs[0];
            }

            await Task.Delay(10);
        }

        return null;
    }
}
