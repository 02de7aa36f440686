using System.Security.Cryptography;
using System.Text;
using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Redis.Tests.Infrastructure;
using ResilientQueue.Results;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// "Every key a script touches hashes to the queue's slot; no undeclared keys" (architecture §3), checked on what the
/// server really runs: a <c>redis-cli monitor</c> records every command (from the client and from inside the Lua
/// scripts) while a full life cycle goes through every public operation of <see cref="RedisListJobQueue"/> and its
/// dead-letter store, and Redis itself (<c>COMMAND GETKEYS</c>) says which arguments of each command are keys.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisSlotTests(RedisServerFixture redis, ITestOutputHelper output) : RedisTestBase(redis)
{
    // A name using every punctuation character a queue name may have, so the hash tag is not a trivial one.
    private const string QueueName = "orders:eu-1.v2#0";
    private const string Prefix = "{rq:" + QueueName + "}:";
    private const string NotifyChannel = Prefix + "notify";
    private const string DoneChannel = Prefix + "done";

    /// <summary>The fewest distinct commands (by name) a life cycle must have had checked, so no test passes vacuously.</summary>
    private const int MinDistinctCommands = 20;

    private static readonly TimeSpan MonitorTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly int QueueSlot = RedisClusterSlot.Of("{rq:" + QueueName + "}");

    /// <summary>Commands without key arguments (connection, server, pub/sub): nothing to route, nothing to check.</summary>
    private static readonly HashSet<string> KeylessCommands =
    [
        "PING", "ECHO", "PUBLISH", "SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "CLIENT", "INFO", "COMMAND",
        "SCRIPT", "MONITOR", "CONFIG", "CLUSTER", "SELECT", "AUTH", "HELLO", "QUIT", "TIME", "ROLE", "READONLY", "READWRITE",
        "DBSIZE",
    ];

    private static readonly Dictionary<string, RedisScript> ScriptsBySha1 =
        LuaScripts.All.ToDictionary(script => Sha1(Encoding.UTF8.GetBytes(script.Text)), StringComparer.OrdinalIgnoreCase);

    [Fact]
    public async Task EveryCommand_FullLifeCycle_HasOnlyKeysInTheQueueHashTagAndSlot()
    {
        var capture = await CaptureLifeCycleAsync();
        if (capture is null)
        {
            return;
        }

        // The multiplexer's own tie-breaker read (StackExchange.Redis housekeeping on a (re)connect, never a queue
        // command) is the only command allowed to name a key outside the queue; it normally does not occur at all.
        var tieBreaker = ConfigurationOptions.Parse(Redis.Configuration).TieBreaker;
        var checkedNames = new HashSet<string>(StringComparer.Ordinal);
        var problems = new List<string>();
        var keyed = capture
            .Where(command => !KeylessCommands.Contains(command.Name))
            .Where(command => !(command.Name == "GET" && command.Arguments.Count == 2 && command.Text(1) == tieBreaker))
            .ToList();
        var distinct = keyed.DistinctBy(command => ArgumentsText(command)).ToList();
        var keysByCommand = await Task.WhenAll(distinct.Select(GetKeysAsync));

        for (var i = 0; i < distinct.Count; i++)
        {
            var command = distinct[i];
            var keys = keysByCommand[i];
            if (keys.Count == 0 && command.Name == "SCAN")
            {
                // Clearing a queue finds its idempotency keys and turns (strings no structure lists) with SCAN on the
                // node of its slot: the pattern must stay within the queue's prefix.
                int match = Enumerable.Range(0, command.Arguments.Count - 1).FirstOrDefault(a => string.Equals(command.Text(a), "MATCH", StringComparison.OrdinalIgnoreCase), -1);
                if (match < 0 || !command.Text(match + 1).StartsWith(Prefix, StringComparison.Ordinal))
                {
                    problems.Add($"{Describe(command)}: a SCAN must MATCH within '{Prefix}'");
                }

                continue;
            }

            if (keys.Count == 0)
            {
                problems.Add($"{Describe(command)}: Redis names no key (COMMAND GETKEYS), but the command is not a known keyless one");
                continue;
            }

            checkedNames.Add(command.Name);
            foreach (var key in keys)
            {
                if (!key.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    problems.Add($"{Describe(command)}: key '{key}' does not start with '{Prefix}'");
                }
                else if (RedisClusterSlot.Of(key) != QueueSlot)
                {
                    problems.Add($"{Describe(command)}: key '{key}' hashes to slot {RedisClusterSlot.Of(key)}, not {QueueSlot}");
                }
            }
        }

        output.WriteLine($"{capture.Count} commands captured, {keyed.Count} with keys ({distinct.Count} distinct), " +
                         $"{checkedNames.Count} command names checked: {string.Join(", ", checkedNames.Order(StringComparer.Ordinal))}");
        problems.Should().BeEmpty();
        keyed.Should().Contain(command => command.FromLua, "the scripts' own commands must be among those checked");
        keyed.Should().Contain(command => !command.FromLua && !IsScriptCall(command), "the client's plain commands must be among those checked");
        checkedNames.Should().HaveCountGreaterThanOrEqualTo(MinDistinctCommands, "a full life cycle runs many different commands");
    }

    [Fact]
    public async Task EveryScriptCall_FullLifeCycle_DeclaresTheKeysItsHeaderDocumentsInTheQueueSlot()
    {
        var capture = await CaptureLifeCycleAsync();
        if (capture is null)
        {
            return;
        }

        var problems = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var calls = capture.Where(IsScriptCall).ToList();
        foreach (var call in calls)
        {
            var script = ScriptOf(call);
            seen.Add(script.Name);
            var declared = DeclaredKeys(call);
            if (declared.Count != script.KeyCount)
            {
                problems.Add($"{script.Name}: called with {declared.Count} keys, its name says {script.KeyCount}");
            }

            var documented = LuaScriptHeader.Parse(script.Name).Keys;
            for (var i = 0; i < declared.Count; i++)
            {
                if (RedisClusterSlot.Of(declared[i]) != QueueSlot)
                {
                    problems.Add($"{script.Name}: KEYS[{i + 1}] '{declared[i]}' hashes to slot {RedisClusterSlot.Of(declared[i])}, not {QueueSlot}");
                }

                var expected = documented.TryGetValue(i + 1, out var key) ? key.Pattern.Replace(LuaScriptHeader.PrefixPlaceholder, Prefix, StringComparison.Ordinal) : "(undocumented)";
                if (declared[i] != expected)
                {
                    problems.Add($"{script.Name}: KEYS[{i + 1}] is '{declared[i]}', its header documents '{expected}'");
                }
            }

            // Redis agrees on which arguments are the declared keys.
            var keys = await GetKeysAsync(call);
            if (!keys.SequenceEqual(declared))
            {
                problems.Add($"{script.Name}: COMMAND GETKEYS says [{string.Join(", ", keys)}], numkeys says [{string.Join(", ", declared)}]");
            }
        }

        output.WriteLine($"{calls.Count} script calls: {string.Join(", ", calls.GroupBy(call => ScriptOf(call).Name).Select(g => $"{g.Key} x{g.Count()}"))}");
        problems.Should().BeEmpty();
        seen.Should().BeEquivalentTo(LuaScripts.All.Select(script => script.Name), "the life cycle goes through every script");
    }

    [Fact]
    public async Task EveryScriptCommand_FullLifeCycle_TouchesOnlyDeclaredKeysOrDerivedKeysItsHeaderDocuments()
    {
        var capture = await CaptureLifeCycleAsync();
        if (capture is null)
        {
            return;
        }

        var problems = new List<string>();
        var luaCommands = 0;
        var derivedSeen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (call, body) in GroupScriptCommands(capture))
        {
            var script = ScriptOf(call);
            var declared = DeclaredKeys(call);
            var derived = LuaScriptHeader.Parse(script.Name).Derived;
            foreach (var command in body)
            {
                luaCommands++;
                if (KeylessCommands.Contains(command.Name))
                {
                    if (command.Name == "PUBLISH" && command.Text(1) is not (NotifyChannel or DoneChannel))
                    {
                        problems.Add($"{script.Name}: {Describe(command)} publishes to '{command.Text(1)}', not '{NotifyChannel}' or '{DoneChannel}'");
                    }

                    continue;
                }

                foreach (var key in await GetKeysAsync(command))
                {
                    if (declared.Contains(key))
                    {
                        continue;
                    }

                    var match = derived.FirstOrDefault(d => d.Matches(key, Prefix));
                    if (match is null)
                    {
                        problems.Add($"{script.Name}: {Describe(command)} touches '{key}', neither a declared key nor a derived key its header documents ({string.Join(", ", derived.Select(d => d.Pattern))})");
                    }
                    else
                    {
                        derivedSeen.Add(match.Pattern);
                    }
                }
            }
        }

        output.WriteLine($"{luaCommands} commands run by scripts; derived keys used: {string.Join(", ", derivedSeen)}");
        problems.Should().BeEmpty();
        luaCommands.Should().BeGreaterThan(100, "a full life cycle runs many commands inside its scripts");
        var documented = LuaScripts.All.SelectMany(script => LuaScriptHeader.Parse(script.Name).Derived).Select(d => d.Pattern).ToHashSet();
        documented.Should().NotBeEmpty();
        derivedSeen.Should().BeEquivalentTo(documented, "the life cycle uses every kind of derived key the headers document");
    }

    [Fact]
    public async Task EveryPubSubCommand_FullLifeCycle_UsesOnlyTheQueuesNotifyAndDoneChannels()
    {
        var capture = await CaptureLifeCycleAsync();
        if (capture is null)
        {
            return;
        }

        // StackExchange.Redis's own configuration channel (subscribed to when a connection is (re)established, never
        // by a queue) is the only other channel allowed; it normally does not occur at all.
        var configurationChannel = ConfigurationOptions.Parse(Redis.Configuration).ConfigurationChannel;
        var pubSub = capture
            .Where(command => command.Name is "PUBLISH" or "SUBSCRIBE" or "UNSUBSCRIBE")
            .Where(command => !(command.Arguments.Count == 2 && command.Text(1) == configurationChannel))
            .ToList();

        pubSub.Should().Contain(command => command.Name == "PUBLISH" && command.FromLua, "scripts wake consumers");
        pubSub.Should().Contain(command => command.Name == "PUBLISH" && !command.FromLua, "ResumeAsync wakes consumers");
        pubSub.Should().Contain(command => command.Name == "SUBSCRIBE", "WaitForJobsAsync subscribes");
        pubSub.Should().Contain(command => command.Name == "PUBLISH" && command.FromLua && command.Text(1) == DoneChannel, "scripts tell producers of completed and failed jobs");
        pubSub.Should().Contain(command => command.Name == "SUBSCRIBE" && command.Text(1) == DoneChannel, "WaitForResultAsync subscribes");
        pubSub.Should().OnlyContain(command => command.Arguments.Count >= 2 && (command.Text(1) == NotifyChannel || command.Text(1) == DoneChannel));
    }

    [Fact]
    public void MonitorCommandParse_EscapedArguments_UnescapesToRawBytes()
    {
        var command = MonitorCommand.Parse("1795325565.666665 [0 lua] \"set\" \"{a}:k\" \"v\\x01\\xff\\\"q\\\\\\n\" \"\"");

        command.Source.Should().Be("lua");
        command.FromLua.Should().BeTrue();
        command.Database.Should().Be(0);
        command.Name.Should().Be("SET");
        command.Arguments.Should().HaveCount(4);
        command.Text(1).Should().Be("{a}:k");
        command.Arguments[2].Should().Equal((byte)'v', 0x01, 0xFF, (byte)'"', (byte)'q', (byte)'\\', (byte)'\n');
        command.Arguments[3].Should().BeEmpty();
    }

    /// <summary>
    /// Runs the life cycle under <c>redis-cli monitor</c> and returns what the server ran. Fails (never passes
    /// silently) when the fixture does not own the server, whose MONITOR the test may not use.
    /// </summary>
    private async Task<IReadOnlyList<MonitorCommand>?> CaptureLifeCycleAsync()
    {
        if (!Redis.OwnsServer)
        {
            throw new InvalidOperationException($"{RedisServerFixture.ExternalServerVariable} points at an external server; this test watches " +
                             "the server with redis-cli monitor and needs a redis-server the fixture owns (unset the variable, as in CI).");
        }

        var cli = RedisMonitor.FindCli(Redis.ServerPath)
            ?? throw new InvalidOperationException($"redis-cli was not found next to {Redis.ServerPath} or on PATH; set {RedisClusterFixture.CliPathVariable}.");
        var time = new FakeTimeProvider();
        var queue = new RedisListJobQueue(
            Redis.Multiplexer,
            QueueName,
            new JobQueueOptions { CompletedRetention = 1, DeadLetter = new DeadLetterOptions { MaxEntries = 2 } },
            time);
        await using (queue)
        {
            await using var monitor = await RedisMonitor.StartAsync(cli, Redis.Port, Database, MonitorTimeout);
            await RunLifeCycleAsync(queue, time);
            var capture = await monitor.StopAsync(Database, MonitorTimeout);
            capture.Should().NotBeEmpty();
            return capture;
        }
    }

    /// <summary>Every public operation of the queue and of its dead-letter store, each path at least once.</summary>
    private static async Task RunLifeCycleAsync(RedisListJobQueue queue, FakeTimeProvider time)
    {
        // Enqueue: priority + idempotency key, a duplicate of it, a delay, and a batch mixing all of them.
        var first = await queue.EnqueueAsync(Payload("p5"), new EnqueueOptions { Priority = 5, IdempotencyKey = "order-1" });
        (await queue.EnqueueAsync(Payload("dup"), new EnqueueOptions { IdempotencyKey = "order-1" })).Should().Be(first with { Outcome = EnqueueOutcome.Duplicate });
        await queue.EnqueueAsync(Payload("delayed"), new EnqueueOptions { Delay = TimeSpan.FromSeconds(10) });
        var batch = new List<JobSubmission>
        {
            new(Payload("p9"), new EnqueueOptions { Priority = 9, IdempotencyKey = "order-2", CorrelationId = "corr-2", TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }),
            new(Payload("p3-delayed"), new EnqueueOptions { Priority = 3, Delay = TimeSpan.FromSeconds(5) }),
            new(Payload("once"), new EnqueueOptions { MaxAttempts = 1 }),
            new(Payload("binary \u00e9\u0000\u0001\u00ff\"\\")),
        };
        batch.AddRange(Enumerable.Range(0, 8).Select(i => new JobSubmission(Payload("plain-" + i))));
        (await queue.EnqueueManyAsync(batch)).Should().OnlyContain(result => !result.Duplicate);
        (await queue.WaitForJobsAsync(TimeSpan.FromSeconds(1))).Should().BeTrue();

        // Fetch everything, the delayed jobs once due.
        time.Advance(TimeSpan.FromSeconds(11));
        var leased = (await queue.FetchAsync(100, Lease)).ToDictionary(job => Encoding.UTF8.GetString(job.Job.Payload.Span), job => job.Lease);
        leased.Should().HaveCount(14);

        // Ack, one and many (with retention 1, the second ack trims the completed set).
        (await queue.AckAsync(leased["p5"])).Should().Be(LeaseResult.Succeeded);
        (await queue.AckManyAsync([leased["p9"], leased["plain-0"]])).Should().OnlyContain(result => result.IsSucceeded);

        // Started marks (the worker's, shortly after each start).
        (await queue.MarkStartedManyAsync([leased["p3-delayed"], leased["plain-1"]])).Should().OnlyContain(result => result.IsSucceeded);

        // Renew, checkpoint, release.
        (await queue.RenewAsync(leased["plain-1"], TimeSpan.FromMinutes(1))).Should().Be(LeaseResult.Succeeded);
        (await queue.SaveCheckpointAsync(leased["plain-1"], Payload("step 3"))).Should().Be(LeaseResult.Succeeded);
        (await queue.ReleaseAsync(leased["plain-1"])).Should().Be(LeaseResult.Succeeded);
        (await queue.AckAsync(leased["plain-1"])).Should().Be(LeaseResult.LeaseLost);

        // Fail, with every recovery action, one and many.
        var error = new JobError("HttpRequestException", "503 from upstream", ErrorCategory.Transient);
        (await queue.FailAsync(leased["plain-2"], error, RecoveryDecision.Retry(TimeSpan.FromSeconds(5)))).IsApplied.Should().BeTrue();
        (await queue.FailAsync(leased["plain-3"], error, RecoveryDecision.Retry(TimeSpan.Zero))).IsApplied.Should().BeTrue();
        (await queue.FailAsync(leased["plain-4"], error, RecoveryDecision.RetryWithoutAttempt(TimeSpan.Zero))).IsApplied.Should().BeTrue();
        (await queue.FailAsync(leased["plain-5"], error, RecoveryDecision.DeadLetter("poison"))).Outcome.Should().Be(FailOutcome.DeadLettered);
        (await queue.FailManyAsync(
        [
            new JobFailure(leased["plain-6"], error, RecoveryDecision.Skip("obsolete")),
            new JobFailure(leased["plain-7"], error, RecoveryDecision.Pause(TimeSpan.FromSeconds(1))),
            new JobFailure(leased["binary \u00e9\u0000\u0001\u00ff\"\\"], error, RecoveryDecision.Abort("auth failed")),
            new JobFailure(leased["delayed"], new JobError("JsonException", "bad payload", ErrorCategory.Validation), RecoveryDecision.DeadLetter("invalid")),
            new JobFailure(leased["once"], error, RecoveryDecision.Retry(TimeSpan.Zero)),
        ])).Should().OnlyContain(result => result.IsApplied);

        // Ages: the next job of each priority (released and retried jobs are ready) and the one active job's fetch time.
        QueueAges ages = (await queue.GetAgesAsync())!;
        ages.ActiveSince.Should().ContainSingle("\"p3-delayed\" is the only job still leased");
        ages.OldestReadySince.Should().NotBeNull();

        // Reap: "p3-delayed" is the only job still leased; its lease runs out and, with attempts left, it is requeued
        // (a dry run first). ("once" spent its single attempt, so its retry dead-lettered it, trimming the store.)
        time.Advance(Lease + TimeSpan.FromSeconds(1));
        (await queue.TryClaimTurnAsync("reaper", "slot-test", TimeSpan.FromSeconds(30))).Should().BeTrue();
        (await queue.ReapExpiredAsync(10, dryRun: true)).Should().ContainSingle();
        (await queue.ReapExpiredAsync(10)).Should().ContainSingle().Which.Action.Should().Be(ReapAction.Requeued);

        // A job that dies by reaping (max attempts 1), which also trims the dead-letter store (max 2 entries).
        var reapedToDeath = await queue.EnqueueAsync(Payload("reaped"), new EnqueueOptions { Priority = 9, MaxAttempts = 1 });
        LeasedJob doomed = (await queue.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
        doomed.Job.Id.Should().Be(reapedToDeath.JobId);
        await queue.MarkStartedManyAsync([doomed.Lease]); // it ran: the reap spends its one attempt
        time.Advance(Lease + TimeSpan.FromSeconds(1));
        (await queue.ReapExpiredAsync(10)).Should().ContainSingle().Which.Action.Should().Be(ReapAction.DeadLettered);

        // Reads.
        (await queue.GetJobAsync(leased["plain-0"].JobId))!.State.Should().Be(JobState.Completed);
        (await queue.GetJobAsync(first.JobId)).Should().BeNull("a retention of 1 keeps only the newest completed job");
        (await queue.GetJobAsync(reapedToDeath.JobId))!.State.Should().Be(JobState.Dead);
        (await queue.GetJobAsync("no-such-job")).Should().BeNull();
        var status = await queue.GetStatusAsync();
        status.Dead.Should().Be(2);
        status.DeadLetterTrimmed.Should().BeGreaterThan(0);

        // Pause / resume, and waiting.
        await queue.PauseAsync();
        (await queue.FetchAsync(10, Lease)).Should().BeEmpty();
        (await queue.WaitForJobsAsync(TimeSpan.Zero)).Should().BeFalse();
        await queue.ResumeAsync();
        (await queue.WaitForJobsAsync(TimeSpan.Zero)).Should().BeTrue();

        // The dead-letter store: list (paged, filtered, aged), get, count, requeue (and its losing outcomes), purges.
        var dead = queue.DeadLetters;
        var page = await dead.ListAsync(new DeadLetterQuery { Limit = 1 });
        page.Entries.Should().ContainSingle();
        page.NextCursor.Should().NotBeNull();
        var older = (await dead.ListAsync(new DeadLetterQuery { Limit = 1, Cursor = page.NextCursor })).Entries.Should().ContainSingle().Subject;
        older.Job.Id.Should().NotBe(reapedToDeath.JobId, "the listing is newest first");
        (await dead.ListAsync(new DeadLetterQuery { Category = ErrorCategory.LeaseExpired, OlderThan = TimeSpan.Zero })).Entries.Should().ContainSingle();
        (await dead.GetAsync(reapedToDeath.JobId)).Should().NotBeNull();
        (await dead.CountAsync()).Should().Be(2);
        (await dead.RequeueAsync(reapedToDeath.JobId, resetAttempts: true)).Should().Be(RequeueResult.Requeued);
        (await dead.RequeueAsync(reapedToDeath.JobId)).Should().Be(RequeueResult.NotDeadLettered);
        (await dead.RequeueAsync("no-such-job")).Should().Be(RequeueResult.NotFound);
        (await dead.PurgeAsync(older.Job.Id)).Should().BeTrue();
        (await dead.PurgeAsync("no-such-job")).Should().BeFalse();

        // Drain what is left: dead-letter two more (one old, one new) for the age purge and the purge of everything.
        var rest = await queue.FetchAsync(100, Lease);
        rest.Should().HaveCountGreaterThanOrEqualTo(3);
        (await queue.FailAsync(rest[0].Lease, error, RecoveryDecision.DeadLetter("old"))).Outcome.Should().Be(FailOutcome.DeadLettered);
        time.Advance(TimeSpan.FromMinutes(2));
        (await queue.FailAsync(rest[1].Lease, error, RecoveryDecision.DeadLetter("new"))).Outcome.Should().Be(FailOutcome.DeadLettered);
        (await dead.PurgeOlderThanAsync(TimeSpan.FromMinutes(1))).Should().Be(1);
        (await dead.PurgeAllAsync()).Should().Be(1);
        (await dead.CountAsync()).Should().Be(0);
        (await queue.AckManyAsync(rest.Skip(2).Select(job => job.Lease).ToList())).Should().OnlyContain(result => result == LeaseResult.Succeeded);

        // A delayed job at the end: not due yet (nothing to wait for), then due and done.
        await queue.EnqueueAsync(Payload("last"), new EnqueueOptions { Delay = TimeSpan.FromSeconds(5) });
        (await queue.WaitForJobsAsync(TimeSpan.Zero)).Should().BeFalse();
        time.Advance(TimeSpan.FromSeconds(10));
        var last = await queue.FetchAsync(100, Lease);
        last.Should().ContainSingle();
        (await queue.AckManyAsync([last[0].Lease])).Should().Equal(LeaseResult.Succeeded);
        (await queue.GetStatusAsync()).Depth.Should().Be(0);

        // Request–reply: a job completed with its result (complete-5), the result read, and a wait for it, which
        // subscribes to the done channel. (It is now the one completed job the retention of 1 keeps.)
        var asked = await queue.EnqueueAsync(Payload("question"));
        LeasedJob answering = (await queue.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
        (await queue.CompleteAsync(answering.Lease, Payload("answer"))).Should().Be(LeaseResult.Succeeded);
        (await queue.GetResultAsync(asked.JobId)).Should().NotBeNull();
        (await queue.WaitForResultAsync(asked.JobId, TimeSpan.FromSeconds(1))).JobId.Should().Be(asked.JobId);

        // Clear: ready, delayed and leased jobs all go, and so do the idempotency keys, the results and the paused flag.
        await queue.EnqueueManyAsync([new JobSubmission(Payload("c1"), new EnqueueOptions { IdempotencyKey = "c1" }), new JobSubmission(Payload("c2"), new EnqueueOptions { Delay = TimeSpan.FromMinutes(1) }), new JobSubmission(Payload("c3"))]);
        LeasedJob held = (await queue.FetchAsync(1, Lease)).Single();
        await queue.PauseAsync();
        (await queue.ClearAsync()).Should().Be(4, "the three jobs just enqueued and the one completed job kept (retention 1)");
        (await queue.GetStatusAsync()).Should().Be(new QueueStatus(0, 0, 0, 0, 0, IsPaused: false, DeadLetterTrimmed: 0));
        (await queue.AckAsync(held.Lease)).Should().Be(LeaseResult.LeaseLost);
        (await queue.EnqueueAsync(Payload("c1 again"), new EnqueueOptions { IdempotencyKey = "c1" })).Duplicate.Should().BeFalse("the idempotency keys went with the queue");
    }

    private async Task<IReadOnlyList<string>> GetKeysAsync(MonitorCommand command)
    {
        var arguments = new List<object> { "GETKEYS" };
        arguments.AddRange(command.Arguments.Select(ArgumentForGetKeys));
        try
        {
            var reply = (RedisResult[]?)await Database.ExecuteAsync("COMMAND", [.. arguments]) ?? [];
            return reply.Select(key => (string?)key ?? string.Empty).ToList();
        }
        catch (RedisServerException ex) when (ex.Message.Contains("no key arguments", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }
    }

    /// <summary>
    /// Keys are ASCII text; any other argument that is binary or long (payloads, script bodies) is replaced by a
    /// placeholder, keeping the argument count, which is all COMMAND GETKEYS needs.
    /// </summary>
    private static string ArgumentForGetKeys(byte[] argument) =>
        argument.Length <= 1024 && argument.All(b => b is >= 0x20 and < 0x7F) ? Encoding.ASCII.GetString(argument) : "x";

    private static bool IsScriptCall(MonitorCommand command) => !command.FromLua && command.Name is "EVAL" or "EVALSHA";

    private static RedisScript ScriptOf(MonitorCommand call)
    {
        var sha1 = call.Name == "EVAL" ? Sha1(call.Arguments[1]) : call.Text(1);
        return ScriptsBySha1.TryGetValue(sha1, out var script)
            ? script
            : throw new InvalidOperationException($"{Describe(call)} runs a script that is not one of LuaScripts.All (sha1 {sha1}).");
    }

    private static List<string> DeclaredKeys(MonitorCommand call)
    {
        var count = int.Parse(call.Text(2), System.Globalization.CultureInfo.InvariantCulture);
        return Enumerable.Range(3, count).Select(call.Text).ToList();
    }

    /// <summary>
    /// Pairs each script call with the commands its script ran. A script runs atomically, so its commands form one
    /// unbroken run of <c>lua</c> lines, next to its EVAL/EVALSHA line: after it (Redis 7.0 feeds MONITOR the call
    /// first) or before it (a server that feeds MONITOR after execution); the side is whichever fits every run.
    /// </summary>
    private static List<(MonitorCommand Call, List<MonitorCommand> Body)> GroupScriptCommands(IReadOnlyList<MonitorCommand> capture)
    {
        var runs = new List<(int Start, int End)>();
        for (var i = 0; i < capture.Count; i++)
        {
            if (capture[i].FromLua && (i == 0 || !capture[i - 1].FromLua))
            {
                var end = i;
                while (end + 1 < capture.Count && capture[end + 1].FromLua)
                {
                    end++;
                }

                runs.Add((i, end));
            }
        }

        runs.Should().NotBeEmpty("scripts run commands");
        var callFirst = runs.All(run => run.Start > 0 && IsScriptCall(capture[run.Start - 1]));
        var callLast = runs.All(run => run.End + 1 < capture.Count && IsScriptCall(capture[run.End + 1]));
        (callFirst || callLast).Should().BeTrue("every run of script commands must sit right after (or right before) the EVAL/EVALSHA that ran it");

        return runs
            .Select(run => (callFirst ? capture[run.Start - 1] : capture[run.End + 1], capture.Skip(run.Start).Take(run.End - run.Start + 1).ToList()))
            .ToList();
    }

    private static string ArgumentsText(MonitorCommand command) => string.Join('\u0001', command.Arguments.Select(Convert.ToBase64String));

    private static string Describe(MonitorCommand command)
    {
        var text = string.Join(' ', command.Arguments.Take(6).Select(a => a.Length > 60 ? "<" + a.Length + " bytes>" : Encoding.UTF8.GetString(a)));
        return $"[{command.Source}] {text}{(command.Arguments.Count > 6 ? " …" : string.Empty)}";
    }

    private static string Sha1(byte[] data) => Convert.ToHexStringLower(SHA1.HashData(data));

    private static ReadOnlyMemory<byte> Payload(string text) => Encoding.UTF8.GetBytes(text);
}
