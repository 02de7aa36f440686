using System.Diagnostics;
using System.Text;
using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;
using ResilientQueue.Results;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// Request–reply on a real server, the producer on a connection of its own (a process of its own): the result key, its
/// TTL and slot; producers woken by pub/sub on <c>{rq:q}:done</c>, promptly (measured against a poll interval of an
/// hour), all sharing the queue's one subscription; a lost notification made up for by the poll; and the complete
/// script's atomicity (it fails before its first write, or runs to its end).
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisResultTests(RedisServerFixture redis, ITestOutputHelper output) : RedisTestBase(redis)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly List<IAsyncDisposable> _owned = [];

    public override async Task DisposeAsync()
    {
        foreach (IAsyncDisposable owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    [Fact]
    public async Task Complete_StoresTheResultAsOneStringInTheQueuesSlot_KeptForTheRetentionAndAMinute()
    {
        await using var queue = new RedisListJobQueue(Redis.Multiplexer, "orders", new JobQueueOptions { Results = { Retention = TimeSpan.FromMinutes(10) } });
        string id = (await queue.EnqueueAsync(Payload("question"))).JobId;
        LeasedJob leased = (await queue.FetchAsync(1, Lease)).Should().ContainSingle().Subject;

        (await queue.CompleteAsync(leased.Lease, Payload("answer"))).Should().Be(LeaseResult.Succeeded);

        string key = "{rq:orders}:result:" + id;
        (await Database.KeyTypeAsync(key)).Should().Be(RedisType.String);
        (await Database.KeyTimeToLiveAsync(key)).Should().BeCloseTo(TimeSpan.FromMinutes(11), TimeSpan.FromSeconds(10), "the retention, and a minute for the caller's clock to decide first");
        RedisClusterSlot.Of(key).Should().Be(RedisClusterSlot.Of("{rq:orders}"));
        byte[] stored = (byte[])(await Database.StringGetAsync(key))!;
        stored[0].Should().Be(1, "the record's format version");
        Encoding.UTF8.GetString(stored.AsSpan(17)).Should().Be("answer");
        (await Database.KeyExistsAsync("{rq:orders}:job:" + id)).Should().BeFalse("the job itself is gone, as after an ack");
    }

    [Fact]
    public async Task WaitForResult_InAnotherProcess_IsWokenByPubSub_WithinMilliseconds()
    {
        const int Rounds = 30;
        var options = new JobQueueOptions { Results = { PollInterval = TimeSpan.FromHours(1) } };
        RedisListJobQueue consumer = Own(new RedisListJobQueue(Redis.Multiplexer, "llm", options));
        RedisListJobQueue producer = Own(new RedisListJobQueue(await ConnectAsync(), "llm", options));
        var latencies = new List<TimeSpan>();

        for (int round = 0; round < Rounds; round++)
        {
            string id = (await producer.EnqueueAsync(Payload("prompt " + round))).JobId;
            LeasedJob leased = (await consumer.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
            Task<JobResult> waiting = producer.WaitForResultAsync(id, TimeSpan.FromMinutes(5)).AsTask();
            await Task.Delay(30);
            waiting.IsCompleted.Should().BeFalse($"the job is still running (round {round})");

            var watch = Stopwatch.StartNew();
            await consumer.CompleteAsync(leased.Lease, Payload("answer " + round));
            JobResult result = await waiting.WaitAsync(Bound);
            latencies.Add(watch.Elapsed);
            Encoding.UTF8.GetString(result.Value.Span).Should().Be("answer " + round);
        }

        latencies.Sort();
        output.WriteLine($"wake-up latency over {Rounds} rounds (completion call start to the waiter's result, another connection): " +
                         $"median {latencies[Rounds / 2].TotalMilliseconds:0.0} ms, max {latencies[^1].TotalMilliseconds:0.0} ms; poll interval 1 h");
        latencies[^1].Should().BeLessThan(TimeSpan.FromSeconds(2), "every waiter is woken by the notification (typically within a few ms), never by the hour-long poll");
    }

    [Fact]
    public async Task ManyWaiters_ShareTheQueuesOneSubscription_AndNoConnectionPerJob()
    {
        const int Waiters = 200;
        var options = new JobQueueOptions { Results = { PollInterval = TimeSpan.FromHours(1) } };
        RedisListJobQueue consumer = Own(new RedisListJobQueue(Redis.Multiplexer, "many", options));
        RedisListJobQueue producer = Own(new RedisListJobQueue(await ConnectAsync(), "many", options));
        await producer.EnqueueAsync(Payload("warm-up")); // the producer connects and subscribes once, before counting
        await FluentActions.Awaiting(() => producer.WaitForResultAsync("warm-up-id", TimeSpan.Zero).AsTask()).Should().ThrowAsync<JobResultNotFoundException>();
        long clientsBefore = await ClientCountAsync();

        IReadOnlyList<EnqueueResult> jobs = await producer.EnqueueManyAsync([.. Enumerable.Range(0, Waiters).Select(i => new JobSubmission(Payload("q" + i)))]);
        Task<JobResult>[] waiting = [.. jobs.Select(j => producer.WaitForResultAsync(j.JobId, TimeSpan.FromMinutes(5)).AsTask())];
        await Task.Delay(300);

        (await SubscribersAsync("{rq:many}:done")).Should().Be(1, "every waiter of the process shares the queue's one subscription");
        (await ClientCountAsync()).Should().Be(clientsBefore, "waiters open no connections");
        IReadOnlyList<LeasedJob> leased = (await consumer.FetchAsync(Waiters + 1, Lease)).Where(l => l.Job.Id != null && jobs.Any(j => j.JobId == l.Job.Id)).ToList();
        leased.Should().HaveCount(Waiters);
        (await consumer.CompleteManyAsync([.. leased.Select(l => new JobCompletion(l.Lease, Payload("a" + Encoding.UTF8.GetString(l.Job.Payload.Span))))]))
            .Should().OnlyContain(r => r.IsSucceeded);

        JobResult[] results = await Task.WhenAll(waiting).WaitAsync(Bound);
        results.Select(r => Encoding.UTF8.GetString(r.Value.Span)).Should().Equal(Enumerable.Range(0, Waiters).Select(i => "aq" + i));
    }

    [Fact]
    public async Task ALostNotification_IsMadeUpForByThePoll()
    {
        // The producer's connection prefixes every channel it subscribes to, so it never hears the server's messages on
        // {rq:lost}:done: every notification is lost, as across a dropped pub/sub connection.
        var deaf = ConfigurationOptions.Parse(Redis.Configuration);
        deaf.ChannelPrefix = RedisChannel.Literal("elsewhere:");
        var poll = TimeSpan.FromMilliseconds(300);
        var options = new JobQueueOptions { Results = { PollInterval = poll } };
        RedisListJobQueue consumer = Own(new RedisListJobQueue(Redis.Multiplexer, "lost", options));
        RedisListJobQueue producer = Own(new RedisListJobQueue(Own(await ConnectionMultiplexer.ConnectAsync(deaf)), "lost", options));
        string id = (await producer.EnqueueAsync(Payload("x"))).JobId;
        LeasedJob leased = (await consumer.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
        Task<JobResult> waiting = producer.WaitForResultAsync(id, TimeSpan.FromMinutes(5)).AsTask();
        await Task.Delay(100);
        (await SubscribersAsync("{rq:lost}:done")).Should().Be(0, "the producer listens on another channel");

        var watch = Stopwatch.StartNew();
        await consumer.CompleteAsync(leased.Lease, Payload("answer"));
        JobResult result = await waiting.WaitAsync(Bound);

        Encoding.UTF8.GetString(result.Value.Span).Should().Be("answer");
        output.WriteLine($"without its notification the waiter had the result after {watch.Elapsed.TotalMilliseconds:0} ms (poll interval {poll.TotalMilliseconds:0} ms)");
        watch.Elapsed.Should().BeLessThan(poll + TimeSpan.FromSeconds(2), "the poll looks again within its interval");
    }

    [Fact]
    public async Task AFailureForGood_InAnotherProcess_ReachesTheWaiterThroughPubSub()
    {
        var options = new JobQueueOptions { Results = { PollInterval = TimeSpan.FromHours(1) } };
        RedisListJobQueue consumer = Own(new RedisListJobQueue(Redis.Multiplexer, "fails", options));
        RedisListJobQueue producer = Own(new RedisListJobQueue(await ConnectAsync(), "fails", options));
        string id = (await producer.EnqueueAsync(Payload("x"))).JobId;
        LeasedJob leased = (await consumer.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
        Task<JobResult> waiting = producer.WaitForResultAsync(id, TimeSpan.FromMinutes(5)).AsTask();
        await Task.Delay(100);

        await consumer.FailAsync(leased.Lease, new Errors.JobError("JsonException", "bad prompt", Errors.ErrorCategory.Validation), Recovery.RecoveryDecision.DeadLetter("poison"));

        JobFailedException failed = (await FluentActions.Awaiting(() => waiting.WaitAsync(Bound)).Should().ThrowAsync<JobFailedException>()).Which;
        (failed.Error, failed.Category, failed.Reason).Should().Be(("JsonException: bad prompt", Errors.ErrorCategory.Validation, "poison"));
    }

    [Fact]
    public async Task Complete_OverMaxmemory_FailsBeforeItsFirstWrite_LeavingTheJobLeasedAndNoResult()
    {
        await using var queue = new RedisListJobQueue(Redis.Multiplexer, "oom");
        string id = (await queue.EnqueueAsync(Payload("x"))).JobId;
        LeasedJob leased = (await queue.FetchAsync(1, Lease)).Should().ContainSingle().Subject;

        RedisServerException oom = await FailsOverMaxmemoryAsync(() => queue.CompleteAsync(leased.Lease, Payload("answer")).AsTask());

        oom.Message.Should().Contain("OOM");
        (await queue.GetJobAsync(id))!.State.Should().Be(JobState.Active, "nothing of the completion was written: the job is still leased");
        (await queue.GetResultAsync(id)).Should().BeNull();
        (await queue.GetStatusAsync()).Active.Should().Be(1);
        (await queue.CompleteAsync(leased.Lease, Payload("answer"))).Should().Be(LeaseResult.Succeeded, "the same lease completes once memory allows");
        Encoding.UTF8.GetString((await queue.GetResultAsync(id))!.Value.Span).Should().Be("answer");
    }

    [Fact]
    public async Task CompletionsRacingReapsAndRefetches_NeverLeaveACompletedJobWithoutItsResult()
    {
        // Two processes: one completes jobs with results while the other takes the same leases back (the reaper) and
        // leases them again. Whichever wins each job, a job is either completed with its result stored, or alive
        // (ready or leased) without one; the completions that succeeded are exactly the results stored.
        const int Jobs = 300;
        var time = new FakeTimeProvider();
        RedisListJobQueue worker = Own(new RedisListJobQueue(Redis.Multiplexer, "race", timeProvider: time));
        RedisListJobQueue reaper = Own(new RedisListJobQueue(await ConnectAsync(), "race", timeProvider: time));
        await worker.EnqueueManyAsync([.. Enumerable.Range(0, Jobs).Select(i => new JobSubmission(Payload("j" + i)))]);
        IReadOnlyList<LeasedJob> leased = await worker.FetchAsync(Jobs, TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(2));

        // The reaper takes leases back oldest deadline first (all equal here: by id, so in enqueue order), at most half
        // of them; the worker completes from the other end, so the two meet somewhere in the middle, racing there.
        var completed = new Dictionary<string, LeaseResult>();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task completing = Task.Run(async () =>
        {
            await start.Task;
            foreach (LeasedJob[] chunk in leased.Reverse().Chunk(10))
            {
                IReadOnlyList<LeaseResult> results = await worker.CompleteManyAsync([.. chunk.Select(l => new JobCompletion(l.Lease, Payload("r:" + l.Job.Id)))]);
                for (int i = 0; i < chunk.Length; i++)
                {
                    completed[chunk[i].Job.Id] = results[i];
                }
            }
        });
        Task reaping = Task.Run(async () =>
        {
            await start.Task;
            for (int i = 0; i < Jobs / 20; i++)
            {
                await reaper.ReapExpiredAsync(10);
                await reaper.FetchAsync(5, TimeSpan.FromMinutes(5)); // some of them are leased again at once
            }
        });
        start.SetResult();
        await completing.WaitAsync(Bound);
        await reaping.WaitAsync(Bound);

        int succeeded = 0;
        for (int i = 0; i < Jobs; i++)
        {
            string id = leased[i].Job.Id;
            JobResult? result = await worker.GetResultAsync(id);
            Job? job = await worker.GetJobAsync(id);
            if (completed[id].IsSucceeded)
            {
                succeeded++;
                result.Should().NotBeNull($"job {i} was completed, so its result is stored");
                Encoding.UTF8.GetString(result!.Value.Span).Should().Be("r:" + id);
                job.Should().BeNull($"job {i} was completed and removed");
            }
            else
            {
                result.Should().BeNull($"job {i}'s completion found its lease taken, so nothing was stored");
                job.Should().NotBeNull($"job {i} was taken back by the reaper, so it is alive");
                job!.State.Should().BeOneOf(JobState.Ready, JobState.Active);
            }
        }

        output.WriteLine($"{succeeded} of {Jobs} completions won against the reaper");
        (succeeded > 0 && succeeded < Jobs).Should().BeTrue("both sides should win some jobs, or the race proved nothing (it may need to be rerun on a very fast or slow machine)");
    }

    private async Task<IConnectionMultiplexer> ConnectAsync() => Own(await Redis.ConnectAsync());

    private T Own<T>(T owned)
        where T : IAsyncDisposable
    {
        _owned.Add(owned);
        return owned;
    }

    private async Task<long> SubscribersAsync(string channel)
    {
        RedisResult[] reply = (RedisResult[])(await Database.ExecuteAsync("PUBSUB", "NUMSUB", channel))!;
        return (long)reply[1];
    }

    private async Task<long> ClientCountAsync()
    {
        string list = (string)(await Database.ExecuteAsync("CLIENT", "LIST"))!;
        return list.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private static ReadOnlyMemory<byte> Payload(string text) => Encoding.UTF8.GetBytes(text);
}
