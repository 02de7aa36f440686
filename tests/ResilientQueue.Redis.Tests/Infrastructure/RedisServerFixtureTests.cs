using System.Diagnostics;
using System.Net;
using FluentAssertions;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Infrastructure;

[Collection(RedisCollection.Name)]
public sealed class RedisServerFixtureTests(RedisServerFixture redis) : RedisTestBase(redis)
{
    private static readonly TimeSpan ReconnectTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Server_Ping_Answers()
    {
        var latency = await Database.PingAsync();

        latency.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero);
    }

    [Fact]
    public async Task Server_InfoServer_ReportsRedisVersionSevenOrHigher()
    {
        var info = (string?)await Database.ExecuteAsync("INFO", "server");

        info.Should().NotBeNullOrEmpty();
        var versionText = RedisServerFixture.ReadInfoField(info!, "redis_version");
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

        if (!Redis.OwnsServer)
        {
            // An external server's bind configuration is its owner's business.
            return;
        }

        var reply = (RedisResult[]?)await Database.ExecuteAsync("CONFIG", "GET", "bind");

        reply.Should().NotBeNull().And.HaveCount(2);
        var bind = ((string?)reply![1] ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        bind.Should().Equal("127.0.0.1");
    }

    [Fact]
    public async Task Server_WhenOwned_RunsWithoutPersistence()
    {
        if (!Redis.OwnsServer)
        {
            return;
        }

        var save = (RedisResult[]?)await Database.ExecuteAsync("CONFIG", "GET", "save");
        var appendOnly = (RedisResult[]?)await Database.ExecuteAsync("CONFIG", "GET", "appendonly");

        ((string?)save![1]).Should().BeEmpty();
        ((string?)appendOnly![1]).Should().Be("no");
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
        var processIdBefore = await ProcessIdAsync(Database);

        await Redis.RestartAsync(TimeSpan.FromMilliseconds(200));

        Redis.Port.Should().Be(portBefore);
        await PingUntilReconnectedAsync(Database);
        (await ProcessIdAsync(Database)).Should().NotBe(processIdBefore, "a new redis-server process should be running");
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

    private static async Task<long> DbSizeAsync(IDatabase database) => (long)await database.ExecuteAsync("DBSIZE");

    private static async Task<string?> ProcessIdAsync(IDatabase database)
    {
        var info = (string?)await database.ExecuteAsync("INFO", "server");
        return RedisServerFixture.ReadInfoField(info ?? string.Empty, "process_id");
    }

    private static async Task PingUntilReconnectedAsync(IDatabase database)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await database.PingAsync();
                return;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && stopwatch.Elapsed < ReconnectTimeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    private static bool IsLoopback(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
        DnsEndPoint dns when string.Equals(dns.Host, "localhost", StringComparison.OrdinalIgnoreCase) => true,
        DnsEndPoint dns => IPAddress.TryParse(dns.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address),
        _ => false,
    };
}
