using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue.Conformance;

/// <summary>What a failure did, as the queue reports it (the worker reads it instead of working it out again), and clearing a queue.</summary>
public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task Fail_ReportsTheAppliedTransition_ForEveryKindOfDecision()
    {
        IJobQueue queue = await NewQueueAsync(o => o.DefaultMaxAttempts = 2);
        for (int i = 0; i < 6; i++)
        {
            await EnqueueAsync(queue, "job " + i);
        }

        IReadOnlyList<LeasedJob> leased = await queue.FetchAsync(6, Lease);
        DateTimeOffset now = Time.GetUtcNow();

        IReadOnlyList<FailResult> results = await queue.FailManyAsync(
        [
            new JobFailure(leased[0].Lease, Error(), RecoveryDecision.Retry(TimeSpan.FromSeconds(3))),
            new JobFailure(leased[1].Lease, Error(), RecoveryDecision.RetryWithoutAttempt(TimeSpan.Zero)),
            new JobFailure(leased[2].Lease, Error(category: ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison")),
            new JobFailure(leased[3].Lease, Error(), RecoveryDecision.Skip("obsolete")),
            new JobFailure(leased[4].Lease, Error(category: ErrorCategory.RateLimited), RecoveryDecision.Pause(TimeSpan.FromSeconds(10))),
            new JobFailure(leased[5].Lease, Error(category: ErrorCategory.Auth), RecoveryDecision.Abort("bad credentials")),
        ]);

        results.Should().Equal(
            new FailResult(FailOutcome.Retrying, now + TimeSpan.FromSeconds(3), AttemptSpent: true),
            new FailResult(FailOutcome.Retrying, now, AttemptSpent: false),
            new FailResult(FailOutcome.DeadLettered, AttemptSpent: true, DeadLetterReason: "poison"),
            new FailResult(FailOutcome.Removed, AttemptSpent: true),
            new FailResult(FailOutcome.Retrying, now + TimeSpan.FromSeconds(10), AttemptSpent: false),
            new FailResult(FailOutcome.Retrying, now, AttemptSpent: false));
    }

    [Fact]
    public async Task Fail_RetryOnTheLastAttempt_ReportsDeadLettered_WithTheExhaustedReason()
    {
        IJobQueue queue = await NewQueueAsync(o => o.DefaultMaxAttempts = 1);
        string id = await EnqueueAsync(queue, "last try");
        LeasedJob leased = await FetchOneAsync(queue);
        leased.Lease.Should().Match<JobLease>(l => l.Attempt == 1 && l.MaxAttempts == 1 && l.IsLastAttempt, "the lease carries the attempt it is for");

        FailResult result = await queue.FailAsync(leased.Lease, new JobError("TimeoutException", "slow", ErrorCategory.Transient), RecoveryDecision.Retry(TimeSpan.FromSeconds(1)));

        result.Should().Be(new FailResult(FailOutcome.DeadLettered, AttemptSpent: true, DeadLetterReason: "Max attempts (1) exhausted. Last error: TimeoutException: slow"));
        (await queue.DeadLetters.GetAsync(id))!.Reason.Should().Be(result.DeadLetterReason, "the result is what was stored");
    }

    [Fact]
    public async Task Fail_WithALeaseWhoseAttemptIsNotTheJobs_IsLeaseLost_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync(o => o.DefaultMaxAttempts = 3);
        string id = await EnqueueAsync(queue, "x");
        LeasedJob leased = await FetchOneAsync(queue);

        // A lease made up from a real token but claiming another attempt (the decision depends on it) is refused.
        FailResult result = await queue.FailAsync(leased.Lease with { Attempt = 3 }, Error(), RecoveryDecision.Retry(TimeSpan.Zero));

        result.Should().Be(FailResult.LeaseLost);
        Job job = (await queue.GetJobAsync(id))!;
        (job.State, job.Attempts, job.LastError).Should().Be((JobState.Active, 1, (string?)null));
    }

    [Fact]
    public async Task Clear_RemovesEveryJobInEveryState_AndResetsTheQueue()
    {
        IJobQueue queue = await NewQueueAsync(o => o.CompletedRetention = 10);
        await DeadLetterAsync(queue, "dead");
        await EnqueueAsync(queue, "done");
        (await queue.AckAsync((await FetchOneAsync(queue)).Lease)).Should().Be(LeaseResult.Succeeded);
        await EnqueueAsync(queue, "held");
        LeasedJob held = await FetchOneAsync(queue);
        await EnqueueAsync(queue, "ready", new EnqueueOptions { IdempotencyKey = "k1" });
        await EnqueueAsync(queue, "delayed", new EnqueueOptions { Delay = TimeSpan.FromMinutes(5) });
        ShouldCount(await StatusAsync(queue), ready: 1, delayed: 1, active: 1, dead: 1, completed: 1);
        await queue.PauseAsync();
        (await queue.TryClaimTurnAsync("reaper", "me", TimeSpan.FromMinutes(1))).Should().BeTrue();

        long removed = await queue.ClearAsync();

        removed.Should().Be(5, "ready, delayed, dead, completed and active: one job each");
        (await queue.GetStatusAsync()).Should().Be(new QueueStatus(0, 0, 0, 0, 0, IsPaused: false, DeadLetterTrimmed: 0));
        (await queue.AckAsync(held.Lease)).Should().Be(LeaseResult.LeaseLost, "the held job is gone");
        (await queue.EnqueueAsync(Bytes("ready again"), new EnqueueOptions { IdempotencyKey = "k1" })).Duplicate.Should().BeFalse("idempotency keys are cleared");
        (await queue.TryClaimTurnAsync("reaper", "someone else", TimeSpan.FromMinutes(1))).Should().BeTrue("turns are cleared");
        (await queue.ClearAsync()).Should().Be(1);
    }
}
