using System.Text.Json;
using FluentAssertions;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Cli;

/// <summary><c>resq dlq list | show | requeue | purge</c>.</summary>
[Collection(RedisCollection.Name)]
public sealed class CliDeadLetterCommandTests(RedisServerFixture redis) : CliTestBase(redis)
{
    [Fact]
    public async Task List_Table_ShowsEntriesNewestFirst()
    {
        (string old, string recent) = await SeedDeadLettersAsync("orders");

        CliResult result = await ResqAsync("dlq", "list", "orders");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().ContainAll("Job ID", "Dead-lettered at", "Age", "Category", "Attempts", "Reason", "poison order", "Validation", "Transient", "1/5", "1/1", "2 entries, newest first");
        result.Stdout.IndexOf(recent, StringComparison.Ordinal).Should().BeLessThan(result.Stdout.IndexOf(old, StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_Json_FiltersByCategoryAndAgeAndPagesWithTheCursor()
    {
        (string old, string recent) = await SeedDeadLettersAsync("orders");

        CliResult validation = await ResqAsync("dlq", "list", "orders", "--category", "validation", "--json");
        CliResult olderThan = await ResqAsync("dlq", "list", "orders", "--older-than", "30m", "--json");
        CliResult first = await ResqAsync("dlq", "list", "orders", "--limit", "1", "--json");
        string cursor = first.Json.GetProperty("nextCursor").GetString()!;
        CliResult second = await ResqAsync("dlq", "list", "orders", "--limit", "1", "--cursor", cursor, "--json");

        validation.ExitCode.Should().Be(0, validation.ToString());
        JsonElement entry = validation.Json.GetProperty("entries").EnumerateArray().Single();
        entry.GetProperty("jobId").GetString().Should().Be(old);
        entry.GetProperty("category").GetString().Should().Be("Validation");
        entry.GetProperty("reason").GetString().Should().Be("poison order");
        entry.GetProperty("attempts").GetInt32().Should().Be(1);
        entry.GetProperty("maxAttempts").GetInt32().Should().Be(5);
        entry.GetProperty("lastError").GetString().Should().Be("System.FormatException: order total is not a number");
        entry.GetProperty("ageSeconds").GetDouble().Should().BeInRange(3500, 3700);
        entry.GetProperty("deadLetteredAt").GetDateTimeOffset().Should().BeCloseTo(DateTimeOffset.UtcNow.AddHours(-1), TimeSpan.FromMinutes(1));
        entry.GetProperty("enqueuedAt").GetDateTimeOffset().Should().BeCloseTo(DateTimeOffset.UtcNow.AddHours(-1), TimeSpan.FromMinutes(1));
        validation.Json.GetProperty("count").GetInt32().Should().Be(1);
        validation.Json.GetProperty("nextCursor").ValueKind.Should().Be(JsonValueKind.Null);
        olderThan.Json.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("jobId").GetString()).Should().Equal(old);
        first.Json.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("jobId").GetString()).Should().Equal(recent);
        second.Json.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("jobId").GetString()).Should().Equal(old);
        second.Json.GetProperty("queue").GetString().Should().Be("orders");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    public async Task List_LimitOutOfRange_IsAUsageError(string limit)
    {
        CliResult result = await ResqAsync("dlq", "list", "orders", "--limit", limit);

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().Be($"error: --limit must be from 1 to 1000, was {limit} (see 'resq dlq list --help')" + Environment.NewLine);
        result.Stdout.Should().BeEmpty();
    }

    [Fact]
    public async Task List_UnknownCategoryOrCursor_IsAUsageError()
    {
        await SeedDeadLettersAsync("orders");

        CliResult category = await ResqAsync("dlq", "list", "orders", "--category", "bogus");
        CliResult cursor = await ResqAsync("dlq", "list", "orders", "--cursor", "nonsense");

        category.ExitCode.Should().Be(2);
        category.Stderr.Should().Contain("unknown category 'bogus' for --category: use one of Unknown, Transient, RateLimited, Auth, Validation, Database, LeaseExpired");
        cursor.ExitCode.Should().Be(2);
        cursor.Stderr.Should().Contain("invalid --cursor 'nonsense'");
    }

    [Fact]
    public async Task Show_Table_GivesTheWholeHistoryAndThePayload()
    {
        (string old, _) = await SeedDeadLettersAsync("orders");

        CliResult result = await ResqAsync("dlq", "show", "orders", old);

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().ContainAll(
            old, "Queue", "orders", "Reason", "poison order", "Category", "Validation", "Attempts", "1/5", "First failure", "Last failure",
            "System.FormatException: order total is not a number", "corr-1", "failures (first and most recent", "payload (utf8):", "{\"order\":1}");
    }

    [Fact]
    public async Task Show_Json_GivesEveryFieldAndABinaryPayloadAsBase64()
    {
        string jobId;
        using (RedisListJobQueue q = Queue("files"))
        {
            await q.EnqueueAsync(new byte[] { 0, 1, 2, 255 }, new EnqueueOptions { MaxAttempts = 2 });
            LeasedJob first = (await q.FetchAsync(1, TimeSpan.FromMinutes(1))).Single();
            await q.FailAsync(first.Lease, new JobError("System.IO.IOException", "disk full", ErrorCategory.Transient), RecoveryDecision.Retry(TimeSpan.Zero));
            LeasedJob second = (await q.FetchAsync(1, TimeSpan.FromMinutes(1))).Single();
            await q.FailAsync(second.Lease, new JobError("System.IO.IOException", "disk still full", ErrorCategory.Database), RecoveryDecision.Retry(TimeSpan.Zero));
            jobId = second.Job.Id;
        }

        CliResult result = await ResqAsync("dlq", "show", "files", jobId, "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        JsonElement doc = result.Json;
        doc.GetProperty("jobId").GetString().Should().Be(jobId);
        doc.GetProperty("queue").GetString().Should().Be("files");
        doc.GetProperty("category").GetString().Should().Be("Database");
        doc.GetProperty("attempts").GetInt32().Should().Be(2);
        doc.GetProperty("maxAttempts").GetInt32().Should().Be(2);
        doc.GetProperty("lastError").GetString().Should().Be("System.IO.IOException: disk still full");
        doc.GetProperty("lastErrorCategory").GetString().Should().Be("Database");
        JsonElement[] failures = [.. doc.GetProperty("failures").EnumerateArray()];
        failures.Select(f => f.GetProperty("error").GetString()).Should().Equal("System.IO.IOException: disk full", "System.IO.IOException: disk still full");
        failures.Select(f => f.GetProperty("attempt").GetInt32()).Should().Equal(1, 2);
        failures.Select(f => f.GetProperty("category").GetString()).Should().Equal("Transient", "Database");
        doc.GetProperty("firstFailureAt").GetDateTimeOffset().Should().Be(failures[0].GetProperty("at").GetDateTimeOffset());
        doc.GetProperty("lastFailureAt").GetDateTimeOffset().Should().Be(failures[1].GetProperty("at").GetDateTimeOffset());
        doc.GetProperty("reason").GetString().Should().NotBeNullOrEmpty();
        doc.GetProperty("payload").GetProperty("encoding").GetString().Should().Be("base64");
        doc.GetProperty("payload").GetProperty("bytes").GetInt32().Should().Be(4);
        doc.GetProperty("payload").GetProperty("data").GetString().Should().Be(Convert.ToBase64String(new byte[] { 0, 1, 2, 255 }));
    }

    [Fact]
    public async Task Show_JobNotDeadLettered_IsAnError()
    {
        await SeedDeadLettersAsync("orders");
        string ready;
        using (RedisListJobQueue q = Queue("orders"))
        {
            ready = (await q.EnqueueAsync(Payload("{}"))).JobId;
        }

        CliResult notThere = await ResqAsync("dlq", "show", "orders", "0000000000000000000000000000abcd");
        CliResult notDead = await ResqAsync("dlq", "show", "orders", ready);

        notThere.ExitCode.Should().Be(1);
        notThere.Stderr.Should().Be("error: job '0000000000000000000000000000abcd' not found in queue 'orders'" + Environment.NewLine);
        notDead.ExitCode.Should().Be(1);
        notDead.Stderr.Should().Contain("is not in the dead-letter store (it is Ready)");
    }

    [Fact]
    public async Task Requeue_OneJobWithYes_MovesItBackToReady()
    {
        (string old, _) = await SeedDeadLettersAsync("orders");

        CliResult result = await ResqAsync("dlq", "requeue", "orders", old, "--yes", "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        JsonElement doc = result.Json;
        (doc.GetProperty("matched").GetInt32(), doc.GetProperty("requeued").GetInt32(), doc.GetProperty("notDeadLettered").GetInt32(), doc.GetProperty("notFound").GetInt32())
            .Should().Be((1, 1, 0, 0));
        doc.GetProperty("resetAttempts").GetBoolean().Should().BeFalse();
        doc.GetProperty("jobs")[0].GetProperty("result").GetString().Should().Be("Requeued");
        QueueStatus status = await StatusAsync("orders");
        (status.Ready, status.Dead).Should().Be((1, 1));
    }

    [Fact]
    public async Task Requeue_AllOfOneCategoryWithResetAttempts_RequeuesEachMatchingEntryOnce()
    {
        (string old, string recent) = await SeedDeadLettersAsync("orders");

        CliResult table = await ResqAsync("dlq", "requeue", "orders", "--all", "--category", "Transient", "--reset-attempts", "--yes");

        table.ExitCode.Should().Be(0, table.ToString());
        table.Stdout.Should().Contain("requeued 1 of 1 entry of queue 'orders' (not dead-lettered: 0, not found: 0)");
        using RedisListJobQueue q = Queue("orders");
        Job requeued = (await q.GetJobAsync(recent))!;
        requeued.State.Should().Be(JobState.Ready);
        requeued.Attempts.Should().Be(0);
        (await q.GetJobAsync(old))!.State.Should().Be(JobState.Dead);

        CliResult rest = await ResqAsync("dlq", "requeue", "orders", "--all", "--yes", "--json");

        rest.Json.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("jobId").GetString()).Should().Equal(old);
        rest.Json.GetProperty("requeued").GetInt32().Should().Be(1);
        (await q.GetStatusAsync()).Dead.Should().Be(0);
    }

    [Fact]
    public async Task Requeue_AlreadyRequeuedOrUnknownJob_IsExitCode1WithOnlyTheErrorOnStderr()
    {
        (string old, _) = await SeedDeadLettersAsync("orders");
        CliResult first = await ResqAsync("dlq", "requeue", "orders", old, "--yes");

        CliResult again = await ResqAsync("dlq", "requeue", "orders", old, "--yes");
        CliResult againJson = await ResqAsync("dlq", "requeue", "orders", old, "--yes", "--json");
        CliResult unknown = await ResqAsync("dlq", "requeue", "orders", "0000000000000000000000000000abcd", "--yes");
        CliResult unknownJson = await ResqAsync("dlq", "requeue", "orders", "0000000000000000000000000000abcd", "--yes", "--json");

        first.ExitCode.Should().Be(0, first.ToString());
        first.Stdout.Should().Be($"requeued job '{old}' of queue 'orders'" + Environment.NewLine);
        foreach (CliResult result in new[] { again, againJson })
        {
            result.ExitCode.Should().Be(1);
            result.Stdout.Should().BeEmpty("a failed single-id requeue prints no \"requeued 0 of 1\" summary beside its error");
            result.Stderr.Should().Be($"error: job '{old}' of queue 'orders' is not in the dead-letter store (it is Ready)" + Environment.NewLine);
        }

        foreach (CliResult result in new[] { unknown, unknownJson })
        {
            result.ExitCode.Should().Be(1);
            result.Stdout.Should().BeEmpty();
            result.Stderr.Should().Be("error: job '0000000000000000000000000000abcd' not found in queue 'orders'" + Environment.NewLine);
        }
    }

    [Fact]
    public async Task Requeue_All_KeepsItsSummaryOnStdout()
    {
        (string old, string recent) = await SeedDeadLettersAsync("orders");

        CliResult result = await ResqAsync("dlq", "requeue", "orders", "--all", "--yes");
        CliResult nothingLeft = await ResqAsync("dlq", "requeue", "orders", "--all", "--yes", "--json");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Should().Be("requeued 2 of 2 entries of queue 'orders' (not dead-lettered: 0, not found: 0)" + Environment.NewLine);
        nothingLeft.ExitCode.Should().Be(0, nothingLeft.ToString());
        nothingLeft.Json.GetProperty("matched").GetInt32().Should().Be(0);
        (await StatusAsync("orders")).Ready.Should().Be(2, $"{old} and {recent} are back");
    }

    [Fact]
    public async Task Requeue_WithoutYes_RefusesWhenStdinIsNotATerminalAndAsksWhenItIs()
    {
        await SeedDeadLettersAsync("orders");

        CliResult refused = await ResqAsync("dlq", "requeue", "orders", "--all");
        (await StatusAsync("orders")).Dead.Should().Be(2);
        CliResult declined = await RunAsync(["dlq", "requeue", "orders", "--all"], "n\n", stdinIsTerminal: true);
        (await StatusAsync("orders")).Dead.Should().Be(2);
        CliResult accepted = await RunAsync(["dlq", "requeue", "orders", "--all", "--json"], "y\n", stdinIsTerminal: true);

        refused.ExitCode.Should().Be(2);
        refused.Stderr.Should().Be("error: refusing to requeue 2 dead-letter entries of queue 'orders' without --yes: standard input is not a terminal" + Environment.NewLine);
        declined.ExitCode.Should().Be(2);
        declined.Stderr.Should().StartWith("Requeue 2 dead-letter entries of queue 'orders'? [y/N] ");
        accepted.ExitCode.Should().Be(0, accepted.ToString());
        accepted.Json.GetProperty("requeued").GetInt32().Should().Be(2);
        (await StatusAsync("orders")).Dead.Should().Be(0);
    }

    [Theory]
    [InlineData(new[] { "dlq", "requeue", "orders" }, "give either a <job-id> or --all")]
    [InlineData(new[] { "dlq", "requeue", "orders", "abc", "--all" }, "give either a <job-id> or --all")]
    [InlineData(new[] { "dlq", "requeue", "orders", "abc", "--category", "Auth" }, "--category and --older-than go with --all")]
    [InlineData(new[] { "dlq", "purge", "orders" }, "give exactly one of <job-id>, --older-than <duration> or --all")]
    [InlineData(new[] { "dlq", "purge", "orders", "--all", "--older-than", "1d" }, "give exactly one of")]
    public async Task RequeueAndPurge_WrongSelection_IsAUsageError(string[] args, string message)
    {
        CliResult result = await ResqAsync(args);

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().StartWith("error: ").And.Contain(message);
    }

    [Fact]
    public async Task Purge_OlderThan_DeletesOnlyOldEntries()
    {
        (string old, string recent) = await SeedDeadLettersAsync("orders");

        CliResult refused = await ResqAsync("dlq", "purge", "orders", "--older-than", "30m");
        (await StatusAsync("orders")).Dead.Should().Be(2);
        CliResult result = await ResqAsync("dlq", "purge", "orders", "--older-than", "30m", "--yes", "--json");

        refused.ExitCode.Should().Be(2);
        refused.Stderr.Should().Contain("refusing to purge 1 dead-letter entry of queue 'orders' dead-lettered at least 30m ago for good without --yes");
        result.ExitCode.Should().Be(0, result.ToString());
        result.Json.GetProperty("mode").GetString().Should().Be("OlderThan");
        result.Json.GetProperty("olderThanSeconds").GetDouble().Should().Be(1800);
        result.Json.GetProperty("purged").GetInt64().Should().Be(1);
        using RedisListJobQueue q = Queue("orders");
        (await q.DeadLetters.GetAsync(old)).Should().BeNull();
        (await q.DeadLetters.GetAsync(recent)).Should().NotBeNull();
    }

    [Fact]
    public async Task Purge_OneJobAndAll()
    {
        (string old, _) = await SeedDeadLettersAsync("orders");

        CliResult one = await ResqAsync("dlq", "purge", "orders", old, "--yes");
        CliResult missing = await ResqAsync("dlq", "purge", "orders", old, "--yes");
        CliResult declined = await RunAsync(["dlq", "purge", "orders", "--all"], "no\n", stdinIsTerminal: true);
        (await StatusAsync("orders")).Dead.Should().Be(1);
        CliResult all = await RunAsync(["dlq", "purge", "orders", "--all", "--json"], "y\n", stdinIsTerminal: true);

        one.ExitCode.Should().Be(0, one.ToString());
        one.Stdout.Should().Contain("purged 1 dead-letter entry of queue 'orders'");
        missing.ExitCode.Should().Be(1);
        missing.Stderr.Should().Contain($"job '{old}' not found in queue 'orders'");
        declined.ExitCode.Should().Be(2);
        declined.Stderr.Should().StartWith("Purge 1 dead-letter entry of queue 'orders' for good? [y/N] ");
        all.ExitCode.Should().Be(0, all.ToString());
        all.Json.GetProperty("mode").GetString().Should().Be("All");
        all.Json.GetProperty("purged").GetInt64().Should().Be(1);
        (await StatusAsync("orders")).Dead.Should().Be(0);
    }
}
