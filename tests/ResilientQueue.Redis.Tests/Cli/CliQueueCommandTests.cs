using System.Text;
using FluentAssertions;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Cli;

/// <summary><c>resq queues</c>, <c>status</c>, <c>pause</c>, <c>resume</c>, <c>enqueue</c> and <c>--help</c>.</summary>
[Collection(RedisCollection.Name)]
public sealed class CliQueueCommandTests(RedisServerFixture redis) : CliTestBase(redis)
{
    [Fact]
    public async Task Queues_Table_ListsEveryQueueWithItsCounts()
    {
        await SeedStaleAsync("orders");
        using (RedisListJobQueue emails = Queue("emails"))
        {
            await emails.EnqueueAsync(Payload("{}"));
            await emails.EnqueueAsync(Payload("{}"), new EnqueueOptions { Delay = TimeSpan.FromHours(1) });
            await emails.PauseAsync();
        }

        CliResult result = await ResqAsync("queues");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().ContainAll("Queue", "Ready", "Delayed", "Active", "Stale", "Dead", "Completed", "Paused", "DLQ trimmed", "orders", "emails");
        result.Stdout.Should().Contain("orders: 2 job(s) past their lease; see 'resq stale orders'");
        result.Stdout.Should().Contain("emails: paused");
        result.Stdout.IndexOf("emails", StringComparison.Ordinal).Should().BeLessThan(result.Stdout.IndexOf("orders", StringComparison.Ordinal), "queues are sorted by name");
        result.Stderr.Should().BeEmpty();
    }

    [Fact]
    public async Task Queues_Json_GivesEveryQueueWithCountsStalePausedAndTrims()
    {
        await SeedStaleAsync("orders");
        await SeedDeadLettersAsync("orders");
        using (RedisListJobQueue emails = Queue("emails"))
        {
            await emails.EnqueueAsync(Payload("{}"));
            await emails.PauseAsync();
        }

        CliResult result = await ResqAsync("queues", "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        var queues = result.Json.GetProperty("queues").EnumerateArray().ToDictionary(q => q.GetProperty("name").GetString()!);
        queues.Keys.Should().Equal("emails", "orders");
        queues["emails"].GetProperty("ready").GetInt64().Should().Be(1);
        queues["emails"].GetProperty("paused").GetBoolean().Should().BeTrue();
        queues["orders"].GetProperty("active").GetInt64().Should().Be(2);
        queues["orders"].GetProperty("dead").GetInt64().Should().Be(2);
        queues["orders"].GetProperty("depth").GetInt64().Should().Be(2);
        queues["orders"].GetProperty("stale").GetInt32().Should().Be(2);
        queues["orders"].GetProperty("staleCapped").GetBoolean().Should().BeFalse();
        queues["orders"].GetProperty("paused").GetBoolean().Should().BeFalse();
        queues["orders"].GetProperty("deadLetterTrimmed").GetInt64().Should().Be(0);
        queues["orders"].GetProperty("completed").GetInt64().Should().Be(0);
        queues["orders"].GetProperty("delayed").GetInt64().Should().Be(0);
    }

    [Fact]
    public async Task Queues_NoQueue_SaysSo()
    {
        CliResult table = await ResqAsync("queues");
        CliResult json = await ResqAsync("status", "--json");

        table.ExitCode.Should().Be(0);
        table.Stdout.Should().Contain("no queues found");
        json.Json.GetProperty("queues").GetArrayLength().Should().Be(0);
    }

    [Fact]
    public async Task Status_OneQueue_TableAndJson()
    {
        await SeedStaleAsync("orders");
        using (RedisListJobQueue q = Queue("orders"))
        {
            await q.EnqueueAsync(Payload("{}"), new EnqueueOptions { Delay = TimeSpan.FromHours(1) });
        }

        CliResult table = await ResqAsync("status", "orders");
        CliResult json = await ResqAsync("status", "orders", "--json");

        table.ExitCode.Should().Be(0, table.ToString());
        table.Stdout.Should().ContainAll("orders", "Stale", "past their lease");
        json.ExitCode.Should().Be(0, json.ToString());
        json.Json.GetProperty("name").GetString().Should().Be("orders");
        json.Json.GetProperty("delayed").GetInt64().Should().Be(1);
        json.Json.GetProperty("active").GetInt64().Should().Be(2);
        json.Json.GetProperty("stale").GetInt32().Should().Be(2);
    }

    [Fact]
    public async Task Status_MoreThan1000ExpiredLeases_IsCappedAs1000Plus()
    {
        using (RedisListJobQueue q = Queue("bulk", HourAgo()))
        {
            await q.EnqueueManyAsync(Enumerable.Range(0, 1000).Select(_ => new JobSubmission(Payload("{}"))).ToList());
            await q.EnqueueAsync(Payload("{}"));
            await q.FetchAsync(1000, TimeSpan.FromMinutes(1));
            await q.FetchAsync(1, TimeSpan.FromMinutes(1));
        }

        CliResult table = await ResqAsync("status", "bulk");
        CliResult json = await ResqAsync("status", "bulk", "--json");

        table.Stdout.Should().Contain("1000+");
        json.Json.GetProperty("stale").GetInt32().Should().Be(1000);
        json.Json.GetProperty("staleCapped").GetBoolean().Should().BeTrue();
        json.Json.GetProperty("active").GetInt64().Should().Be(1001);
    }

    [Fact]
    public async Task PauseAndResume_FlipThePausedFlag()
    {
        using (RedisListJobQueue q = Queue("orders"))
        {
            await q.EnqueueAsync(Payload("{}"));
        }

        CliResult pause = await ResqAsync("pause", "orders");
        (await StatusAsync("orders")).IsPaused.Should().BeTrue();
        CliResult pausedStatus = await ResqAsync("status", "orders", "--json");
        CliResult resume = await ResqAsync("resume", "orders", "--json");

        pause.ExitCode.Should().Be(0, pause.ToString());
        pause.Stdout.Should().Contain("queue 'orders' paused");
        pausedStatus.Json.GetProperty("paused").GetBoolean().Should().BeTrue();
        resume.ExitCode.Should().Be(0, resume.ToString());
        resume.Json.GetProperty("queue").GetString().Should().Be("orders");
        resume.Json.GetProperty("paused").GetBoolean().Should().BeFalse();
        (await StatusAsync("orders")).IsPaused.Should().BeFalse();
    }

    [Fact]
    public async Task Enqueue_ValidJson_EnqueuesItsUtf8Bytes()
    {
        const string payload = "{\"to\":\"zoë@example.com\"}";

        CliResult table = await ResqAsync("enqueue", "emails", "--payload", payload);
        CliResult json = await ResqAsync("enqueue", "emails", "--payload", payload, "--json");

        table.ExitCode.Should().Be(0, table.ToString());
        table.Stdout.Should().Contain("enqueued job").And.Contain("(a new queue)");
        json.ExitCode.Should().Be(0, json.ToString());
        json.Json.GetProperty("queue").GetString().Should().Be("emails");
        json.Json.GetProperty("duplicate").GetBoolean().Should().BeFalse();
        json.Json.GetProperty("createdQueue").GetBoolean().Should().BeFalse();
        string jobId = json.Json.GetProperty("jobId").GetString()!;
        using RedisListJobQueue q = Queue("emails");
        Job job = (await q.GetJobAsync(jobId))!;
        Encoding.UTF8.GetString(job.Payload.Span).Should().Be(payload);
        (await q.GetStatusAsync()).Ready.Should().Be(2);
    }

    [Fact]
    public async Task Enqueue_InvalidJson_IsAUsageErrorAndEnqueuesNothing()
    {
        CliResult result = await ResqAsync("enqueue", "emails", "--payload", "{\"to\":");

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().StartWith("error: --payload is not valid JSON");
        result.Stdout.Should().BeEmpty();
        (await Database.KeyExistsAsync("{rq:emails}:meta")).Should().BeFalse();
    }

    [Fact]
    public async Task Help_DocumentsDurationsExitCodesAndTheEnvironmentVariable()
    {
        CliResult result = await RunAsync(["--help"], string.Empty, stdinIsTerminal: false, environment: _ => null);

        result.ExitCode.Should().Be(0);
        result.Stdout.Should().ContainAll("Exit codes: 0 ok; 1 error", "2 usage", "30s, 5m, 2h, 1d, 1h30m", "RESQ_REDIS", "queues", "status", "stale", "reap", "dlq", "pause", "resume", "enqueue", "clear");
    }

    [Fact]
    public async Task RedisFromEnvironment_IsUsedWithoutTheOption()
    {
        using (RedisListJobQueue q = Queue("orders"))
        {
            await q.EnqueueAsync(Payload("{}"));
        }

        CliResult result = await RunAsync(["queues", "--json"], string.Empty, stdinIsTerminal: false, environment: name => name == "RESQ_REDIS" ? Redis.Configuration : null);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Json.GetProperty("queues")[0].GetProperty("name").GetString().Should().Be("orders");
    }
}
