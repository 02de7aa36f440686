using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task Idempotency_ADuplicateAtCapacity_IsADuplicate_NotQueueFull()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 1);
        EnqueueResult first = await queue.EnqueueAsync(Bytes("a"), new EnqueueOptions { IdempotencyKey = "k" });

        (await queue.EnqueueAsync(Bytes("a"), new EnqueueOptions { IdempotencyKey = "k" })).Should().Be(new EnqueueResult(first.JobId, EnqueueOutcome.Duplicate));
    }

    [Fact]
    public async Task AfterAnAck_RenewReleaseAndCheckpoint_AreLeaseLost()
    {
        IJobQueue queue = await NewQueueAsync(o => o.CompletedRetention = 5);
        await EnqueueAsync(queue, "done");
        LeasedJob leased = await FetchOneAsync(queue);
        await queue.AckAsync(leased.Lease);

        (await queue.RenewAsync(leased.Lease, Lease)).Should().Be(LeaseResult.LeaseLost);
        (await queue.ReleaseAsync(leased.Lease)).Should().Be(LeaseResult.LeaseLost);
        (await queue.SaveCheckpointAsync(leased.Lease, Bytes("x"))).Should().Be(LeaseResult.LeaseLost);
        (await queue.GetJobAsync(leased.Job.Id))!.State.Should().Be(JobState.Completed);
        ShouldCount(await StatusAsync(queue), completed: 1);
    }

    [Fact]
    public async Task Fetch_ABatchOfLargePayloads_ReadsEveryJobWhole_WithItsOwnErrorAndAttempts()
    {
        // 6 jobs of 2 MB: more than one 8 MiB value of a Redis fetch reply (pack_lease), with a retried job (it has an
        // error and 2 attempts) among them; every payload holds bytes a text framing would trip on.
        const int size = 2_000_000;
        IJobQueue queue = await NewQueueAsync(o => o.MaxPayloadBytes = size);
        byte[] Payload(int i) => [.. Enumerable.Range(0, size).Select(b => (byte)(b % 7 == 0 ? ':' : (b * 31) + i))];
        var ids = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            ids.Add((await queue.EnqueueAsync(Payload(i))).JobId);
        }

        LeasedJob first = await FetchOneAsync(queue);
        await queue.FailAsync(first.Lease, Error("429", ErrorCategory.RateLimited), RecoveryDecision.Retry(TimeSpan.Zero));

        IReadOnlyList<LeasedJob> all = await queue.FetchAsync(10, Lease);

        all.Select(j => j.Job.Id).Should().BeEquivalentTo(ids);
        foreach (LeasedJob leased in all)
        {
            leased.Job.Payload.ToArray().Should().Equal(Payload(ids.IndexOf(leased.Job.Id)), "job {0}'s payload", leased.Job.Id);
            leased.Job.Attempts.Should().Be(leased.Job.Id == first.Job.Id ? 2 : 1);
            leased.Job.LastError.Should().Be(leased.Job.Id == first.Job.Id ? "InvalidOperationException: 429" : null);
        }

        (await queue.AckManyAsync([.. all.Select(j => j.Lease)])).Should().HaveCount(6).And.OnlyContain(r => r == LeaseResult.Succeeded);
    }

    [Fact]
    public async Task Checkpoint_OverThePayloadLimit_ThrowsPayloadTooLarge()
    {
        IJobQueue queue = await NewQueueAsync(o => o.MaxPayloadBytes = 8);
        await EnqueueAsync(queue, "x");
        LeasedJob leased = await FetchOneAsync(queue);

        await FluentActions.Awaiting(() => queue.SaveCheckpointAsync(leased.Lease, new byte[9]).AsTask()).Should().ThrowAsync<PayloadTooLargeException>();

        (await queue.GetJobAsync(leased.Job.Id))!.Checkpoint.Should().BeNull();
    }

    [Fact]
    public async Task Fail_Abort_PutsTheJobAtTheHead()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "first");
        await EnqueueAsync(queue, "second");
        LeasedJob leased = await FetchOneAsync(queue);

        await queue.FailAsync(leased.Lease, Error("401", ErrorCategory.Auth), RecoveryDecision.Abort("credentials rejected"));

        (await DrainTextsAsync(queue)).Should().Equal("first", "second");
    }

    [Fact]
    public async Task Fail_WithTheDefaultDecision_SpendsTheAttempt_SoItCannotLoopForever()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "x", new EnqueueOptions { MaxAttempts = 1 });
        LeasedJob leased = await FetchOneAsync(queue);

        (await queue.FailAsync(leased.Lease, Error(), default)).IsApplied.Should().BeTrue();

        (await queue.GetJobAsync(id))!.State.Should().Be(JobState.Dead);
    }

    [Fact]
    public async Task Fail_WithAnEmptyError_Throws_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "x");
        LeasedJob leased = await FetchOneAsync(queue);

        await FluentActions.Awaiting(() => queue.FailAsync(leased.Lease, default, RecoveryDecision.Retry(TimeSpan.Zero)).AsTask()).Should().ThrowAsync<ArgumentException>().WithParameterName("error");

        ShouldCount(await StatusAsync(queue), active: 1);
    }

    [Fact]
    public async Task Times_AreWholeMilliseconds_WithDelaysAndLeasesRoundedUp()
    {
        IJobQueue queue = await NewQueueAsync();
        Time.Advance(TimeSpan.FromTicks(3_000)); // 0.3 ms past a whole millisecond
        DateTimeOffset now = Time.Start; // the enqueue's time, cut to its whole millisecond
        string id = await EnqueueAsync(queue, "x", new EnqueueOptions { Delay = TimeSpan.FromTicks(15_000) }); // 1.5 ms

        Job job = (await queue.GetJobAsync(id))!;
        job.EnqueuedAt.Should().Be(now);
        job.AvailableAt.Should().Be(now + TimeSpan.FromMilliseconds(2));
        Time.Advance(TimeSpan.FromTicks(16_000)); // 1.9 ms after the enqueue
        (await queue.FetchAsync(1, Lease)).Should().BeEmpty("the delay was rounded up to 2 ms");
        Time.Advance(TimeSpan.FromTicks(1_000));

        LeasedJob leased = await FetchOneAsync(queue, TimeSpan.FromTicks(10_001));
        leased.Lease.ExpiresAt.Should().Be(now + TimeSpan.FromMilliseconds(2 + 2));
        (await queue.GetJobAsync(id))!.LeaseExpiresAt.Should().Be(leased.Lease.ExpiresAt);
    }

    [Fact]
    public async Task Batches_MustHoldAtLeastOneItem_AndAtMostTheLimit()
    {
        IJobQueue queue = await NewQueueAsync();
        await FluentActions.Awaiting(() => queue.EnqueueManyAsync([]).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await FluentActions.Awaiting(() => queue.EnqueueManyAsync(new JobSubmission[JobQueueOptions.MaxEnqueueBatchSize + 1]).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await FluentActions.Awaiting(() => queue.AckManyAsync([]).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        await FluentActions.Awaiting(() => queue.FailManyAsync([]).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
        ShouldCount(await StatusAsync(queue));
    }

    [Fact]
    public async Task Fail_RetryOnTheLastAttempt_StoresTheExactReason()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "x", new EnqueueOptions { MaxAttempts = 1 });
        LeasedJob leased = await FetchOneAsync(queue);

        await queue.FailAsync(leased.Lease, new JobError("TimeoutException", "The operation has timed out.", ErrorCategory.Transient), RecoveryDecision.Retry(TimeSpan.FromSeconds(1)));

        (await queue.DeadLetters.GetAsync(id))!.Reason.Should().Be("Max attempts (1) exhausted. Last error: TimeoutException: The operation has timed out.");
    }
}
