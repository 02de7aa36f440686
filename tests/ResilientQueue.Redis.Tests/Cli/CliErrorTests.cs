using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FluentAssertions;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;

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
        result.Stderr.Should().Be($"error: cannot reach Redis at 127.0.0.1:{port}" + Environment.NewLine);
        result.Stdout.Should().BeEmpty();
        (result.Stdout + result.Stderr).Should().NotContain(WrongPassword);
        stopwatch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), "the connect timeout is short");
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

        foreach (string[] args in new[] { ["status", "ordres"], ["stale", "ordres"], ["reap", "ordres", "--yes"], ["dlq", "list", "ordres"], ["pause", "ordres"], new[] { "dlq", "purge", "ordres", "--all", "--yes" } })
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

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
