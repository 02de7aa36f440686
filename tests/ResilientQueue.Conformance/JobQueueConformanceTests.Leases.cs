using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    /// <summary>Fetches a job, releases it and fetches it again: the first lease is stale, the second current.</summary>
    private static async Task<(LeasedJob Stale, LeasedJob Current)> StaleAndCurrentLeaseAsync(IJobQueue queue)
    {
        await EnqueueAsync(queue, "fenced");
        LeasedJob stale = await FetchOneAsync(queue);
        (await queue.ReleaseAsync(stale.Lease)).Should().Be(LeaseResult.Succeeded);
        LeasedJob current = await FetchOneAsync(queue);
        return (stale, current);
    }

    private static async Task ShouldBeUnchangedAsync(IJobQueue queue, LeasedJob current)
    {
        Job job = (await queue.GetJobAsync(current.Job.Id))!;
        job.State.Should().Be(JobState.Active);
        job.Attempts.Should().Be(current.Job.Attempts);
        job.LeaseExpiresAt.Should().Be(current.Lease.ExpiresAt);
        job.LastError.Should().BeNull();
        job.Checkpoint.Should().BeNull();
        ShouldCount(await StatusAsync(queue), active: 1);
        (await queue.AckAsync(current.Lease)).Should().Be(LeaseResult.Succeeded, "the current lease still holds");
    }

    [Fact]
    public async Task Ack_WithAStaleToken_IsLeaseLost_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        (LeasedJob stale, LeasedJob current) = await StaleAndCurrentLeaseAsync(queue);

        (await queue.AckAsync(stale.Lease)).Should().Be(LeaseResult.LeaseLost);

        await ShouldBeUnchangedAsync(queue, current);
    }

    [Fact]
    public async Task Fail_WithAStaleToken_IsLeaseLost_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        (LeasedJob stale, LeasedJob current) = await StaleAndCurrentLeaseAsync(queue);

        (await queue.FailAsync(stale.Lease, Error(), RecoveryDecision.DeadLetter("late worker"))).Should().Be(FailResult.LeaseLost);

        await ShouldBeUnchangedAsync(queue, current);
    }

    [Fact]
    public async Task Renew_WithAStaleToken_IsLeaseLost_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        (LeasedJob stale, LeasedJob current) = await StaleAndCurrentLeaseAsync(queue);
        Time.Advance(TimeSpan.FromSeconds(1));

        (await queue.RenewAsync(stale.Lease, TimeSpan.FromMinutes(10))).Should().Be(LeaseResult.LeaseLost);

        await ShouldBeUnchangedAsync(queue, current);
    }

    [Fact]
    public async Task Release_WithAStaleToken_IsLeaseLost_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        (LeasedJob stale, LeasedJob current) = await StaleAndCurrentLeaseAsync(queue);

        (await queue.ReleaseAsync(stale.Lease)).Should().Be(LeaseResult.LeaseLost);

        await ShouldBeUnchangedAsync(queue, current);
    }

    [Fact]
    public async Task Checkpoint_WithAStaleToken_IsLeaseLost_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        (LeasedJob stale, LeasedJob current) = await StaleAndCurrentLeaseAsync(queue);

        (await queue.SaveCheckpointAsync(stale.Lease, Bytes("late"))).Should().Be(LeaseResult.LeaseLost);

        await ShouldBeUnchangedAsync(queue, current);
    }

    [Fact]
    public async Task Ack_Twice_SecondIsLeaseLost()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "once");
        LeasedJob leased = await FetchOneAsync(queue);

        (await queue.AckAsync(leased.Lease)).Should().Be(LeaseResult.Succeeded);
        (await queue.AckAsync(leased.Lease)).Should().Be(LeaseResult.LeaseLost);
        (await queue.FailAsync(leased.Lease, Error(), RecoveryDecision.Retry(TimeSpan.Zero))).Should().Be(FailResult.LeaseLost);
        ShouldCount(await StatusAsync(queue));
    }

    [Fact]
    public async Task Ack_OfAJobThatDoesNotExist_IsLeaseLost()
    {
        IJobQueue queue = await NewQueueAsync();
        (await queue.AckAsync(new JobLease("0000000000000000000000000000beef", "1", Time.GetUtcNow(), 1, 5))).Should().Be(LeaseResult.LeaseLost);
    }

    [Fact]
    public async Task Ack_RemovesTheJobByDefault()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "gone");
        LeasedJob leased = await FetchOneAsync(queue);

        (await queue.AckAsync(leased.Lease)).Should().Be(LeaseResult.Succeeded);

        (await queue.GetJobAsync(id)).Should().BeNull();
        ShouldCount(await StatusAsync(queue));
    }

    [Fact]
    public async Task Ack_WithCompletedRetention_KeepsOnlyTheNewestCompleted()
    {
        IJobQueue queue = await NewQueueAsync(o => o.CompletedRetention = 2);
        var ids = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            ids.Add(await EnqueueAsync(queue, $"c{i}"));
            (await queue.AckAsync((await FetchOneAsync(queue)).Lease)).Should().Be(LeaseResult.Succeeded);
        }

        (await queue.GetJobAsync(ids[0])).Should().BeNull();
        (await queue.GetJobAsync(ids[1]))!.State.Should().Be(JobState.Completed);
        (await queue.GetJobAsync(ids[2]))!.State.Should().Be(JobState.Completed);
        ShouldCount(await StatusAsync(queue), completed: 2);
    }

    [Fact]
    public async Task AckMany_ChecksEachLeaseOnItsOwn()
    {
        IJobQueue queue = await NewQueueAsync();
        (LeasedJob stale, LeasedJob current) = await StaleAndCurrentLeaseAsync(queue);
        await EnqueueAsync(queue, "other");
        LeasedJob other = await FetchOneAsync(queue);

        IReadOnlyList<LeaseResult> results = await queue.AckManyAsync([stale.Lease, other.Lease, current.Lease]);

        results.Should().Equal(LeaseResult.LeaseLost, LeaseResult.Succeeded, LeaseResult.Succeeded);
        ShouldCount(await StatusAsync(queue));
    }

    [Fact]
    public async Task Renew_ExtendsTheLeaseFromNow()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "slow");
        LeasedJob leased = await FetchOneAsync(queue);
        Time.Advance(TimeSpan.FromSeconds(20));

        (await queue.RenewAsync(leased.Lease, TimeSpan.FromMinutes(2))).Should().Be(LeaseResult.Succeeded);

        (await queue.GetJobAsync(leased.Job.Id))!.LeaseExpiresAt.Should().Be(Time.GetUtcNow() + TimeSpan.FromMinutes(2));
        (await queue.AckAsync(leased.Lease)).Should().Be(LeaseResult.Succeeded, "renewing keeps the same token");
    }

    [Fact]
    public async Task Release_GivesTheAttemptBack_AndTheJobIsFetchedNext()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "first");
        await EnqueueAsync(queue, "second");
        LeasedJob leased = await FetchOneAsync(queue);

        (await queue.ReleaseAsync(leased.Lease)).Should().Be(LeaseResult.Succeeded);

        Job released = (await queue.GetJobAsync(leased.Job.Id))!;
        released.State.Should().Be(JobState.Ready);
        released.Attempts.Should().Be(0);
        LeasedJob again = await FetchOneAsync(queue);
        Text(again.Job).Should().Be("first");
        again.Job.Attempts.Should().Be(1);
    }

    [Fact]
    public async Task Attempts_AreCountedAtFetch()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "counted");
        (await queue.GetJobAsync(id))!.Attempts.Should().Be(0);

        LeasedJob first = await FetchOneAsync(queue);
        first.Job.Attempts.Should().Be(1);
        (await queue.GetJobAsync(id))!.Attempts.Should().Be(1, "the attempt is spent when the job is fetched, before any outcome");
        await queue.FailAsync(first.Lease, Error(), RecoveryDecision.Retry(TimeSpan.Zero));

        (await FetchOneAsync(queue)).Job.Attempts.Should().Be(2);
    }
}
