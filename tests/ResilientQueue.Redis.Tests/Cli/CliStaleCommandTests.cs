using System.Text.Json;
using FluentAssertions;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Cli;

/// <summary><c>resq stale</c> and <c>resq reap</c>, with their confirmation.</summary>
[Collection(RedisCollection.Name)]
public sealed class CliStaleCommandTests(RedisServerFixture redis) : CliTestBase(redis)
{
    [Fact]
    public async Task Stale_Table_ListsJobsPastTheirLeaseAndWhatAReapWouldDo()
    {
        (string requeue, string deadLetter) = await SeedStaleAsync("orders");

        CliResult result = await ResqAsync("stale", "orders");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().ContainAll("Job ID", "Attempts", "Lease expired at", "Stale for", "Reap would", requeue, deadLetter, "1/3", "1/1", "requeue", "dead-letter", "59m");
        result.Stdout.Should().Contain("2 job(s) past their lease: 1 would be requeued, 1 dead-lettered");
        result.Stdout.Should().Contain("resq reap orders");
        (await StatusAsync("orders")).Active.Should().Be(2, "stale changes nothing");
    }

    [Fact]
    public async Task Stale_Json_GivesEveryJobAndHonoursOlderThan()
    {
        (string requeue, string deadLetter) = await SeedStaleAsync("orders");

        CliResult all = await ResqAsync("stale", "orders", "--older-than", "30m", "--json");
        CliResult none = await ResqAsync("stale", "orders", "--older-than", "1h30m", "--json");

        all.ExitCode.Should().Be(0, all.ToString());
        JsonElement doc = all.Json;
        doc.GetProperty("queue").GetString().Should().Be("orders");
        doc.GetProperty("dryRun").GetBoolean().Should().BeTrue();
        doc.GetProperty("olderThanSeconds").GetDouble().Should().Be(1800);
        doc.GetProperty("count").GetInt32().Should().Be(2);
        doc.GetProperty("requeued").GetInt32().Should().Be(1);
        doc.GetProperty("deadLettered").GetInt32().Should().Be(1);
        doc.GetProperty("capped").GetBoolean().Should().BeFalse();
        JsonElement[] jobs = [.. doc.GetProperty("jobs").EnumerateArray()];
        jobs.Select(j => j.GetProperty("jobId").GetString()).Should().Equal(requeue, deadLetter);
        jobs[0].GetProperty("attempts").GetInt32().Should().Be(1);
        jobs[0].GetProperty("maxAttempts").GetInt32().Should().Be(3);
        jobs[0].GetProperty("action").GetString().Should().Be("Requeued");
        jobs[1].GetProperty("action").GetString().Should().Be("DeadLettered");
        jobs[0].GetProperty("staleForSeconds").GetDouble().Should().BeInRange(3400, 3600);
        jobs[0].GetProperty("leaseExpiredAt").GetDateTimeOffset().Should().BeCloseTo(DateTimeOffset.UtcNow.AddMinutes(-59), TimeSpan.FromMinutes(1));
        none.Json.GetProperty("count").GetInt32().Should().Be(0);
    }

    [Fact]
    public async Task Reap_DryRun_ShowsWhatWouldHappenAndChangesNothing()
    {
        await SeedStaleAsync("orders");

        CliResult table = await ResqAsync("reap", "orders", "--dry-run");
        CliResult json = await ResqAsync("reap", "orders", "--dry-run", "--json");

        table.ExitCode.Should().Be(0, table.ToString());
        table.Stdout.Should().Contain("dry run, nothing changed: 2 job(s) would be taken back: 1 requeued, 1 dead-lettered");
        json.Json.GetProperty("dryRun").GetBoolean().Should().BeTrue();
        json.Json.GetProperty("count").GetInt32().Should().Be(2);
        (await StatusAsync("orders")).Active.Should().Be(2);
    }

    [Fact]
    public async Task Reap_StdinNotATerminalWithoutYes_RefusesWithExitCode2AndChangesNothing()
    {
        await SeedStaleAsync("orders");

        CliResult result = await ResqAsync("reap", "orders");

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Be("error: refusing to reap 2 expired lease(s) of queue 'orders' (1 to requeue, 1 to dead-letter) without --yes: standard input is not a terminal" + Environment.NewLine);
        result.Stdout.Should().BeEmpty();
        QueueStatus status = await StatusAsync("orders");
        status.Active.Should().Be(2);
        status.Dead.Should().Be(0);
    }

    [Fact]
    public async Task Reap_WithYes_TakesBackEveryExpiredLease()
    {
        (string requeue, string deadLetter) = await SeedStaleAsync("orders");

        CliResult result = await ResqAsync("reap", "orders", "--yes", "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Json.GetProperty("dryRun").GetBoolean().Should().BeFalse();
        result.Json.GetProperty("requeued").GetInt32().Should().Be(1);
        result.Json.GetProperty("deadLettered").GetInt32().Should().Be(1);
        result.Json.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()).Should().Equal(requeue, deadLetter);
        QueueStatus status = await StatusAsync("orders");
        (status.Active, status.Ready, status.Dead).Should().Be((0, 1, 1));
    }

    [Fact]
    public async Task Reap_Table_ReportsWhatWasDone()
    {
        await SeedStaleAsync("orders");

        CliResult result = await ResqAsync("reap", "orders", "-y");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().ContainAll("Done", "requeued", "dead-lettered", "reaped 2 job(s) of queue 'orders': 1 requeued, 1 dead-lettered");
    }

    [Theory]
    [InlineData("n\n", false)]
    [InlineData("\n", false)]
    [InlineData("y\n", true)]
    [InlineData("YES\n", true)]
    public async Task Reap_TerminalStdin_AsksAndDoesItOnlyOnYes(string answer, bool done)
    {
        await SeedStaleAsync("orders");

        CliResult result = await RunAsync(["reap", "orders"], answer, stdinIsTerminal: true);

        result.Stderr.Should().StartWith("Reap 2 expired lease(s) of queue 'orders' (1 to requeue, 1 to dead-letter)? [y/N] ");
        result.ExitCode.Should().Be(done ? 0 : 2, result.ToString());
        (await StatusAsync("orders")).Active.Should().Be(done ? 0 : 2);
        if (!done)
        {
            result.Stderr.Should().EndWith("error: aborted: nothing was changed" + Environment.NewLine);
        }
    }

    [Fact]
    public async Task Reap_MoreThanOneBatch_LoopsUntilEveryExpiredLeaseIsBack()
    {
        using (RedisListJobQueue q = Queue("bulk", HourAgo()))
        {
            await q.EnqueueManyAsync(Enumerable.Range(0, 1000).Select(_ => new JobSubmission(Payload("{}"))).ToList());
            await q.EnqueueManyAsync(Enumerable.Range(0, 5).Select(_ => new JobSubmission(Payload("{}"))).ToList());
            await q.FetchAsync(1000, TimeSpan.FromMinutes(1));
            await q.FetchAsync(5, TimeSpan.FromMinutes(1));
        }

        CliResult result = await ResqAsync("reap", "bulk", "--yes", "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Json.GetProperty("count").GetInt32().Should().Be(1005);
        result.Json.GetProperty("capped").GetBoolean().Should().BeFalse();
        QueueStatus status = await StatusAsync("bulk");
        (status.Active, status.Ready).Should().Be((0, 1005));
    }

    [Fact]
    public async Task Reap_NothingExpired_SaysSoWithoutAsking()
    {
        using (RedisListJobQueue q = Queue("orders"))
        {
            await q.EnqueueAsync(Payload("{}"));
            await q.FetchAsync(1, TimeSpan.FromMinutes(5));
        }

        CliResult result = await ResqAsync("reap", "orders");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().Contain("nothing to reap");
        (await StatusAsync("orders")).Active.Should().Be(1);
    }
}
