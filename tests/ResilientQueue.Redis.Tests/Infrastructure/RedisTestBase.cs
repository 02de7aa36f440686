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

    /// <summary>
    /// Runs <paramref name="write"/> while the server refuses every write that may grow memory (maxmemory 1 byte,
    /// noeviction), then restores both settings; returns the server's error (the test asserts it is OOM). Needs a
    /// redis-server the fixture owns.
    /// </summary>
    protected async Task<RedisServerException> FailsOverMaxmemoryAsync(Func<Task> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        if (!Redis.OwnsServer)
        {
            throw new InvalidOperationException($"{RedisServerFixture.ExternalServerVariable} points at an external server, whose maxmemory this test may not change; it needs a redis-server the fixture owns (unset the variable, as in CI).");
        }

        IServer server = Redis.Multiplexer.GetServers()[0];
        string maxmemory = (await server.ConfigGetAsync("maxmemory"))[0].Value;
        string policy = (await server.ConfigGetAsync("maxmemory-policy"))[0].Value;
        try
        {
            await server.ConfigSetAsync("maxmemory-policy", "noeviction");
            await server.ConfigSetAsync("maxmemory", "1");
            try
            {
                await write();
            }
            catch (RedisServerException ex)
            {
                return ex;
            }
        }
        finally
        {
            await server.ConfigSetAsync("maxmemory", maxmemory);
            await server.ConfigSetAsync("maxmemory-policy", policy);
        }

        throw new InvalidOperationException("The write succeeded although the server had no memory to spare.");
    }
}
