using System.Collections.Concurrent;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary>
/// Consumer groups are first-class: every group gets every job once, each with its own leases, attempts, retries, dead
/// letters, counts and pause; a group created later replays the retained history; a group the server lost (NOGROUP)
/// is created again and logged, and the consumers go on.
/// </summary>
public sealed class RedisStreamGroupTests(RedisServerFixture redis) : StreamTestBase(redis)
{
    [Fact]
    public async Task TwoGroups_EachReceiveEveryJobOnce_WithTwoConsumersEach()
    {
        RedisStreamJobQueue producer = Queue("billing", s => s.Groups = ["billing", "audit"]);
        List<string> ids = await EnqueueJobsAsync(producer, 600);
        var seen = new ConcurrentDictionary<string, ConcurrentBag<string>>();

        async Task ConsumeAsync(RedisStreamJobQueue consumer)
        {
            for (int round = 0; round < 1000; round++)
            {
                IReadOnlyList<LeasedJob> jobs = await consumer.FetchAsync(25, Lease);
                if (jobs.Count == 0)
                {
                    return;
                }

                foreach (LeasedJob job in jobs)
                {
                    seen.GetOrAdd(consumer.Group, _ => []).Add(job.Job.Id);
                }

                (await consumer.AckManyAsync(jobs.Select(j => j.Lease).ToArray())).Should().OnlyContain(r => r == LeaseResult.Succeeded);
            }
        }

        await Task.WhenAll(
            Task.Run(() => ConsumeAsync(Queue("billing", consumer: "b1"))),
            Task.Run(() => ConsumeAsync(Queue("billing", consumer: "b2"))),
            Task.Run(() => ConsumeAsync(Queue("audit", consumer: "a1"))),
            Task.Run(() => ConsumeAsync(Queue("audit", consumer: "a2"))));

        seen["billing"].Should().BeEquivalentTo(ids, "billing got every job exactly once");
        seen["audit"].Should().BeEquivalentTo(ids, "audit got every job exactly once");
        foreach (string group in new[] { "billing", "audit" })
        {
            (await Queue(group).GetStatusAsync()).Depth.Should().Be(0);
        }

        await producer.TrimAsync();
        (await StreamLengthAsync()).Should().Be(0, "both groups acknowledged every entry");
    }

    [Fact]
    public async Task AGroupCreatedLater_ReplaysTheRetainedHistory_InOrder()
    {
        RedisStreamJobQueue first = Queue("first", s => s.HistoryMaxCount = 1000);
        await EnqueueJobsAsync(first, 5);
        (await first.FetchAsync(1, Lease)).Should().ContainSingle(); // creates the group; the rest follow
        (await DrainAsync(first)).Should().HaveCount(4);
        (await first.TrimAsync()).Watermark.Should().NotBeNull();
        (await StreamLengthAsync()).Should().Be(5, "the history is kept for groups created later");

        RedisStreamJobQueue later = Queue("later", s => s.HistoryMaxCount = 1000);
        (await later.GetStatusAsync()).Ready.Should().Be(5, "a group not created yet reports what it will replay");

        (await DrainAsync(later)).Should().Equal("job-0", "job-1", "job-2", "job-3", "job-4");
        Events(4101).Select(e => e.GetStructuredStateValue("Group")).Should().Contain(["first", "later"]);
    }

    [Fact]
    public async Task AGroupCreatedLater_WithoutHistory_GetsOnlyWhatSomeGroupHasNotFinished_OrNewJobsOnlyWhenAsked()
    {
        RedisStreamJobQueue first = Queue("first");
        await EnqueueJobsAsync(first, 4, "old-");
        IReadOnlyList<LeasedJob> held = await first.FetchAsync(2, Lease);
        await first.AckManyAsync(held.Select(j => j.Lease).ToArray());
        await first.TrimAsync();
        (await StreamLengthAsync()).Should().Be(2, "the two acknowledged entries are gone; two are not given to 'first' yet");

        (await DrainAsync(Queue("replays"))).Should().Equal("old-2", "old-3");
        RedisStreamJobQueue fresh = Queue("fresh", s => s.NewGroupStart = StreamGroupStart.NewJobs);
        (await fresh.FetchAsync(10, Lease)).Should().BeEmpty("a group that starts with new jobs gets none of the old ones");
        await first.EnqueueAsync(Payload("new-0"));
        (await DrainAsync(fresh)).Should().Equal("new-0");
    }

    [Fact]
    public async Task Groups_HaveTheirOwnAttemptsRetriesDeadLettersCountsAndPause()
    {
        RedisStreamJobQueue producer = Queue("p", s => s.Groups = ["a", "b"]);
        string id = (await producer.EnqueueAsync(Payload("shared"), new EnqueueOptions { MaxAttempts = 2 })).JobId;
        RedisStreamJobQueue a = Queue("a");
        RedisStreamJobQueue b = Queue("b");

        LeasedJob inA = (await a.FetchAsync(1, Lease)).Single();
        (await a.FailAsync(inA.Lease, new JobError("JsonException", "bad", ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison in a"))).Outcome.Should().Be(FailOutcome.DeadLettered);
        LeasedJob inB = (await b.FetchAsync(1, Lease)).Single();
        inB.Job.Attempts.Should().Be(1, "b's attempts are its own");
        inB.Job.LastError.Should().BeNull("a's error is a's");
        (await b.FailAsync(inB.Lease, new JobError("TimeoutException", "slow", ErrorCategory.Transient), RecoveryDecision.Retry(TimeSpan.FromSeconds(5)))).Outcome.Should().Be(FailOutcome.Retrying);

        (await a.GetStatusAsync()).Should().Be(new QueueStatus(0, 0, 0, 1, 0, false, 0));
        (await b.GetStatusAsync()).Should().Be(new QueueStatus(0, 1, 0, 0, 0, false, 0));
        (await a.GetJobAsync(id))!.State.Should().Be(JobState.Dead);
        (await b.GetJobAsync(id))!.State.Should().Be(JobState.Delayed);
        (await b.DeadLetters.CountAsync()).Should().Be(0);

        await b.PauseAsync();
        (await a.DeadLetters.RequeueAsync(id)).Should().Be(DeadLetter.RequeueResult.Requeued);
        Time.Advance(TimeSpan.FromSeconds(5));
        (await b.FetchAsync(1, Lease)).Should().BeEmpty("b is paused");
        LeasedJob again = (await a.FetchAsync(1, Lease)).Single();
        Text(again.Job).Should().Be("shared", "a requeued its own copy of the job");
        again.Job.Attempts.Should().Be(2);
        await b.ResumeAsync();
        (await b.FetchAsync(1, Lease)).Single().Job.Attempts.Should().Be(2, "b's retry was due");
    }

    [Fact]
    public async Task NoGroup_AfterTheGroupIsDestroyed_ItIsCreatedAgainAndLoggedOnce_AndNothingIsLost()
    {
        RedisStreamJobQueue queue = Queue("workers");
        List<string> ids = await EnqueueJobsAsync(queue, 10);
        IReadOnlyList<LeasedJob> held = await queue.FetchAsync(3, Lease);
        await Database.ExecuteAsync("XGROUP", "DESTROY", Keys("workers").Stream.ToString(), "workers");
        (await queue.TrimAsync()).Should().Be(new RedisStreamJobQueue.HousekeepingStep(0, 0, null, "workers"), "what a missing group still needs is unknown, so nothing is deleted");
        Events(4106).Should().ContainSingle().Which.Level.Should().Be(LogLevel.Warning);

        var done = new List<string>();
        for (int round = 0; round < 10; round++)
        {
            IReadOnlyList<LeasedJob> jobs = await queue.FetchAsync(4, Lease);
            if (jobs.Count > 0)
            {
                done.AddRange(jobs.Select(j => j.Job.Id));
                await queue.AckManyAsync(jobs.Select(j => j.Lease).ToArray());
            }
        }

        (await queue.AckManyAsync(held.Select(j => j.Lease).ToArray())).Should().OnlyContain(r => r == LeaseResult.Succeeded, "the leases held across the loss are still the group's");
        done.AddRange(held.Select(j => j.Job.Id));
        done.Should().BeEquivalentTo(ids, "every job completed exactly once: the jobs the group held were not given out again");
        Events(4102).Should().ContainSingle("the loss is logged once, not on every fetch").Which.Level.Should().Be(LogLevel.Warning);
        await queue.TrimAsync();
        (await StreamLengthAsync()).Should().Be(0);
        (await PendingAsync("workers")).Should().Be(0);
    }

    [Fact]
    public async Task NoGroup_AfterTheServerIsFlushed_TheConsumerCreatesItsGroupAgain_AndGoesOn()
    {
        RedisStreamJobQueue queue = Queue("workers");
        await EnqueueJobsAsync(queue, 3);
        (await DrainAsync(queue)).Should().HaveCount(3);
        await Redis.FlushAsync();

        (await queue.FetchAsync(10, Lease)).Should().BeEmpty();
        await EnqueueJobsAsync(queue, 2, "after-");

        (await DrainAsync(queue)).Should().Equal("after-0", "after-1");
        Events(4101).Should().HaveCount(2, "created at first, and again after the flush (the server forgot everything, this library's records too)");
    }
}
