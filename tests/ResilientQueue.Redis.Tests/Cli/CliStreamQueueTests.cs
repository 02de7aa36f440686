using FluentAssertions;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Cli;

/// <summary>
/// <c>resq</c> on queues of the stream backend: a row per consumer group in <c>queues</c>/<c>status</c>, and
/// <c>--group</c> to act as one group (its stale leases, dead letters, pause); a queue read by several groups needs it.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class CliStreamQueueTests(RedisServerFixture redis) : CliTestBase(redis)
{
    [Fact]
    public async Task Queues_AStreamQueue_HasARowPerGroup_TableAndJson()
    {
        await using (RedisStreamJobQueue a = Stream("orders", "a", ["a", "b"]))
        {
            await a.EnqueueManyAsync([new JobSubmission(Payload("{}")), new JobSubmission(Payload("{}")), new JobSubmission(Payload("{}"))]);
            (await a.FetchAsync(1, TimeSpan.FromMinutes(5))).Should().ContainSingle();
        }

        CliResult table = await ResqAsync("queues");
        CliResult json = await ResqAsync("queues", "--json");

        table.ExitCode.Should().Be(0, table.ToString());
        table.Stdout.Should().Contain("orders (group a)").And.Contain("orders (group b)");
        var rows = json.Json.GetProperty("queues").EnumerateArray().ToDictionary(q => q.GetProperty("group").GetString()!);
        rows.Keys.Should().Equal("a", "b");
        (rows["a"].GetProperty("ready").GetInt64(), rows["a"].GetProperty("active").GetInt64()).Should().Be((2, 1));
        (rows["b"].GetProperty("ready").GetInt64(), rows["b"].GetProperty("active").GetInt64()).Should().Be((3, 0));
        rows["a"].GetProperty("name").GetString().Should().Be("orders");
    }

    [Fact]
    public async Task Status_OfAQueueReadBySeveralGroups_NeedsGroup_AndNamesThem()
    {
        await using (RedisStreamJobQueue a = Stream("orders", "a", ["a", "b"]))
        {
            await a.EnqueueAsync(Payload("{}"));
        }

        CliResult without = await ResqAsync("status", "orders");
        CliResult with = await ResqAsync("status", "orders", "--group", "b", "--json");
        CliResult list = await ResqAsync("status", "emails", "--group", "b");

        without.ExitCode.Should().Be(2, without.ToString());
        without.Stderr.Should().Contain("groups a, b").And.Contain("--group");
        with.ExitCode.Should().Be(0, with.ToString());
        (with.Json.GetProperty("group").GetString(), with.Json.GetProperty("ready").GetInt64()).Should().Be(("b", 1));
        list.ExitCode.Should().Be(1, "'emails' does not exist");
    }

    [Fact]
    public async Task ReapDlqAndPause_ActOnTheNamedGroupOnly()
    {
        var time = HourAgo();
        string stale;
        string dead;
        await using (RedisStreamJobQueue a = Stream("orders", "a", ["a", "b"], time))
        {
            stale = (await a.EnqueueAsync(Payload("{\"n\":1}"))).JobId;
            dead = (await a.EnqueueAsync(Payload("{\"n\":2}"))).JobId;
            IReadOnlyList<LeasedJob> jobs = await a.FetchAsync(2, TimeSpan.FromMinutes(1));
            await a.FailAsync(jobs[1].Lease, new JobError("System.FormatException", "bad", ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison"));
        }

        CliResult reap = await ResqAsync("reap", "orders", "--group", "a", "--yes", "--json");
        CliResult dlq = await ResqAsync("dlq", "list", "orders", "--group", "a", "--json");
        CliResult otherDlq = await ResqAsync("dlq", "list", "orders", "--group", "b", "--json");
        CliResult pause = await ResqAsync("pause", "orders", "--group", "b");

        reap.ExitCode.Should().Be(0, reap.ToString());
        reap.Json.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()).Should().Equal(stale);
        dlq.Json.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("jobId").GetString()).Should().Equal(dead);
        otherDlq.Json.GetProperty("entries").GetArrayLength().Should().Be(0, "b's dead letters are its own");
        pause.ExitCode.Should().Be(0, pause.ToString());
        await using RedisStreamJobQueue b = Stream("orders", "b");
        await using RedisStreamJobQueue again = Stream("orders", "a");
        (await b.GetStatusAsync()).IsPaused.Should().BeTrue();
        (await again.GetStatusAsync()).Should().Match<QueueStatus>(s => !s.IsPaused && s.Ready == 1 && s.Dead == 1);
    }

    [Fact]
    public async Task Enqueue_OnAStreamQueue_ReachesEveryGroup_AndGroupOnAListQueue_IsAUsageError()
    {
        await using (RedisStreamJobQueue a = Stream("orders", "a", ["a", "b"]))
        {
            await a.EnqueueAsync(Payload("{}"));
        }

        using (var list = Queue("emails"))
        {
            await list.EnqueueAsync(Payload("{}"));
        }

        CliResult enqueue = await ResqAsync("enqueue", "orders", "--payload", "{\"n\":2}");
        CliResult listGroup = await ResqAsync("status", "emails", "--group", "a");

        enqueue.ExitCode.Should().Be(0, enqueue.ToString());
        await using RedisStreamJobQueue b = Stream("orders", "b");
        (await b.GetStatusAsync()).Ready.Should().Be(2);
        listGroup.ExitCode.Should().Be(2, listGroup.ToString());
        listGroup.Stderr.Should().Contain("not a stream queue");
    }

    private RedisStreamJobQueue Stream(string queue, string group, string[]? groups = null, TimeProvider? time = null) =>
        new(Redis.Multiplexer, queue, stream: new RedisStreamOptions { Group = group, Groups = groups ?? [] }, timeProvider: time);
}
