using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task Fail_Retry_SchedulesTheJobAfterTheDelay_AndStoresTheError()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "flaky");
        LeasedJob leased = await FetchOneAsync(queue);

        (await queue.FailAsync(leased.Lease, new JobError("HttpRequestException", "connection refused", ErrorCategory.Transient), RecoveryDecision.Retry(TimeSpan.FromSeconds(4))))
            .Should().Be(new FailResult(FailOutcome.Retrying, Time.GetUtcNow() + TimeSpan.FromSeconds(4), AttemptSpent: true), "the result says what was applied: retrying in 4 s, the attempt spent");

        Job job = (await queue.GetJobAsync(id))!;
        job.State.Should().Be(JobState.Delayed);
        job.LastError.Should().Be("HttpRequestException: connection refused");
        job.LastErrorCategory.Should().Be(ErrorCategory.Transient);
        job.AvailableAt.Should().Be(Time.GetUtcNow() + TimeSpan.FromSeconds(4));
        Time.Advance(TimeSpan.FromMilliseconds(3_999));
        (await queue.FetchAsync(1, Lease)).Should().BeEmpty();
        Time.Advance(TimeSpan.FromMilliseconds(1));
        (await FetchOneAsync(queue)).Job.Attempts.Should().Be(2);
    }

    [Fact]
    public async Task Fail_RetryWithZeroDelay_IsReadyAtOnce()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "again");
        LeasedJob leased = await FetchOneAsync(queue);

        await queue.FailAsync(leased.Lease, Error(), RecoveryDecision.Retry(TimeSpan.Zero));

        ShouldCount(await StatusAsync(queue), ready: 1);
        (await FetchOneAsync(queue)).Job.Id.Should().Be(leased.Job.Id);
    }

    [Fact]
    public async Task Fail_RetryWithoutAttempt_GivesTheAttemptBack()
    {
        IJobQueue queue = await NewQueueAsync(o => o.DefaultMaxAttempts = 1);
        await EnqueueAsync(queue, "rate limited");
        LeasedJob leased = await FetchOneAsync(queue);

        await queue.FailAsync(leased.Lease, Error("429", ErrorCategory.RateLimited), RecoveryDecision.RetryWithoutAttempt(TimeSpan.FromSeconds(30)));

        Job job = (await queue.GetJobAsync(leased.Job.Id))!;
        job.State.Should().Be(JobState.Delayed, "a retry without an attempt never dead-letters, even at max attempts 1");
        job.Attempts.Should().Be(0);
    }

    [Fact]
    public async Task Fail_RetryOnTheLastAttempt_DeadLettersWithTheCategory()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "always fails", new EnqueueOptions { MaxAttempts = 3 });

        for (int attempt = 1; attempt <= 3; attempt++)
        {
            LeasedJob leased = await FetchOneAsync(queue);
            leased.Job.Attempts.Should().Be(attempt);
            await queue.FailAsync(leased.Lease, Error($"failure {attempt}", ErrorCategory.Database), RecoveryDecision.Retry(TimeSpan.Zero));
        }

        (await queue.FetchAsync(1, Lease)).Should().BeEmpty();
        ShouldCount(await StatusAsync(queue), dead: 1);
        DeadLetter.DeadLetterEntry entry = (await queue.DeadLetters.GetAsync(id))!;
        entry.Category.Should().Be(ErrorCategory.Database);
        entry.Reason.Should().Contain("3").And.Contain("InvalidOperationException: failure 3");
        entry.DeadLetteredAt.Should().Be(Time.GetUtcNow());
        entry.Job.Attempts.Should().Be(3);
        entry.Job.Failures.Select(f => f.Attempt).Should().Equal(1, 2, 3);
        entry.Job.Failures.Select(f => f.Error).Should().Equal(
            "InvalidOperationException: failure 1", "InvalidOperationException: failure 2", "InvalidOperationException: failure 3");
    }

    [Fact]
    public async Task Fail_DeadLetterDecision_DeadLettersAtOnce()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "{not json");
        LeasedJob leased = await FetchOneAsync(queue);

        await queue.FailAsync(leased.Lease, new JobError("JsonException", "'n' is an invalid start of a value.", ErrorCategory.Validation), RecoveryDecision.DeadLetter("malformed payload"));

        DeadLetter.DeadLetterEntry entry = (await queue.DeadLetters.GetAsync(id))!;
        entry.Reason.Should().Be("malformed payload");
        entry.Category.Should().Be(ErrorCategory.Validation);
        entry.Job.Attempts.Should().Be(1);
        entry.Job.LastError.Should().Be("JsonException: 'n' is an invalid start of a value.");
        entry.Job.State.Should().Be(JobState.Dead);
        Text(entry.Job).Should().Be("{not json");
    }

    [Fact]
    public async Task Fail_Skip_DropsTheJob()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "skip me");
        LeasedJob leased = await FetchOneAsync(queue);

        (await queue.FailAsync(leased.Lease, Error(), RecoveryDecision.Skip("duplicate record"))).Outcome.Should().Be(FailOutcome.Removed);

        (await queue.GetJobAsync(id)).Should().BeNull();
        ShouldCount(await StatusAsync(queue));
    }

    [Fact]
    public async Task Fail_Pause_RunsTheJobAgainAfterThePause_WithoutSpendingAnAttempt()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "429");
        LeasedJob leased = await FetchOneAsync(queue);

        await queue.FailAsync(leased.Lease, Error("Too Many Requests", ErrorCategory.RateLimited), RecoveryDecision.Pause(TimeSpan.FromSeconds(60)));

        Time.Advance(TimeSpan.FromSeconds(59));
        (await queue.FetchAsync(1, Lease)).Should().BeEmpty();
        Time.Advance(TimeSpan.FromSeconds(1));
        (await FetchOneAsync(queue)).Job.Attempts.Should().Be(1);
    }

    [Fact]
    public async Task Fail_Abort_MakesTheJobReadyAgain_WithoutSpendingAnAttempt()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "auth");
        LeasedJob leased = await FetchOneAsync(queue);

        await queue.FailAsync(leased.Lease, Error("401", ErrorCategory.Auth), RecoveryDecision.Abort("credentials rejected"));

        Job job = (await queue.GetJobAsync(leased.Job.Id))!;
        job.State.Should().Be(JobState.Ready);
        job.Attempts.Should().Be(0);
        job.LastErrorCategory.Should().Be(ErrorCategory.Auth);
    }

    [Fact]
    public async Task Fail_KeepsTheFirstAndTheMostRecentFailures()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "noisy", new EnqueueOptions { MaxAttempts = 20 });
        for (int attempt = 1; attempt <= 12; attempt++)
        {
            LeasedJob leased = await FetchOneAsync(queue);
            await queue.FailAsync(leased.Lease, Error($"f{attempt}"), RecoveryDecision.Retry(TimeSpan.Zero));
        }

        Job job = (await queue.GetJobAsync(id))!;
        job.Failures.Should().HaveCount(Job.MaxFailureHistory);
        job.Failures.Select(f => f.Attempt).Should().Equal(1, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        job.LastError.Should().Be("InvalidOperationException: f12");
    }

    [Fact]
    public async Task FailMany_AppliesEachDecision_AndChecksEachLease()
    {
        IJobQueue queue = await NewQueueAsync();
        (LeasedJob stale, LeasedJob current) = await StaleAndCurrentLeaseAsync(queue);
        await EnqueueAsync(queue, "poison");
        LeasedJob poison = await FetchOneAsync(queue);

        IReadOnlyList<FailResult> results = await queue.FailManyAsync(
        [
            new JobFailure(stale.Lease, Error(), RecoveryDecision.DeadLetter("stale")),
            new JobFailure(current.Lease, Error(), RecoveryDecision.Retry(TimeSpan.FromSeconds(1))),
            new JobFailure(poison.Lease, Error(category: ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison")),
        ]);

        results.Select(r => r.Outcome).Should().Equal(FailOutcome.LeaseLost, FailOutcome.Retrying, FailOutcome.DeadLettered);
        (await queue.GetJobAsync(current.Job.Id))!.State.Should().Be(JobState.Delayed);
        (await queue.GetJobAsync(poison.Job.Id))!.State.Should().Be(JobState.Dead);
    }

    [Fact]
    public async Task Capacity_RetriesOfAcceptedJobsAreNeverRejected()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 2);
        await EnqueueAsync(queue, "a");
        await EnqueueAsync(queue, "b");
        IReadOnlyList<LeasedJob> leased = await queue.FetchAsync(2, Lease);

        (await queue.FailAsync(leased[0].Lease, Error(), RecoveryDecision.Retry(TimeSpan.FromSeconds(1)))).IsApplied.Should().BeTrue();
        (await queue.ReleaseAsync(leased[1].Lease)).Should().Be(LeaseResult.Succeeded);

        ShouldCount(await StatusAsync(queue), ready: 1, delayed: 1);
        await FluentActions.Awaiting(() => queue.EnqueueAsync(Bytes("c")).AsTask()).Should().ThrowAsync<QueueFullException>();
    }
}
