using Microsoft.Extensions.Time.Testing;
using ResilientQueue.Errors;
using ResilientQueue.InMemory;
using ResilientQueue.Recovery;

namespace ResilientQueue.Tests.Recovery;

public sealed class SeedBackoffScheduleTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan OneMillisecond = TimeSpan.FromMilliseconds(1);

    [Fact(DisplayName = "the seed's backoff schedule 1-2-4-8-16 s reproduced with manual time")]
    public async Task FailAsync_TransientFailuresWithOneToSixteenSeconds_ReproduceTheSeedScheduleThenDeadLetter()
    {
        var clock = new FakeTimeProvider();
        var queue = new InMemoryJobQueue("seed-backoff", timeProvider: clock);
        var classifier = new DefaultErrorClassifier();
        var strategy = new DefaultRecoveryStrategy(BackoffPolicy.OneToSixteenSeconds);
        string id = (await queue.EnqueueAsync(new byte[] { 42 }, new EnqueueOptions { MaxAttempts = 6 })).JobId;
        TimeSpan[] expected = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(16)];

        LeasedJob leased = await FetchOneAsync(queue);
        for (int attempt = 1; attempt <= 6; attempt++)
        {
            leased.Job.Id.Should().Be(id);
            leased.Job.Attempts.Should().Be(attempt, "attempts are counted at fetch");

            var error = new TimeoutException($"upstream timed out (attempt {attempt})");
            ErrorClassification classification = classifier.Classify(error);
            classification.Category.Should().Be(ErrorCategory.Transient);
            RecoveryDecision decision = strategy.Decide(new RecoveryArguments(error, classification, leased.Job.Attempts, leased.Job.MaxAttempts));
            (await queue.FailAsync(leased.Lease, JobError.FromException(error, classification.Category), decision)).IsApplied.Should().BeTrue();

            Job job = (await queue.GetJobAsync(id))!;
            if (attempt == 6)
            {
                decision.Action.Should().Be(RecoveryAction.Retry, "the strategy retries; the queue dead-letters because no attempt is left");
                job.State.Should().Be(JobState.Dead);
                break;
            }

            job.State.Should().Be(JobState.Delayed);
            (job.AvailableAt - clock.GetUtcNow()).Should().Be(expected[attempt - 1], $"retry {attempt} of the seed's schedule");

            clock.Advance(expected[attempt - 1] - OneMillisecond);
            (await queue.FetchAsync(10, Lease)).Should().BeEmpty($"retry {attempt} is not due 1 ms before {expected[attempt - 1]}");

            clock.Advance(OneMillisecond);
            leased = await FetchOneAsync(queue);
        }

        DeadLetter.DeadLetterEntry? entry = await queue.DeadLetters.GetAsync(id);
        entry.Should().NotBeNull();
        entry!.Job.Attempts.Should().Be(6);
        entry.Category.Should().Be(ErrorCategory.Transient);
        entry.Reason.Should().Contain("Max attempts (6) exhausted").And.Contain("TimeoutException: upstream timed out (attempt 6)");
        clock.Advance(TimeSpan.FromHours(1));
        (await queue.FetchAsync(10, Lease)).Should().BeEmpty("a dead-lettered job is never fetched again");
    }

    private static async Task<LeasedJob> FetchOneAsync(InMemoryJobQueue queue)
    {
        IReadOnlyList<LeasedJob> fetched = await queue.FetchAsync(10, Lease);
        fetched.Should().ContainSingle("the job is due exactly at its AvailableAt");
        return fetched[0];
    }
}
