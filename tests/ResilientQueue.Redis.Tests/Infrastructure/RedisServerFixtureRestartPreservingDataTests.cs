using FluentAssertions;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Infrastructure;

[Collection(RedisCollection.Name)]
public sealed class RedisServerFixtureRestartPreservingDataTests(RedisServerFixture redis) : RedisTestBase(redis)
{
    private static readonly TimeSpan ReconnectTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RestartPreservingDataAsync_KeysOfEveryType_SurviveAndTheServerStaysWithoutPersistence()
    {
        if (!Redis.OwnsServer)
        {
            var restart = () => Redis.RestartPreservingDataAsync(TimeSpan.Zero);
            await restart.Should().ThrowAsync<InvalidOperationException>().WithMessage("*owned*");
            return;
        }

        await Database.StringSetAsync("keep:string", "value");
        await Database.HashSetAsync("keep:hash", "field", "value");
        await Database.ListRightPushAsync("keep:list", "item");
        await Database.SortedSetAddAsync("keep:zset", "member", 42);
        var runBefore = await RedisServerProbe.InfoFieldAsync(Database, "server", "run_id");

        await Redis.RestartPreservingDataAsync(TimeSpan.FromMilliseconds(100));
        await RedisServerProbe.PingUntilReconnectedAsync(Database, ReconnectTimeout);

        (await RedisServerProbe.InfoFieldAsync(Database, "server", "run_id")).Should().NotBe(runBefore, "a new redis-server run should be answering");
        ((string?)await Database.StringGetAsync("keep:string")).Should().Be("value");
        ((string?)await Database.HashGetAsync("keep:hash", "field")).Should().Be("value");
        ((string?)await Database.ListGetByIndexAsync("keep:list", 0)).Should().Be("item");
        (await Database.SortedSetScoreAsync("keep:zset", "member")).Should().Be(42);
        (await RedisServerProbe.PersistenceProblemsAsync(Database)).Should().BeEmpty("the server is back in its normal state");
    }

    [Fact]
    public async Task RestartAsync_AfterARestartPreservingData_StartsEmptyAgain()
    {
        if (!Redis.OwnsServer)
        {
            return;
        }

        await Database.StringSetAsync("keep:string", "value");
        await Redis.RestartPreservingDataAsync(TimeSpan.Zero);
        await RedisServerProbe.PingUntilReconnectedAsync(Database, ReconnectTimeout);
        (await Database.KeyExistsAsync("keep:string")).Should().BeTrue();

        await Redis.RestartAsync(TimeSpan.Zero);
        await RedisServerProbe.PingUntilReconnectedAsync(Database, ReconnectTimeout);

        (await Database.KeyExistsAsync("keep:string")).Should().BeFalse("a plain restart never loads the snapshot of an earlier restart");
        ((long)await Database.ExecuteAsync("DBSIZE")).Should().Be(0);
        (await RedisServerProbe.PersistenceProblemsAsync(Database)).Should().BeEmpty();
    }
}
