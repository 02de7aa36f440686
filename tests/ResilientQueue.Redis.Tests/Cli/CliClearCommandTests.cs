using System.Text.Json;
using FluentAssertions;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Cli;

/// <summary><c>resq clear</c>: deletes a queue's jobs in every state and its state, with the destructive-command rules.</summary>
[Collection(RedisCollection.Name)]
public sealed class CliClearCommandTests(RedisServerFixture redis) : CliTestBase(redis)
{
    private const string ExpectedAction =
        "clear queue 'orders' for good (7 jobs: 1 ready, 1 delayed, 2 active, 2 dead, 1 completed; the workers holding the active ones lose their leases; " +
        "and its idempotency keys, paused flag and counters)";

    [Fact]
    public async Task Clear_WithYes_DeletesEveryJobInEveryStateAndTheQueueItself()
    {
        await SeedEveryStateAsync("orders");
        await SeedStaleAsync("other");

        CliResult result = await ResqAsync("clear", "orders", "--yes", "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        JsonElement doc = result.Json;
        doc.GetProperty("queue").GetString().Should().Be("orders");
        doc.GetProperty("removed").GetInt64().Should().Be(7);
        JsonElement before = doc.GetProperty("before");
        (before.GetProperty("ready").GetInt64(), before.GetProperty("delayed").GetInt64(), before.GetProperty("active").GetInt64(), before.GetProperty("dead").GetInt64(), before.GetProperty("completed").GetInt64())
            .Should().Be((1, 1, 2, 2, 1));
        before.GetProperty("jobs").GetInt64().Should().Be(7);
        before.GetProperty("paused").GetBoolean().Should().BeTrue();
        (await KeysOfAsync("orders")).Should().BeEmpty("no job, idempotency key, paused flag or counter of the queue is left");
        (await KeysOfAsync("other")).Should().NotBeEmpty("another queue is left alone");
        (await StatusAsync("other")).Active.Should().Be(2);
        CliResult queues = await ResqAsync("queues", "--json");
        queues.Json.GetProperty("queues").EnumerateArray().Select(q => q.GetProperty("name").GetString()).Should().Equal("other");
        using RedisListJobQueue q = Queue("orders");
        (await q.EnqueueAsync(Payload("{}"), new EnqueueOptions { IdempotencyKey = "order-1" })).Duplicate.Should().BeFalse("the idempotency keys went with the queue");
    }

    [Fact]
    public async Task Clear_StdinNotATerminalWithoutYes_RefusesNamingTheCountsByStateAndChangesNothing()
    {
        await SeedEveryStateAsync("orders");

        CliResult result = await ResqAsync("clear", "orders");

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Be($"error: refusing to {ExpectedAction} without --yes: standard input is not a terminal" + Environment.NewLine);
        result.Stdout.Should().BeEmpty();
        QueueStatus status = await StatusAsync("orders");
        (status.Ready, status.Delayed, status.Active, status.Dead, status.Completed, status.IsPaused).Should().Be((1, 1, 2, 2, 1, true));
    }

    [Theory]
    [InlineData("n\n", false)]
    [InlineData("\n", false)]
    [InlineData("yes\n", true)]
    public async Task Clear_TerminalStdin_ShowsTheCountsByStateAndClearsOnlyOnYes(string answer, bool done)
    {
        await SeedEveryStateAsync("orders");

        CliResult result = await RunAsync(["clear", "orders"], answer, stdinIsTerminal: true);

        result.Stderr.Should().StartWith($"Clear queue 'orders' for good (7 jobs: 1 ready, 1 delayed, 2 active, 2 dead, 1 completed; ");
        result.Stderr.Should().StartWith(char.ToUpperInvariant(ExpectedAction[0]) + ExpectedAction[1..] + "? [y/N] ");
        result.ExitCode.Should().Be(done ? 0 : 2, result.ToString());
        (await RedisJobQueues.ExistsAsync(Redis.Multiplexer, "orders")).Should().Be(!done);
        if (!done)
        {
            result.Stderr.Should().EndWith("error: aborted: nothing was changed" + Environment.NewLine);
            result.Stdout.Should().BeEmpty();
            (await StatusAsync("orders")).Dead.Should().Be(2);
        }
    }

    [Fact]
    public async Task Clear_Table_ShowsWhatTheQueueHeldAndWhatWasDeleted()
    {
        await SeedEveryStateAsync("orders");

        CliResult result = await ResqAsync("clear", "orders", "-y");

        result.ExitCode.Should().Be(0, result.ToString());
        string[] lines = result.Stdout.Split(Environment.NewLine);
        lines.Should().Contain(l => l.Contains("Queue", StringComparison.Ordinal) && l.Contains("Ready", StringComparison.Ordinal) && l.Contains("Delayed", StringComparison.Ordinal)
            && l.Contains("Active", StringComparison.Ordinal) && l.Contains("Dead", StringComparison.Ordinal) && l.Contains("Completed", StringComparison.Ordinal) && l.Contains("Paused", StringComparison.Ordinal));
        lines.Should().Contain(l => Cells(l).SequenceEqual(new[] { "orders", "1", "1", "2", "2", "1", "yes" }));
        result.Stdout.Should().EndWith("cleared queue 'orders': deleted 7 jobs and its idempotency keys, paused flag and counters; it no longer exists until a job is enqueued" + Environment.NewLine);
        result.Stderr.Should().BeEmpty();
    }

    [Fact]
    public async Task Clear_AnEmptyQueue_StillAsksAndDeletesItsState()
    {
        using (RedisListJobQueue q = Queue("orders"))
        {
            await q.PauseAsync();
        }

        CliResult refused = await ResqAsync("clear", "orders");
        CliResult cleared = await ResqAsync("clear", "orders", "--yes", "--json");

        refused.ExitCode.Should().Be(2);
        refused.Stderr.Should().Contain("clear queue 'orders' for good (0 jobs: 0 ready, 0 delayed, 0 active, 0 dead, 0 completed; and its idempotency keys, paused flag and counters)");
        cleared.ExitCode.Should().Be(0, cleared.ToString());
        cleared.Json.GetProperty("removed").GetInt64().Should().Be(0);
        cleared.Json.GetProperty("before").GetProperty("paused").GetBoolean().Should().BeTrue();
        (await KeysOfAsync("orders")).Should().BeEmpty();
    }

    /// <summary>
    /// One ready job (with the idempotency key <c>order-1</c>), one delayed, two active, two dead, one completed; paused.
    /// </summary>
    private async Task SeedEveryStateAsync(string queue)
    {
        await SeedStaleAsync(queue);
        await SeedDeadLettersAsync(queue);
        using var q = new RedisListJobQueue(Redis.Multiplexer, queue, new JobQueueOptions { CompletedRetention = 10 });
        await q.EnqueueAsync(Payload("{\"done\":true}"));
        LeasedJob done = (await q.FetchAsync(1, TimeSpan.FromMinutes(1))).Single();
        (await q.AckAsync(done.Lease)).Should().Be(LeaseResult.Succeeded);
        await q.EnqueueAsync(Payload("{}"), new EnqueueOptions { IdempotencyKey = "order-1" });
        await q.EnqueueAsync(Payload("{}"), new EnqueueOptions { Delay = TimeSpan.FromHours(1) });
        await q.PauseAsync();
        QueueStatus status = await q.GetStatusAsync();
        (status.Ready, status.Delayed, status.Active, status.Dead, status.Completed).Should().Be((1, 1, 2, 2, 1));
    }

    private async Task<IReadOnlyList<string>> KeysOfAsync(string queue)
    {
        IServer server = Redis.Multiplexer.GetServers().Single();
        var keys = new List<string>();
        await foreach (RedisKey key in server.KeysAsync(Database.Database, "{rq:" + queue + "}*"))
        {
            keys.Add(key.ToString());
        }

        return keys;
    }

    private static string[] Cells(string line) => [.. line.Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(c => c.Length > 0)];
}
