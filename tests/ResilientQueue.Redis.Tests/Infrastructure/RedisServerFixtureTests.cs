using System.Net;
using FluentAssertions;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Redis.Tests.Infrastructure;

[Collection(RedisCollection.Name)]
public sealed class RedisServerFixtureTests(RedisServerFixture redis, ITestOutputHelper output) : RedisTestBase(redis)
{
    private static readonly TimeSpan ReconnectTimeout = TimeSpan.FromSeconds(10);

    private IServer Server => RedisServerInfo.SingleServer(Redis.Multiplexer);

    [Fact]
    public void Source_IsTheOneTheEnvironmentAsksFor()
    {
        // The line the fixture also wrote to stderr and to xunit's diagnostics; here in the test's own output (TRX).
        output.WriteLine(Redis.Description);
        Redis.Description.Should().StartWith("Redis tests: server = ");

        var expected = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(RedisServerFixture.ExternalServerVariable))
            ? [RedisServerSource.External]
            : RedisTestSettings.DockerMode switch
            {
                RedisDockerMode.On => [RedisServerSource.Container],
                RedisDockerMode.Off => [RedisServerSource.Process],
                _ => new[] { RedisServerSource.Container, RedisServerSource.Process },
            };
        Redis.Source.Should().BeOneOf(expected);
        switch (Redis.Source)
        {
            case RedisServerSource.Container:
                Redis.Container.Should().NotBeNull();
                Redis.ServerPath.Should().BeNull();
                Redis.Description.Should().Contain("Testcontainers container " + RedisTestSettings.Image);
                break;
            case RedisServerSource.Process:
                Redis.Container.Should().BeNull();
                File.Exists(Redis.ServerPath).Should().BeTrue();
                Redis.Description.Should().Contain("local redis-server process").And.Contain("Docker not", "the line says why no container runs");
                break;
            default:
                Redis.OwnsServer.Should().BeFalse();
                break;
        }
    }

    [Fact]
    public async Task Protocol_OfEveryFixtureConnection_IsTheOneTheSwitchAsksFor()
    {
        var expected = RedisTestSettings.ExpectedProtocol;
        output.WriteLine($"{RedisTestSettings.ProtocolVariable}={Environment.GetEnvironmentVariable(RedisTestSettings.ProtocolVariable)}; " +
            $"StackExchange.Redis {RedisTestSettings.ClientPackageVersion}; expected {expected}");

        Server.Protocol.Should().Be(expected, "the shared connection negotiated it");
        using var fresh = await Redis.ConnectAsync();
        RedisServerInfo.SingleServer(fresh).Protocol.Should().Be(expected, "a connection from ConnectAsync negotiated it");

        // And the server agrees (CLIENT LIST resp=, Redis 7+) for every connection of the shared multiplexer.
        var ours = (await Server.ClientListAsync()).Where(client => client.Name == Redis.Multiplexer.ClientName).ToList();
        ours.Should().NotBeEmpty();
        ours.Should().OnlyContain(client => client.Protocol == expected);
        if (RedisTestSettings.Protocol is { } asked)
        {
            Redis.Configuration.Should().Contain("protocol=" + asked.ToString().ToLowerInvariant());
        }
    }

    [Fact]
    public async Task Server_Ping_Answers()
    {
        var latency = await Database.PingAsync();

        latency.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero);
    }

    [Fact]
    public async Task Server_InfoServer_ReportsRedisVersionSevenOrHigher()
    {
        var versionText = await RedisServerInfo.InfoFieldAsync(Server, "server", "redis_version");

        versionText.Should().NotBeNull("INFO server must report redis_version");
        Version.TryParse(versionText, out var version).Should().BeTrue($"'{versionText}' should be a version number");
        version!.Major.Should().BeGreaterThanOrEqualTo(7);
    }

    [Fact]
    public async Task Server_Endpoints_AreLoopbackOnly()
    {
        var options = ConfigurationOptions.Parse(Redis.Configuration);
        options.EndPoints.Should().NotBeEmpty();
        options.EndPoints.Should().OnlyContain(endPoint => IsLoopback(endPoint));

        var bind = (await RedisServerInfo.ConfigGetAsync(Server, "bind")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (Redis.Source)
        {
            case RedisServerSource.Process:
                bind.Should().Equal("127.0.0.1");
                break;
            case RedisServerSource.Container:
                // Inside its network namespace the server listens everywhere; Docker publishes it on loopback only.
                bind.Should().Equal("0.0.0.0");
                var published = await Redis.Container!.PublishedAddressesAsync();
                published.Should().Equal($"127.0.0.1:{Redis.Port}");
                break;
            default:
                // An external server's bind configuration is its owner's business.
                break;
        }
    }

    [Fact]
    public async Task Server_WhenOwned_RunsWithoutPersistence()
    {
        if (!Redis.OwnsServer)
        {
            return;
        }

        (await RedisServerInfo.ConfigGetAsync(Server, "save")).Should().BeEmpty();
        (await RedisServerInfo.ConfigGetAsync(Server, "appendonly")).Should().Be("no");
        (await RedisServerInfo.ConfigGetAsync(Server, "dir")).Should().Be(Redis.DataDirectory, "the data directory is the fixture's, on this machine");
    }

    [Fact]
    public void Configuration_Port_MatchesFirstEndpoint()
    {
        var options = ConfigurationOptions.Parse(Redis.Configuration);
        options.SetDefaultPorts();

        var port = options.EndPoints[0] switch
        {
            IPEndPoint ip => ip.Port,
            DnsEndPoint dns => dns.Port,
            _ => -1,
        };
        port.Should().Be(Redis.Port);
    }

    [Fact]
    public async Task FlushAsync_DatabasesWithKeys_LeavesEveryDatabaseEmpty()
    {
        var other = Redis.Multiplexer.GetDatabase(1);
        for (var i = 0; i < 5; i++)
        {
            await Database.StringSetAsync($"flush:key:{i}", i);
        }

        await Database.ListRightPushAsync("flush:list", "item");
        await Database.HashSetAsync("flush:hash", "field", "value");
        await Database.SortedSetAddAsync("flush:zset", "member", 1);
        await other.StringSetAsync("flush:other", "value");
        (await DbSizeAsync(Database)).Should().Be(8);
        (await DbSizeAsync(other)).Should().Be(1);

        await Redis.FlushAsync();

        (await DbSizeAsync(Database)).Should().Be(0);
        (await DbSizeAsync(other)).Should().Be(0);
    }

    [Fact]
    public async Task ConnectAsync_NewConnection_SeesSameServer()
    {
        await Database.StringSetAsync("connect:key", "shared");

        using var connection = await Redis.ConnectAsync();

        ((string?)await connection.GetDatabase().StringGetAsync("connect:key")).Should().Be("shared");
    }

    [Fact]
    public async Task RestartAsync_ShortDowntime_ServerComesBackEmptyAndMultiplexerReconnects()
    {
        if (!Redis.OwnsServer)
        {
            var restart = () => Redis.RestartAsync(TimeSpan.FromMilliseconds(200));
            await restart.Should().ThrowAsync<InvalidOperationException>().WithMessage("*owned*");
            return;
        }

        await Database.StringSetAsync("restart:key", "before");
        var portBefore = Redis.Port;
        var runBefore = await RedisServerInfo.RunIdAsync(Server);

        await Redis.RestartAsync(TimeSpan.FromMilliseconds(200));

        Redis.Port.Should().Be(portBefore);
        await RedisServerInfo.PingUntilReconnectedAsync(Database, ReconnectTimeout);
        (await RedisServerInfo.RunIdAsync(Server)).Should().NotBe(runBefore, "a new redis-server run should be answering");
        (await Database.KeyExistsAsync("restart:key")).Should().BeFalse("the server was stopped with SHUTDOWN NOSAVE");
        await Database.StringSetAsync("restart:key", "after");
        ((string?)await Database.StringGetAsync("restart:key")).Should().Be("after");
    }

    [Fact]
    public async Task RestartAsync_NegativeDowntime_Throws()
    {
        var restart = () => Redis.RestartAsync(TimeSpan.FromMilliseconds(-1));

        await restart.Should().ThrowAsync<ArgumentOutOfRangeException>();
    }

    private Task<long> DbSizeAsync(IDatabase database) => Server.DatabaseSizeAsync(database.Database);

    private static bool IsLoopback(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
        DnsEndPoint dns => RedisProcesses.IsLoopbackHost(dns.Host),
        _ => false,
    };
}
