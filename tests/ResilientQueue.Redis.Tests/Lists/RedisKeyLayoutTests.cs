using System.Text;
using FluentAssertions;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// The keys a queue leaves on the server are exactly the documented layout (RedisKeys and the storage notes at the top
/// of <c>_common.lua</c>), each of its documented type, and nothing else:
/// <list type="table">
/// <item><term><c>{rq:q}:meta</c></term><description>hash: paused flag, counters</description></item>
/// <item><term><c>{rq:q}:ready</c></term><description>list of priority-0 ids</description></item>
/// <item><term><c>{rq:q}:prio</c>, <c>:delayed</c>, <c>:active</c>, <c>:dead</c>, <c>:completed</c></term><description>zsets (only while non-empty: Redis deletes empty ones)</description></item>
/// <item><term><c>{rq:q}:lease</c>, <c>{rq:q}:attempts</c></term><description>hashes id → token / attempts (kept with a sentinel field)</description></item>
/// <item><term><c>{rq:q}:job:&lt;id&gt;</c></term><description>string: the immutable envelope, one per live job</description></item>
/// <item><term><c>{rq:q}:x:&lt;id&gt;</c></term><description>hash: the mutable fields, only for a job that has one</description></item>
/// <item><term><c>{rq:q}:idem:&lt;key&gt;</c></term><description>string: an idempotency key</description></item>
/// </list>
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisKeyLayoutTests(RedisServerFixture redis) : RedisTestBase(redis)
{
    private const string Queue = "orders";
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    [Fact]
    public void RedisKeys_QueueOrders_BuildsExactlyTheDocumentedNames()
    {
        var keys = new RedisKeys(Queue);

        keys.Prefix.Should().Be("{rq:orders}:");
        ((string?)keys.Meta).Should().Be("{rq:orders}:meta");
        ((string?)keys.Ready).Should().Be("{rq:orders}:ready");
        ((string?)keys.Priority).Should().Be("{rq:orders}:prio");
        ((string?)keys.Delayed).Should().Be("{rq:orders}:delayed");
        ((string?)keys.Active).Should().Be("{rq:orders}:active");
        ((string?)keys.Dead).Should().Be("{rq:orders}:dead");
        ((string?)keys.Completed).Should().Be("{rq:orders}:completed");
        ((string?)keys.Lease).Should().Be("{rq:orders}:lease");
        ((string?)keys.Attempts).Should().Be("{rq:orders}:attempts");
        ((string?)keys.Job("0192f3a4")).Should().Be("{rq:orders}:job:0192f3a4");
        ((string?)keys.Extra("0192f3a4")).Should().Be("{rq:orders}:x:0192f3a4");
        ((string?)keys.Idempotency("order-42")).Should().Be("{rq:orders}:idem:order-42");
        keys.NotifyChannelName.Should().Be("{rq:orders}:notify");
        ((string?)keys.NotifyChannel).Should().Be("{rq:orders}:notify");
        (keys.Prefix + RedisKeys.MetaSuffix).Should().Be("{rq:orders}:meta", "scripts find the prefix by cutting the meta suffix off KEYS[1]");
    }

    [Fact]
    public void RedisKeys_FixedKeys_AreExactlyTheDocumentedStructures()
    {
        var keys = new RedisKeys(Queue);

        // Every RedisKey property: a new structure must be added to the documented layout (and to this test) too.
        var fixedKeys = typeof(RedisKeys).GetProperties()
            .Where(property => property.PropertyType == typeof(RedisKey))
            .Select(property => (string?)(RedisKey)property.GetValue(keys)!)
            .ToList();

        fixedKeys.Should().BeEquivalentTo(FixedKeyTypes.Keys);
        fixedKeys.Should().OnlyContain(key => RedisClusterSlot.Of(key!) == RedisClusterSlot.Of("{rq:orders}"));
    }

    [Fact]
    public async Task Keys_AfterAFullLifeCycle_AreExactlyTheDocumentedLayoutWithTheirTypes()
    {
        await using var queue = new RedisListJobQueue(Redis.Multiplexer, Queue, new JobQueueOptions { CompletedRetention = 10 });

        // Ready jobs, one with an idempotency key; all three fetched: A completed, B dead, C still active.
        var first = await queue.EnqueueManyAsync(
        [
            new JobSubmission(Payload("A"), new EnqueueOptions { IdempotencyKey = "order-42" }),
            new JobSubmission(Payload("B")),
            new JobSubmission(Payload("C")),
        ]);
        var leased = await queue.FetchAsync(3, Lease);
        leased.Select(job => job.Job.Id).Should().Equal(first.Select(result => result.JobId));
        (await queue.AckAsync(leased[0].Lease)).Should().Be(LeaseResult.Succeeded);
        (await queue.FailAsync(leased[1].Lease, new JobError("JsonException", "bad", ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison")))
            .Outcome.Should().Be(FailOutcome.DeadLettered);

        // Then D ready, E ready at priority 7, F delayed, and a duplicate of A (which adds nothing).
        var d = await queue.EnqueueAsync(Payload("D"));
        var e = await queue.EnqueueAsync(Payload("E"), new EnqueueOptions { Priority = 7 });
        var f = await queue.EnqueueAsync(Payload("F"), new EnqueueOptions { Delay = TimeSpan.FromHours(1) });
        (await queue.EnqueueAsync(Payload("A again"), new EnqueueOptions { IdempotencyKey = "order-42" })).Should().Be(first[0] with { Outcome = EnqueueOutcome.Duplicate });
        var status = await queue.GetStatusAsync();
        (status.Ready, status.Delayed, status.Active, status.Dead, status.Completed).Should().Be((2L, 1L, 1L, 1L, 1L));

        var (a, b, c) = (first[0].JobId, first[1].JobId, leased[2].Job.Id);
        var expected = new Dictionary<string, string>(FixedKeyTypes)
        {
            ["{rq:orders}:idem:order-42"] = "string",
        };
        foreach (var id in new[] { a, b, c, d.JobId, e.JobId, f.JobId })
        {
            expected["{rq:orders}:job:" + id] = "string";
        }

        // Only jobs with a mutable field have an x hash: A (completed at), B (dead-letter fields, last error), F (due time).
        foreach (var id in new[] { a, b, f.JobId })
        {
            expected["{rq:orders}:x:" + id] = "hash";
        }

        var actual = await KeysWithTypesAsync();

        actual.Should().BeEquivalentTo(expected);
    }

    [Fact]
    public async Task Keys_AfterEveryJobIsGone_OnlyMetaLeaseAttemptsAndIdempotencyKeysRemain()
    {
        await using var queue = new RedisListJobQueue(Redis.Multiplexer, Queue, new JobQueueOptions());
        await queue.EnqueueAsync(Payload("acked"), new EnqueueOptions { IdempotencyKey = "order-7", Priority = 3 });
        await queue.EnqueueAsync(Payload("dead"));
        await queue.EnqueueAsync(Payload("skipped"), new EnqueueOptions { Delay = TimeSpan.FromMilliseconds(1) });
        var error = new JobError("InvalidOperationException", "boom", ErrorCategory.Unknown);

        // Fetch all three (the delayed one once due), then complete, dead-letter (and purge) and skip them.
        var leased = new List<LeasedJob>();
        for (var tries = 0; leased.Count < 3; tries++)
        {
            tries.Should().BeLessThan(200, "the 1 ms delay should pass");
            leased.AddRange(await queue.FetchAsync(3, Lease));
            await Task.Delay(TimeSpan.FromMilliseconds(5));
        }

        var byText = leased.ToDictionary(job => Encoding.UTF8.GetString(job.Job.Payload.Span), job => job.Lease);
        (await queue.AckAsync(byText["acked"])).Should().Be(LeaseResult.Succeeded);
        (await queue.FailAsync(byText["dead"], error, RecoveryDecision.DeadLetter("poison"))).Outcome.Should().Be(FailOutcome.DeadLettered);
        (await queue.DeadLetters.PurgeAllAsync()).Should().Be(1);
        (await queue.FailAsync(byText["skipped"], error, RecoveryDecision.Skip("obsolete"))).Outcome.Should().Be(FailOutcome.Removed);

        var actual = await KeysWithTypesAsync();

        actual.Should().BeEquivalentTo(new Dictionary<string, string>
        {
            ["{rq:orders}:meta"] = "hash",
            ["{rq:orders}:lease"] = "hash",
            ["{rq:orders}:attempts"] = "hash",
            ["{rq:orders}:idem:order-7"] = "string",
        }, "empty lists and sorted sets are deleted by Redis, and every job's own keys are deleted with it");

        // The lease and attempts hashes hold no job any more, only their encoding sentinel (a field no job id can be).
        foreach (var key in new[] { "{rq:orders}:lease", "{rq:orders}:attempts" })
        {
            var fields = (await Database.HashKeysAsync(key)).Select(field => (string?)field).ToList();
            fields.Should().OnlyContain(field => field != null && field.StartsWith('~'), $"{key} should hold no job");
        }
    }

    /// <summary>The structures of a queue named "orders" and their types (whether each exists depends on its content).</summary>
    private static Dictionary<string, string> FixedKeyTypes => new()
    {
        ["{rq:orders}:meta"] = "hash",
        ["{rq:orders}:ready"] = "list",
        ["{rq:orders}:prio"] = "zset",
        ["{rq:orders}:delayed"] = "zset",
        ["{rq:orders}:active"] = "zset",
        ["{rq:orders}:dead"] = "zset",
        ["{rq:orders}:completed"] = "zset",
        ["{rq:orders}:lease"] = "hash",
        ["{rq:orders}:attempts"] = "hash",
    };

    /// <summary>Every key on the server (SCAN over database 0, which the test had to itself) with its TYPE.</summary>
    private async Task<Dictionary<string, string>> KeysWithTypesAsync()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var cursor = "0";
        for (var pages = 0; pages == 0 || cursor != "0"; pages++)
        {
            pages.Should().BeLessThan(1000, "SCAN should finish");
            var reply = (RedisResult[]?)await Database.ExecuteAsync("SCAN", cursor, "COUNT", "1000");
            reply.Should().NotBeNull().And.HaveCount(2);
            cursor = (string?)reply![0] ?? "0";
            foreach (var key in (RedisResult[]?)reply[1] ?? [])
            {
                keys.Add((string?)key ?? string.Empty);
            }
        }

        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            types[key] = (string?)await Database.ExecuteAsync("TYPE", key) ?? string.Empty;
        }

        return types;
    }

    private static ReadOnlyMemory<byte> Payload(string text) => Encoding.UTF8.GetBytes(text);
}
