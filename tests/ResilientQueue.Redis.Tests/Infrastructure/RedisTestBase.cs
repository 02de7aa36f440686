using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Infrastructure;

/// <summary>
/// Base class for tests that talk to Redis: joins the <see cref="RedisCollection"/> (one shared server)
/// and flushes the server before each test, so every test starts from an empty server.
/// </summary>
[Collection(RedisCollection.Name)]
public abstract class RedisTestBase : IAsyncLifetime
{
    /// <summary>Creates the test with the collection's shared Redis fixture.</summary>
    protected RedisTestBase(RedisServerFixture redis)
    {
        ArgumentNullException.ThrowIfNull(redis);
        Redis = redis;
    }

    /// <summary>The shared Redis server fixture.</summary>
    protected RedisServerFixture Redis { get; }

    /// <summary>Database 0 of the shared connection.</summary>
    protected IDatabase Database => Redis.Multiplexer.GetDatabase();

    /// <summary>Flushes the server (<c>FLUSHALL</c>) before each test.</summary>
    public virtual Task InitializeAsync() => Redis.FlushAsync();

    /// <summary>Nothing to clean up by default: the next test flushes the server.</summary>
    public virtual Task DisposeAsync() => Task.CompletedTask;
}
