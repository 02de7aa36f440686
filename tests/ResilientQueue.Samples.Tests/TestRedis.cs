using ResilientQueue.Testing.Redis;
using StackExchange.Redis;

namespace ResilientQueue.Samples.Tests;

/// <summary>
/// A Redis server of a test's own (a sample keeps fixed key names): a redis-server process started for it, or, with
/// <c>RESILIENTQUEUE_REDIS_DOCKER=on</c>, a Testcontainers container, as the Redis tests' switches say
/// (<see cref="RedisTestSettings"/>); with <c>RESILIENTQUEUE_REDIS</c> set, database 11 of that server, emptied first. Either is started through ResilientQueue.Testing.Redis and stopped on dispose.
/// </summary>
public sealed class TestRedis : IAsyncDisposable
{
    private readonly RedisServerProcess? _process;
    private readonly RedisContainerServer? _container;
    private readonly string? _directory;

    private TestRedis(string endPoint, ConnectionMultiplexer multiplexer, RedisServerProcess? process, RedisContainerServer? container, string? directory)
    {
        EndPoint = endPoint;
        Multiplexer = multiplexer;
        _process = process;
        _container = container;
        _directory = directory;
    }

    /// <summary>The configuration the sample is given: <c>127.0.0.1:port</c>.</summary>
    public string EndPoint { get; }

    /// <summary>A connection for the test's own reads.</summary>
    public ConnectionMultiplexer Multiplexer { get; }

    /// <summary>Starts a server.</summary>
    public static async Task<TestRedis> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("RESILIENTQUEUE_REDIS") is { Length: > 0 } external)
        {
            // A server someone else runs: a database of the samples' own, emptied first.
            string configuration = external + ",defaultDatabase=11,allowAdmin=true";
            ConnectionMultiplexer multiplexer = await ConnectAsync(configuration);
            await multiplexer.GetServers()[0].FlushDatabaseAsync(11);
            return new TestRedis(configuration, multiplexer, null, null, null);
        }

        if (RedisTestSettings.DockerMode == RedisDockerMode.On)
        {
            string directory = Directory.CreateTempSubdirectory("resilientqueue-samples-").FullName;
            RedisContainerServer container = await RedisContainerServer.StartAsync(RedisTestSettings.Image, directory);
            return new TestRedis(container.EndPoint, await ConnectAsync(container.EndPoint), null, container, directory);
        }

        RedisServerProcess process = await RedisServerProcess.StartAsync();
        return new TestRedis(process.EndPoint, await ConnectAsync(process.EndPoint), process, null, null);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Multiplexer.DisposeAsync();
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        if (_directory is not null)
        {
            RedisProcesses.DeleteDirectory(_directory);
        }
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(string endPoint) =>
        await ConnectionMultiplexer.ConnectAsync(RedisTestSettings.ApplyProtocol(ConfigurationOptions.Parse(endPoint)));
}
