using FluentAssertions;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;
using ResilientQueue.Results;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary>
/// The keys a stream queue leaves on the server are exactly the documented layout (RedisStreamKeys, the notes at the
/// top of <c>_streams.lua</c>, docs/redis-keys.md), each of its documented type, all in the queue's one slot.
/// </summary>
public sealed class RedisStreamKeyLayoutTests(RedisServerFixture redis) : StreamTestBase(redis)
{
    [Fact]
    public void RedisStreamKeys_OrdersAndBilling_BuildExactlyTheDocumentedNames()
    {
        var keys = new RedisStreamKeys("orders", "billing");

        keys.Prefix.Should().Be("{rq:orders}:");
        keys.GroupPrefix.Should().Be("{rq:orders}:g:billing:");
        new[]
        {
            keys.Meta, keys.Stream, keys.Entries, keys.Delayed, keys.Groups, keys.GroupMeta, keys.Ready, keys.GroupDelayed,
            keys.Active, keys.Lease, keys.Attempts, keys.Dead, keys.Completed, keys.Idempotency("k"), keys.Turn("reaper"), keys.Result("42"),
        }.Select(k => (string?)k).Should().Equal(
            "{rq:orders}:meta", "{rq:orders}:stream", "{rq:orders}:entries", "{rq:orders}:delayed", "{rq:orders}:groups",
            "{rq:orders}:g:billing:meta", "{rq:orders}:g:billing:ready", "{rq:orders}:g:billing:delayed",
            "{rq:orders}:g:billing:active", "{rq:orders}:g:billing:lease", "{rq:orders}:g:billing:attempts",
            "{rq:orders}:g:billing:dead", "{rq:orders}:g:billing:completed", "{rq:orders}:idem:k", "{rq:orders}:g:billing:turn:reaper",
            "{rq:orders}:g:billing:result:42");
        keys.NotifyChannelName.Should().Be("{rq:orders}:notify", "the list backend's channel name: one queue, one channel");
        keys.DoneChannel.Should().Be(RedisChannel.Literal("{rq:orders}:g:billing:done"), "each group stores and announces its own results");
    }

    [Fact]
    public async Task Keys_AfterALifeCycleInTwoGroups_AreExactlyTheDocumentedLayoutWithTheirTypes_InOneSlot()
    {
        RedisStreamJobQueue billing = Queue("billing", s => s.Groups = ["billing", "audit"], options: new JobQueueOptions { CompletedRetention = 10 });
        RedisStreamJobQueue audit = Queue("audit");
        IReadOnlyList<EnqueueResult> first = await billing.EnqueueManyAsync(
        [
            new JobSubmission(Payload("A"), new EnqueueOptions { IdempotencyKey = "order-42" }),
            new JobSubmission(Payload("B")),
            new JobSubmission(Payload("C")),
        ]);
        EnqueueResult later = await billing.EnqueueAsync(Payload("D"), new EnqueueOptions { Delay = TimeSpan.FromHours(1) });

        // billing: A completed with a result (kept), B dead, C active and started with a checkpoint. audit: A retried later, B released.
        IReadOnlyList<LeasedJob> inBilling = await billing.FetchAsync(3, Lease);
        await billing.CompleteAsync(inBilling[0].Lease, Payload("paid"));
        await billing.FailAsync(inBilling[1].Lease, new JobError("JsonException", "bad", ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison"));
        await billing.MarkStartedManyAsync([inBilling[2].Lease]);
        await billing.SaveCheckpointAsync(inBilling[2].Lease, Payload("page=2"));
        (await billing.TryClaimTurnAsync("reaper", "me", TimeSpan.FromMinutes(1))).Should().BeTrue();
        IReadOnlyList<LeasedJob> inAudit = await audit.FetchAsync(2, Lease);
        await audit.FailAsync(inAudit[0].Lease, new JobError("TimeoutException", "slow", ErrorCategory.Transient), RecoveryDecision.Retry(TimeSpan.FromMinutes(1)));
        await audit.ReleaseAsync(inAudit[1].Lease);

        (string a, string b, string c) = (first[0].JobId, first[1].JobId, first[2].JobId);
        var expected = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["{rq:orders}:meta"] = "hash",
            ["{rq:orders}:stream"] = "stream",
            ["{rq:orders}:entries"] = "hash",
            ["{rq:orders}:delayed"] = "zset",
            ["{rq:orders}:groups"] = "hash",
            ["{rq:orders}:idem:order-42"] = "string",
            ["{rq:orders}:job:" + later.JobId] = "string",
            ["{rq:orders}:g:billing:meta"] = "hash",
            ["{rq:orders}:g:billing:active"] = "zset",
            ["{rq:orders}:g:billing:lease"] = "hash",
            ["{rq:orders}:g:billing:attempts"] = "hash",
            ["{rq:orders}:g:billing:started"] = "hash",
            ["{rq:orders}:g:billing:dead"] = "zset",
            ["{rq:orders}:g:billing:completed"] = "zset",
            ["{rq:orders}:g:billing:turn:reaper"] = "string",
            ["{rq:orders}:g:billing:result:" + a] = "string",
            ["{rq:orders}:g:billing:x:" + a] = "hash",
            ["{rq:orders}:g:billing:job:" + a] = "string",
            ["{rq:orders}:g:billing:x:" + b] = "hash",
            ["{rq:orders}:g:billing:job:" + b] = "string",
            ["{rq:orders}:g:billing:x:" + c] = "hash",
            ["{rq:orders}:g:audit:meta"] = "hash",
            ["{rq:orders}:g:audit:ready"] = "list",
            ["{rq:orders}:g:audit:delayed"] = "zset",
            ["{rq:orders}:g:audit:lease"] = "hash",
            ["{rq:orders}:g:audit:attempts"] = "hash",
            ["{rq:orders}:g:audit:x:" + a] = "hash",
            ["{rq:orders}:g:audit:x:" + b] = "hash",
        };

        Dictionary<string, string> actual = await KeysWithTypesAsync();

        actual.Should().BeEquivalentTo(expected);
        actual.Keys.Should().OnlyContain(key => RedisClusterSlot.Of(key) == RedisClusterSlot.Of("{rq:orders}"));
    }

    /// <summary>Every key on the server (SCAN over database 0, which the test had to itself) with its TYPE.</summary>
    private async Task<Dictionary<string, string>> KeysWithTypesAsync()
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        IServer server = Redis.Multiplexer.GetServers()[0];
        await foreach (RedisKey key in server.KeysAsync(pattern: "*", pageSize: 1000))
        {
            types[key.ToString()] = (string?)await Database.ExecuteAsync("TYPE", key) ?? string.Empty;
        }

        return types;
    }
}
