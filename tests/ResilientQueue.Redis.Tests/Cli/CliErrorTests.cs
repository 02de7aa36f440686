using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FluentAssertions;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Cli;

/// <summary>Every error of <c>resq</c>: one line on stderr, a non-zero exit code, never a password.</summary>
[Collection(RedisCollection.Name)]
public sealed class CliErrorTests(RedisServerFixture redis) : CliTestBase(redis)
{
    private const string Password = "s3cret-Pa55-CLI";
    private const string WrongPassword = "wr0ng-Pa55-CLI";

    [Fact]
    public async Task UnreachableRedis_IsExitCode1WithTheEndpoint()
    {
        int port = FreeLoopbackPort();

        var stopwatch = Stopwatch.StartNew();
        CliResult result = await RunAsync(["queues"], string.Empty, stdinIsTerminal: false, redis: $"127.0.0.1:{port},password={WrongPassword}");

        result.ExitCode.Should().Be(1);
        result.Stderr.Should().Be($"error: cannot reach Redis at 127.0.0.1:{port} (connection refused)" + Environment.NewLine);
        result.Stdout.Should().BeEmpty();
        (result.Stdout + result.Stderr).Should().NotContain(WrongPassword);
        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "the connect timeout is short");
    }

    [Fact]
    public async Task UnreachableRedis_WithDebug_PrintsTheSocketErrorAndTheClientsConnectionLogNotThePassword()
    {
        int port = FreeLoopbackPort();

        CliResult result = await RunAsync(["queues"], string.Empty, stdinIsTerminal: false, redis: $"127.0.0.1:{port},password={WrongPassword}", environment: Debug);

        result.ExitCode.Should().Be(1);
        result.Stderr.Should().StartWith($"error: cannot reach Redis at 127.0.0.1:{port} (connection refused)" + Environment.NewLine);
        result.Stderr.Should().ContainAll("System.Net.Sockets.SocketException", "Connection refused", "StackExchange.Redis connection log:", $"127.0.0.1:{port}/Interactive: Connecting");
        result.Stdout.Should().BeEmpty();
        result.Stderr.Should().NotContain(WrongPassword);
    }

    [Fact]
    public async Task Timeout_NamesTheEndpointCommandAndTimeout_AndDebugPrintsTheRedisTimeoutException()
    {
        await using RedisServerProcess server = await RedisServerProcess.StartAsync();
        await using ConnectionMultiplexer admin = await ConnectWithQueueAsync(server, "orders");

        // Scripts are writes: a WRITE pause holds the status script (EVALSHA) while the connection itself works.
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "20000", "WRITE");
        CliResult plain = await RunAsync(["status", "orders"], string.Empty, stdinIsTerminal: false, redis: $"{server.EndPoint},syncTimeout=300");
        CliResult debug = await RunAsync(["status", "orders"], string.Empty, stdinIsTerminal: false, redis: $"{server.EndPoint},syncTimeout=300", environment: Debug);
        await admin.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");

        string line = $"error: Redis at {server.EndPoint} did not answer EVALSHA within 300 ms (the server is busy or blocked; if it is only slow, raise asyncTimeout= in --redis)" + Environment.NewLine;
        plain.ExitCode.Should().Be(1, plain.ToString());
        plain.Stderr.Should().Be(line);
        plain.Stdout.Should().BeEmpty();
        debug.ExitCode.Should().Be(1, debug.ToString());
        debug.Stderr.Should().StartWith(line).And.Contain("StackExchange.Redis.RedisTimeoutException").And.Contain("command=EVALSHA");
    }

    [Fact]
    public async Task LostConnection_NamesTheEndpointAndFailureType_AndDebugPrintsTheRedisConnectionException()
    {
        await using RedisServerProcess server = await RedisServerProcess.StartAsync();
        await using ConnectionMultiplexer admin = await ConnectWithQueueAsync(server, "orders");

        CliResult plain = await KillDuringStatusAsync(server, admin, debug: false);
        CliResult debug = await KillDuringStatusAsync(server, admin, debug: true);

        string start = $"error: lost the connection to Redis at {server.EndPoint} (";
        plain.ExitCode.Should().Be(1, plain.ToString());
        plain.Stderr.Should().StartWith(start).And.EndWith(")" + Environment.NewLine);
        plain.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle("without RESQ_DEBUG an error is one line");
        plain.Stdout.Should().BeEmpty();
        debug.ExitCode.Should().Be(1, debug.ToString());
        // The client's own detail is printed: the command under way when the socket closed (EVALSHA of the status script,
        // or ECHO when the kill lands while the connection is being established: CI saw both).
        debug.Stderr.Should().StartWith(start).And.Contain("StackExchange.Redis.RedisConnectionException").And.MatchRegex(@"last: (EVALSHA|EVAL|ECHO|PING|INFO)\b");
    }

    [Fact]
    public async Task RejectedCredentials_WithDebug_PrintTheCauseButNeverThePassword()
    {
        await using RedisServerProcess server = await RedisServerProcess.StartAsync(new RedisServerProcessOptions { ExtraArguments = ["--requirepass", Password], Password = Password });

        CliResult wrong = await RunAsync(["queues"], string.Empty, stdinIsTerminal: false, redis: $"127.0.0.1:{server.Port},password={WrongPassword}", environment: Debug);
        CliResult none = await RunAsync(["queues"], string.Empty, stdinIsTerminal: false, redis: $"127.0.0.1:{server.Port}", environment: Debug);

        wrong.ExitCode.Should().Be(1);
        wrong.Stderr.Should().StartWith($"error: Redis rejected the credentials (at 127.0.0.1:{server.Port}); check the password/user in --redis or RESQ_REDIS" + Environment.NewLine);
        none.ExitCode.Should().Be(1);
        none.Stderr.Should().StartWith($"error: Redis rejected the credentials (at 127.0.0.1:{server.Port}; no password was given); check the password/user in --redis or RESQ_REDIS" + Environment.NewLine);
        foreach (CliResult result in new[] { wrong, none })
        {
            result.Stderr.Should().Contain("NOAUTH Authentication required", "the server's reply behind the error is shown");
            result.Stderr.Should().NotContain(WrongPassword).And.NotContain(Password);
        }
    }

    [Fact]
    public async Task UsageError_WithDebug_PrintsTheExceptionBehindIt()
    {
        await SeedDeadLettersAsync("orders");

        CliResult result = await RunAsync(["dlq", "list", "orders", "--cursor", "nonsense"], string.Empty, stdinIsTerminal: false, redis: Redis.Configuration, environment: Debug);

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().StartWith("error: invalid --cursor 'nonsense'").And.Contain("ResilientQueue.InvalidOptionsException");
    }

    [Fact]
    public async Task RejectedCredentials_AreExitCode1AndThePasswordIsNeverShown()
    {
        // A server of its own with --requirepass (the shared one has no password); fails with install advice when
        // redis-server is missing, never passes silently.
        await using RedisServerProcess server = await RedisServerProcess.StartAsync(new RedisServerProcessOptions { ExtraArguments = ["--requirepass", Password], Password = Password });

        CliResult wrong = await RunAsync(["queues"], string.Empty, stdinIsTerminal: false, redis: $"127.0.0.1:{server.Port},password={WrongPassword}");
        CliResult none = await RunAsync(["queues"], string.Empty, stdinIsTerminal: false, redis: $"127.0.0.1:{server.Port}");
        CliResult right = await RunAsync(["enqueue", "orders", "--payload", "{}", "--json"], string.Empty, stdinIsTerminal: false, redis: $"127.0.0.1:{server.Port},password={Password}");
        CliResult unknownQueue = await RunAsync(["status", "nope"], string.Empty, stdinIsTerminal: false, redis: $"127.0.0.1:{server.Port},password={Password}");

        wrong.ExitCode.Should().Be(1);
        wrong.Stderr.Should().StartWith("error: Redis rejected the credentials");
        none.ExitCode.Should().Be(1);
        none.Stderr.Should().StartWith("error: Redis rejected the credentials");
        right.ExitCode.Should().Be(0, right.ToString());
        unknownQueue.ExitCode.Should().Be(1);
        foreach (CliResult result in new[] { wrong, none, right, unknownQueue })
        {
            (result.Stdout + result.Stderr).Should().NotContain(WrongPassword).And.NotContain(Password);
            result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length.Should().BeLessThanOrEqualTo(1, "an error is one line");
        }
    }

    [Fact]
    public async Task InvalidConfiguration_IsAUsageErrorWithThePasswordMasked()
    {
        CliResult result = await RunAsync(["queues"], string.Empty, stdinIsTerminal: false, redis: $"127.0.0.1:1,password={Password},nosuchkeyword=1");

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().StartWith("error: invalid Redis configuration '127.0.0.1:1,password=*****,nosuchkeyword=1'");
        result.Stderr.Should().NotContain(Password);
    }

    [Fact]
    public async Task UnknownQueue_IsExitCode1AndNamesTheKnownQueues()
    {
        using (RedisListJobQueue q = Queue("orders"))
        {
            await q.EnqueueAsync(Payload("{}"));
        }

        using (RedisListJobQueue q = Queue("emails"))
        {
            await q.EnqueueAsync(Payload("{}"));
        }

        foreach (string[] args in new[] { ["status", "ordres"], ["stale", "ordres"], ["reap", "ordres", "--yes"], ["dlq", "list", "ordres"], ["pause", "ordres"], ["dlq", "purge", "ordres", "--all", "--yes"], new[] { "clear", "ordres", "--yes" } })
        {
            CliResult result = await ResqAsync(args);

            result.ExitCode.Should().Be(1, string.Join(' ', args));
            result.Stderr.Should().Be("error: queue 'ordres' not found; known queues: emails, orders" + Environment.NewLine);
            result.Stdout.Should().BeEmpty();
        }

        (await Database.KeyExistsAsync("{rq:ordres}:meta")).Should().BeFalse("pause must not create the queue");
    }

    [Fact]
    public async Task InvalidQueueName_IsAUsageError()
    {
        CliResult result = await ResqAsync("status", "bad{name}");

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().StartWith("error: invalid queue name 'bad{name}'");
    }

    [Theory]
    [InlineData("stale", "3x")]
    [InlineData("reap", "5")]
    [InlineData("reap", "1m1h")]
    [InlineData("dlq list", "-1s")]
    [InlineData("dlq purge", "soon")]
    public async Task BadDuration_IsAUsageErrorNamingTheValue(string command, string duration)
    {
        CliResult result = await ResqAsync([.. command.Split(' '), "orders", "--older-than", duration]);

        result.ExitCode.Should().Be(2);
        result.Stderr.Should().StartWith($"error: invalid duration '{duration}' for --older-than: use e.g. 30s, 5m, 2h, 1d, 1h30m or 500ms");
        result.Stdout.Should().BeEmpty();
    }

    [Fact]
    public async Task NoCommandOrUnknownCommand_IsAUsageError()
    {
        CliResult none = await ResqAsync();
        CliResult unknown = await ResqAsync("frobnicate");

        none.ExitCode.Should().Be(2);
        none.Stderr.Should().StartWith("error: ");
        unknown.ExitCode.Should().Be(2);
        unknown.Stderr.Should().Contain("frobnicate");
    }

    private static string? Debug(string name) => name == "RESQ_DEBUG" ? "1" : null;

    /// <summary>An admin connection (CLIENT PAUSE, KILL) to a server of the test's own, on which the queue holds one job.</summary>
    private static async Task<ConnectionMultiplexer> ConnectWithQueueAsync(RedisServerProcess server, string queue)
    {
        ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(server.EndPoint + ",allowAdmin=true");
        using var q = new RedisListJobQueue(admin, queue);
        await q.EnqueueAsync(Payload("{}"));
        return admin;
    }

    /// <summary>Runs <c>resq status orders</c> while writes are paused, and kills its connection once its script is held.</summary>
    private async Task<CliResult> KillDuringStatusAsync(RedisServerProcess server, ConnectionMultiplexer admin, bool debug)
    {
        IDatabase db = admin.GetDatabase();
        await db.ExecuteAsync("CLIENT", "PAUSE", "20000", "WRITE");
        try
        {
            Task<CliResult> run = RunAsync(["status", "orders"], string.Empty, stdinIsTerminal: false, redis: server.EndPoint, environment: debug ? Debug : _ => null);
            string? id = null;
            for (int i = 0; i < 200 && id is null && !run.IsCompleted; i++)
            {
                string clients = (string)(await db.ExecuteAsync("CLIENT", "LIST"))!;
                id = clients.Split('\n').Where(c => c.Contains(" name=resq ", StringComparison.Ordinal) && c.Contains(" cmd=evalsha ", StringComparison.Ordinal))
                    .Select(c => c.Split(' ')[0]["id=".Length..]).FirstOrDefault();
                await Task.Delay(25);
            }

            id.Should().NotBeNull("resq's status script should be held by the pause");
            await db.ExecuteAsync("CLIENT", "KILL", "ID", id!);
            return await run;
        }
        finally
        {
            await db.ExecuteAsync("CLIENT", "UNPAUSE");
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
