using System.Collections.Concurrent;
using System.Diagnostics;
using FluentAssertions;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary>
/// Nothing is lost by the stream's housekeeping: an entry is deleted only after every group of the stream acknowledged
/// it (never by MAXLEN), the kept history follows its count and age, and a consumer is removed only with an empty
/// pending list.
/// </summary>
public sealed class RedisStreamHousekeepingTests(RedisServerFixture redis, ITestOutputHelper output) : StreamTestBase(redis)
{
    [Fact]
    public async Task Trim_DeletesExactlyTheEntriesEveryGroupAcknowledged()
    {
        RedisStreamJobQueue a = Queue("a", s => s.Groups = ["a", "b", "c"]);
        RedisStreamJobQueue b = Queue("b");
        RedisStreamJobQueue c = Queue("c");
        await EnqueueJobsAsync(a, 10);
        (await DrainAsync(a)).Should().HaveCount(10);
        IReadOnlyList<LeasedJob> bJobs = await b.FetchAsync(10, Lease);
        await b.AckManyAsync(bJobs.Take(6).Select(j => j.Lease).ToArray());

        (await a.TrimAsync()).EntriesDeleted.Should().Be(0, "c was given none of them yet");
        IReadOnlyList<LeasedJob> cJobs = await c.FetchAsync(10, Lease);
        await c.AckManyAsync(cJobs.Where((_, i) => i != 2).Select(j => j.Lease).ToArray());
        (await a.TrimAsync()).EntriesDeleted.Should().Be(2, "c still holds the third entry");
        (await c.AckAsync(cJobs[2].Lease)).Should().Be(LeaseResult.Succeeded);
        (await a.TrimAsync()).EntriesDeleted.Should().Be(4, "b acknowledged the first six only");
        await b.AckManyAsync(bJobs.Skip(6).Select(j => j.Lease).ToArray());
        (await a.TrimAsync()).EntriesDeleted.Should().Be(4);
        (await StreamLengthAsync()).Should().Be(0);
    }

    [Fact]
    public async Task Trim_WithNoGroup_DeletesNothing_AndAStalledGroupHoldsEverythingItWasNotGiven()
    {
        RedisStreamJobQueue producer = Queue("nobody-reads-yet");
        await EnqueueJobsAsync(producer, 5);
        (await producer.TrimAsync()).Should().Be(new RedisStreamJobQueue.HousekeepingStep(0, 0, null));

        await Queue("stalled").GetStatusAsync();
        RedisStreamJobQueue busy = Queue("busy", s => s.Groups = ["stalled"]);
        await busy.EnqueueAsync(Payload("one more")); // declares 'stalled', which starts with the retained five
        (await DrainAsync(busy)).Should().HaveCount(6);
        (await busy.TrimAsync()).EntriesDeleted.Should().Be(0, "'stalled' was given none");
        (await StreamLengthAsync()).Should().Be(6);
        (await Queue("stalled").GetStatusAsync()).Ready.Should().Be(6);
    }

    [Fact]
    public async Task Trim_KeepsTheNewestHistoryCount_ForAtMostTheHistoryAge()
    {
        RedisStreamJobQueue queue = Queue("g", s => { s.HistoryMaxCount = 4; s.HistoryMaxAge = TimeSpan.FromMinutes(1); });
        await EnqueueJobsAsync(queue, 10);
        Time.Advance(TimeSpan.FromSeconds(30));
        await EnqueueJobsAsync(queue, 2, "late-");
        (await DrainAsync(queue)).Should().HaveCount(12);

        (await queue.TrimAsync()).EntriesDeleted.Should().Be(8, "the newest 4 are kept");
        Time.Advance(TimeSpan.FromSeconds(31));
        (await queue.TrimAsync()).EntriesDeleted.Should().Be(2, "two of them entered the stream over a minute ago");
        (await Database.StreamRangeAsync(Keys("g").Stream)).Select(e => (string?)e["e"]).Should().HaveCount(2);
        Time.Advance(TimeSpan.FromSeconds(30));
        (await queue.TrimAsync()).EntriesDeleted.Should().Be(2);
    }

    [Fact]
    public async Task DeadLetteredAndRetainedCompletedJobs_KeepTheirOwnEnvelope_SoTheStreamIsTrimmedPastThem()
    {
        RedisStreamJobQueue queue = Queue("g", options: new JobQueueOptions { CompletedRetention = 5 });
        string dead = (await queue.EnqueueAsync(Payload("poison"))).JobId;
        string done = (await queue.EnqueueAsync(Payload("fine"))).JobId;
        IReadOnlyList<LeasedJob> jobs = await queue.FetchAsync(2, Lease);
        await queue.FailAsync(jobs[0].Lease, new JobError("JsonException", "bad", ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison"));
        await queue.AckAsync(jobs[1].Lease);

        (await queue.TrimAsync()).EntriesDeleted.Should().Be(2);
        (await StreamLengthAsync()).Should().Be(0);

        Text((await queue.GetJobAsync(done))!).Should().Be("fine");
        Text((await queue.DeadLetters.GetAsync(dead))!.Job).Should().Be("poison");
        (await queue.DeadLetters.RequeueAsync(dead)).Should().Be(DeadLetter.RequeueResult.Requeued);
        Text((await queue.FetchAsync(1, Lease)).Single().Job).Should().Be("poison");
    }

    [Fact]
    public async Task Consumers_AreRemovedOnlyWithAnEmptyPendingList()
    {
        RedisStreamJobQueue crashed = Queue("g", s => s.IdleConsumerRemoval = TimeSpan.FromSeconds(1), consumer: "crashed");
        RedisStreamJobQueue survivor = Queue("g", s => s.IdleConsumerRemoval = TimeSpan.FromSeconds(1), consumer: "survivor");
        await EnqueueJobsAsync(crashed, 3);
        IReadOnlyList<LeasedJob> held = await crashed.FetchAsync(2, TimeSpan.FromSeconds(5)); // then it crashes: no ack, no release
        await Task.Delay(TimeSpan.FromMilliseconds(1200)); // the server's idle count of 'crashed' passes the bound

        (await survivor.TrimAsync()).ConsumersRemoved.Should().Be(0, "'crashed' still holds two pending entries, and 'survivor' never read");
        (await ConsumersAsync("g")).Should().Contain("crashed");

        Time.Advance(TimeSpan.FromSeconds(5));
        (await survivor.ReapExpiredAsync(10)).Should().HaveCount(2);
        IReadOnlyList<LeasedJob> taken = await survivor.FetchAsync(10, Lease);
        taken.Select(j => j.Job.Id).Should().BeEquivalentTo(held.Select(j => j.Job.Id).Append(taken[^1].Job.Id), "the reaped jobs come back first, then the third");
        (await survivor.TrimAsync()).ConsumersRemoved.Should().Be(1, "claiming its entries emptied 'crashed''s pending list");
        (await ConsumersAsync("g")).Should().Equal("survivor");
    }

    [Fact]
    public async Task Dispose_RemovesTheQueuesConsumer_OnlyWhenItHasNothingPending()
    {
        RedisStreamJobQueue idle = Queue("g", consumer: "idle");
        RedisStreamJobQueue holder = Queue("g", consumer: "holder");
        await EnqueueJobsAsync(idle, 2);
        await DrainAsync(idle);
        await EnqueueJobsAsync(idle, 1, "held-");
        (await holder.FetchAsync(1, Lease)).Should().ContainSingle();

        await idle.DisposeAsync();
        await holder.DisposeAsync();

        (await ConsumersAsync("g")).Should().Equal("holder");
        (await PendingAsync("g")).Should().Be(1);
    }

    [Fact]
    public async Task Housekeeping_UnderLoad_WithThreeGroups_NeverDeletesAnEntrySomeGroupHasNotAcknowledged()
    {
        const int Jobs = 3000;
        string[] groups = ["g1", "g2", "g3"];
        var bound = Stopwatch.StartNew();
        var time = TimeProvider.System;
        Action<RedisStreamOptions> stream = s => { s.Groups = groups; s.HousekeepingInterval = TimeSpan.FromMilliseconds(10); };
        RedisStreamJobQueue producer = Queue("g1", stream, time: time, housekeeping: true);

        // Per group, the jobs it may have acknowledged: added before the ack (or dead-letter) call is sent.
        var maybeAcked = groups.ToDictionary(g => g, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal));
        var enqueued = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var violations = new ConcurrentBag<string>();
        int deletedSeen = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));

        Task produce = Task.Run(async () =>
        {
            for (int i = 0; i < Jobs; i += 100)
            {
                foreach (EnqueueResult r in await producer.EnqueueManyAsync(Enumerable.Range(i, 100).Select(n => new JobSubmission(Payload("job-" + n))).ToArray()))
                {
                    enqueued[r.JobId] = 0;
                }

                await Task.Delay(5);
            }
        });

        async Task ConsumeAsync(string group, int seed)
        {
            var random = new Random(seed);
            RedisStreamJobQueue consumer = Queue(group, stream, time: time, consumer: $"{group}-{seed}", housekeeping: true);
            while (maybeAcked[group].Count < Jobs && !stop.IsCancellationRequested)
            {
                IReadOnlyList<LeasedJob> jobs = await consumer.FetchAsync(random.Next(1, 40), Lease);
                if (jobs.Count == 0)
                {
                    await Task.Delay(2);
                    continue;
                }

                var acks = new List<JobLease>();
                foreach (LeasedJob job in jobs)
                {
                    switch (random.Next(10))
                    {
                        case 0: // comes back at the head, pending entry kept
                            (await consumer.ReleaseAsync(job.Lease)).Should().Be(LeaseResult.Succeeded);
                            break;
                        case 1: // a retry after a few milliseconds
                            (await consumer.FailAsync(job.Lease, new JobError("TimeoutException", "slow", ErrorCategory.Transient), RecoveryDecision.RetryWithoutAttempt(TimeSpan.FromMilliseconds(random.Next(1, 20))))).IsApplied.Should().BeTrue();
                            break;
                        default:
                            maybeAcked[group][job.Job.Id] = 0;
                            acks.Add(job.Lease);
                            break;
                    }
                }

                if (acks.Count > 0)
                {
                    (await consumer.AckManyAsync(acks)).Should().OnlyContain(r => r == LeaseResult.Succeeded);
                }
            }
        }

        async Task CheckAsync()
        {
            while (!stop.IsCancellationRequested && groups.Any(g => maybeAcked[g].Count < Jobs))
            {
                var before = new HashSet<string>(enqueued.Keys, StringComparer.Ordinal);
                var present = new HashSet<string>((await Database.StreamRangeAsync(Keys("g1").Stream)).Select(e => (string)e["j"]!), StringComparer.Ordinal);
                string[] deleted = before.Where(id => !present.Contains(id)).ToArray();
                deletedSeen = Math.Max(deletedSeen, deleted.Length);
                foreach (string id in deleted)
                {
                    // Deleted: then every group had acknowledged it before this read, so each marked it before that.
                    string? holder = groups.FirstOrDefault(g => !maybeAcked[g].ContainsKey(id));
                    if (holder is not null)
                    {
                        violations.Add($"{id} was deleted while {holder} had not acknowledged it");
                    }
                }

                await Task.Delay(15);
            }
        }

        await Task.WhenAll([produce, CheckAsync(), .. groups.SelectMany((g, i) => new[] { ConsumeAsync(g, 2 * i), ConsumeAsync(g, (2 * i) + 1) })]);

        violations.Should().BeEmpty();
        deletedSeen.Should().BeGreaterThan(0, "the queues' own housekeeping deleted entries while the groups worked (else this test proves nothing)");
        foreach (string group in groups)
        {
            maybeAcked[group].Keys.Should().BeEquivalentTo(enqueued.Keys, $"{group} completed every job");
        }

        Events(4103).Should().BeEmpty("no job was lost");
        while ((await producer.TrimAsync()).EntriesDeleted > 0)
        {
        }

        (await StreamLengthAsync()).Should().Be(0, "once every group acknowledged everything, nothing is kept");
        output.WriteLine($"{Jobs} jobs through 3 groups of 2 consumers in {bound.Elapsed.TotalSeconds:0.0} s; up to {deletedSeen} entries seen deleted by one check");
        bound.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(90));
    }

    private async Task<string[]> ConsumersAsync(string group) =>
        (await Database.StreamConsumerInfoAsync(Keys(group).Stream, group)).Select(c => c.Name.ToString()).OrderBy(n => n, StringComparer.Ordinal).ToArray();
}
