using System.Diagnostics;
using System.Text;
using FluentAssertions;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;
using ResilientQueue.Results;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary>
/// Request–reply on the stream backend against a real server: each group is its own pipeline, so each stores its own
/// result of a job under its own key (<c>{rq:q}:g:&lt;group&gt;:result:&lt;id&gt;</c>) and a producer waits for the
/// result of its group, and is told so when its group is not one of the queue's; producers in other processes are woken
/// by pub/sub on the group's channel, promptly (against a poll interval of an hour), by completions, failures for good
/// and clears; the complete script fails before its first write or runs to its end.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamResultTests(RedisServerFixture redis, ITestOutputHelper output) : RedisTestBase(redis)
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly JobQueueOptions HourPoll = new() { Results = { PollInterval = TimeSpan.FromHours(1), Retention = TimeSpan.FromMinutes(10) } };

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
    public async Task EachGroup_StoresItsOwnResult_UnderItsKeyInTheQueuesSlot_AndAProducerGetsItsGroups()
    {
        RedisStreamJobQueue producer = Queue(Redis.Multiplexer, "llm", s => s.Groups = ["llm", "audit"]);
        RedisStreamJobQueue auditProducer = Queue(Redis.Multiplexer, "audit", s => s.Groups = ["llm", "audit"]);
        RedisStreamJobQueue llm = Queue(Redis.Multiplexer, "llm");
        RedisStreamJobQueue audit = Queue(Redis.Multiplexer, "audit");
        string id = (await producer.EnqueueAsync(Payload("question"))).JobId;

        LeasedJob inLlm = (await llm.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
        LeasedJob inAudit = (await audit.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
        (await llm.CompleteAsync(inLlm.Lease, Payload("answer"))).Should().Be(LeaseResult.Succeeded);
        (await audit.CompleteAsync(inAudit.Lease, Payload("logged"))).Should().Be(LeaseResult.Succeeded);

        foreach ((string group, string value) in new[] { ("llm", "answer"), ("audit", "logged") })
        {
            string key = "{rq:orders}:g:" + group + ":result:" + id;
            (await Database.KeyTypeAsync(key)).Should().Be(RedisType.String);
            (await Database.KeyTimeToLiveAsync(key)).Should().BeCloseTo(TimeSpan.FromMinutes(11), TimeSpan.FromSeconds(10), "the retention, and a minute for the caller's clock to decide first");
            RedisClusterSlot.Of(key).Should().Be(RedisClusterSlot.Of("{rq:orders}"));
            Encoding.UTF8.GetString(((byte[])(await Database.StringGetAsync(key))!).AsSpan(17)).Should().Be(value);
        }

        (await Database.KeyExistsAsync("{rq:orders}:result:" + id)).Should().BeFalse("a stream queue has no result of the queue, only each group's");
        Text(await producer.WaitForResultAsync(id, Bound)).Should().Be("answer", "the producer reads as group llm");
        Text(await auditProducer.WaitForResultAsync(id, Bound)).Should().Be("logged");
        Text((await audit.GetResultAsync(id))!).Should().Be("logged");
        (await PendingAsync("llm")).Should().Be(0, "the completion acknowledged the entry");
    }

    [Fact]
    public async Task AProducerWhoseGroupIsNotDeclared_GetsAClearError_NamingTheGroups_BeforeItWaits()
    {
        RedisStreamJobQueue producer = Queue(Redis.Multiplexer, RedisStreamOptions.DefaultGroup, s => s.Groups = ["llm", "audit"]);

        InvalidOperationException error = (await FluentActions.Awaiting(() => producer.EnqueueAndWaitAsync<string, string>("question", Bound).AsTask())
            .Should().ThrowAsync<InvalidOperationException>()).Which;

        error.Message.Should().ContainAll("'orders'", "'llm', 'audit'", "RedisStreamOptions.Groups", "group 'default'", "Set RedisStreamOptions.Group");
        (await producer.GetStatusAsync()).Ready.Should().Be(1, "the job was enqueued (the groups get it); only the wait was refused");
    }

    [Fact]
    public async Task AProducerWhoseGroupIsNotOnTheServer_GetsAClearError_AndOneWhoseGroupIs_Waits()
    {
        RedisStreamJobQueue llm = Queue(Redis.Multiplexer, "llm");
        RedisStreamJobQueue audit = Queue(Redis.Multiplexer, "audit");
        (await llm.FetchAsync(1, Lease)).Should().BeEmpty(); // each fetch creates its group
        (await audit.FetchAsync(1, Lease)).Should().BeEmpty();
        RedisStreamJobQueue stray = Queue(Redis.Multiplexer, RedisStreamOptions.DefaultGroup);
        string id = (await stray.EnqueueAsync(Payload("question"))).JobId;

        InvalidOperationException error = (await FluentActions.Awaiting(() => stray.WaitForResultAsync(id, Bound).AsTask())
            .Should().ThrowAsync<InvalidOperationException>()).Which;
        error.Message.Should().ContainAll("'audit', 'llm'", "on the server", "group 'default'");

        RedisStreamJobQueue producer = Queue(Redis.Multiplexer, "llm");
        Task<JobResult> waiting = producer.WaitForResultAsync(id, Bound).AsTask();
        LeasedJob leased = (await llm.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
        await llm.CompleteAsync(leased.Lease, Payload("answer"));
        Text(await waiting.WaitAsync(Bound)).Should().Be("answer");
    }

    [Fact]
    public async Task WaitForResult_InAnotherProcess_IsWokenByPubSubOnTheGroupsChannel_WithinMilliseconds()
    {
        const int Rounds = 20;
        RedisStreamJobQueue consumer = Queue(Redis.Multiplexer, "llm");
        RedisStreamJobQueue producer = Queue(await ConnectAsync(), "llm");
        var latencies = new List<TimeSpan>();

        for (int round = 0; round < Rounds; round++)
        {
            string id = (await producer.EnqueueAsync(Payload("prompt " + round))).JobId;
            LeasedJob leased = (await consumer.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
            Task<JobResult> waiting = producer.WaitForResultAsync(id, TimeSpan.FromMinutes(5)).AsTask();
            await Task.Delay(30);
            waiting.IsCompleted.Should().BeFalse($"the job is still running (round {round})");
            if (round == 0)
            {
                (await SubscribersAsync("{rq:orders}:g:llm:done")).Should().Be(1, "the producer's waiters share the group's one subscription");
            }

            var watch = Stopwatch.StartNew();
            await consumer.CompleteAsync(leased.Lease, Payload("answer " + round));
            JobResult result = await waiting.WaitAsync(Bound);
            latencies.Add(watch.Elapsed);
            Text(result).Should().Be("answer " + round);
        }

        latencies.Sort();
        output.WriteLine($"stream wake-up latency over {Rounds} rounds (completion call start to the waiter's result, another connection): " +
                         $"median {latencies[Rounds / 2].TotalMilliseconds:0.0} ms, max {latencies[^1].TotalMilliseconds:0.0} ms; poll interval 1 h");
        latencies[^1].Should().BeLessThan(TimeSpan.FromSeconds(2), "every waiter is woken by the notification, never by the hour-long poll");
    }

    [Fact]
    public async Task AFailureForGood_InAnotherProcess_ReachesTheWaiterThroughPubSub_AndAnotherGroupsFailureDoesNot()
    {
        RedisStreamJobQueue llm = Queue(Redis.Multiplexer, "llm");
        RedisStreamJobQueue audit = Queue(Redis.Multiplexer, "audit");
        RedisStreamJobQueue llmProducer = Queue(await ConnectAsync(), "llm", s => s.Groups = ["llm", "audit"]);
        RedisStreamJobQueue auditProducer = Queue(await ConnectAsync(), "audit", s => s.Groups = ["llm", "audit"]);
        string id = (await llmProducer.EnqueueAsync(Payload("x"))).JobId;
        LeasedJob inLlm = (await llm.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
        LeasedJob inAudit = (await audit.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
        Task<JobResult> llmWaiting = llmProducer.WaitForResultAsync(id, TimeSpan.FromMinutes(5)).AsTask();
        Task<JobResult> auditWaiting = auditProducer.WaitForResultAsync(id, TimeSpan.FromMinutes(5)).AsTask();
        await Task.Delay(100);

        await audit.FailAsync(inAudit.Lease, new JobError("JsonException", "bad prompt", ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison"));

        JobFailedException failed = (await FluentActions.Awaiting(() => auditWaiting.WaitAsync(Bound)).Should().ThrowAsync<JobFailedException>()).Which;
        (failed.Error, failed.Category, failed.Reason).Should().Be(("JsonException: bad prompt", ErrorCategory.Validation, "poison"));
        await Task.Delay(100);
        llmWaiting.IsCompleted.Should().BeFalse("the job failed in group audit only; group llm still runs it");
        await llm.CompleteAsync(inLlm.Lease, Payload("answer"));
        Text(await llmWaiting.WaitAsync(Bound)).Should().Be("answer");
    }

    [Fact]
    public async Task AClear_InAnotherProcess_WakesTheWaitersOfEveryGroup_AndDeletesEveryGroupsResults()
    {
        RedisStreamJobQueue llm = Queue(Redis.Multiplexer, "llm");
        RedisStreamJobQueue producer = Queue(await ConnectAsync(), "llm", s => s.Groups = ["llm", "audit"]);
        RedisStreamJobQueue auditProducer = Queue(await ConnectAsync(), "audit", s => s.Groups = ["llm", "audit"]);
        string done = (await producer.EnqueueAsync(Payload("done"))).JobId;
        string pending = (await producer.EnqueueAsync(Payload("pending"))).JobId;
        LeasedJob first = (await llm.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
        await llm.CompleteAsync(first.Lease, Payload("answer"));
        Task<JobResult> llmWaiting = producer.WaitForResultAsync(pending, TimeSpan.FromMinutes(5)).AsTask();
        Task<JobResult> auditWaiting = auditProducer.WaitForResultAsync(pending, TimeSpan.FromMinutes(5)).AsTask();
        await Task.Delay(100);

        var watch = Stopwatch.StartNew();
        await llm.ClearAsync();

        await FluentActions.Awaiting(() => llmWaiting.WaitAsync(Bound)).Should().ThrowAsync<JobResultNotFoundException>();
        await FluentActions.Awaiting(() => auditWaiting.WaitAsync(Bound)).Should().ThrowAsync<JobResultNotFoundException>();
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5), "the clear told both groups' waiters to look again; the poll is an hour");
        (await Database.KeyExistsAsync("{rq:orders}:g:llm:result:" + done)).Should().BeFalse("a clear deletes the results too");
        (await producer.GetResultAsync(done)).Should().BeNull();
    }

    [Fact]
    public async Task Complete_OverMaxmemory_FailsBeforeItsFirstWrite_LeavingTheJobLeasedAndNoResult()
    {
        RedisStreamJobQueue queue = Queue(Redis.Multiplexer, "llm");
        string id = (await queue.EnqueueAsync(Payload("x"))).JobId;
        LeasedJob leased = (await queue.FetchAsync(1, Lease)).Should().ContainSingle().Subject;

        RedisServerException oom = await FailsOverMaxmemoryAsync(() => queue.CompleteAsync(leased.Lease, Payload("answer")).AsTask());

        oom.Message.Should().Contain("OOM");
        (await queue.GetJobAsync(id))!.State.Should().Be(JobState.Active, "nothing of the completion was written: the job is still leased");
        (await queue.GetResultAsync(id)).Should().BeNull();
        (await PendingAsync("llm")).Should().Be(1, "its stream entry was not acknowledged");
        (await queue.CompleteAsync(leased.Lease, Payload("answer"))).Should().Be(LeaseResult.Succeeded, "the same lease completes once memory allows");
        Text((await queue.GetResultAsync(id))!).Should().Be("answer");
        (await PendingAsync("llm")).Should().Be(0);
    }

    private RedisStreamJobQueue Queue(IConnectionMultiplexer multiplexer, string group, Action<RedisStreamOptions>? stream = null)
    {
        var options = new RedisStreamOptions { Group = group };
        stream?.Invoke(options);
        return Own(new RedisStreamJobQueue(multiplexer, "orders", HourPoll, options));
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

    private async Task<long> PendingAsync(string group) => (await Database.StreamPendingAsync("{rq:orders}:stream", group)).PendingMessageCount;

    private static ReadOnlyMemory<byte> Payload(string text) => Encoding.UTF8.GetBytes(text);

    private static string Text(JobResult result) => Encoding.UTF8.GetString(result.Value.Span);
}
