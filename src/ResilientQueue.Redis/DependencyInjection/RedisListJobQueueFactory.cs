using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.Connections;
using ResilientQueue.Redis.Lists;
using StackExchange.Redis;

namespace ResilientQueue.Redis.DependencyInjection;

/// <summary>
/// Creates <see cref="RedisListJobQueue"/>s on the process's one multiplexer: the app's <see cref="IConnectionMultiplexer"/>
/// when one is registered, otherwise one this factory opens from the configuration string (in the background, see
/// <see cref="RedisConnection.Open"/>) and closes when disposed.
/// </summary>
internal sealed class RedisListJobQueueFactory : IJobQueueFactory, IDisposable, IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly RedisListsOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly Lazy<RedisConnection> _connection;

    public RedisListJobQueueFactory(IServiceProvider services, RedisListsOptions options)
    {
        _services = services;
        _options = options;
        _loggers = (ILoggerFactory?)services.GetService(typeof(ILoggerFactory)) ?? NullLoggerFactory.Instance;
        _connection = new Lazy<RedisConnection>(Connect, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public IJobQueue Create(string queueName, JobQueueOptions options) =>
        new RedisListJobQueue(_connection.Value, disposesConnection: false, queueName, options, (TimeProvider?)_services.GetService(typeof(TimeProvider)), _loggers.CreateLogger<RedisListJobQueue>(), _options.Database);

    public void Dispose()
    {
        if (_connection.IsValueCreated)
        {
            _connection.Value.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            await _connection.Value.DisposeAsync().ConfigureAwait(false);
        }
    }

    // Returns at once: an opened connection is made in the background and retried until Redis answers.
    private RedisConnection Connect() => RedisConnectionSource.Connect(_services, _loggers, _options.Configuration, "UseRedisLists");
}

/// <summary>What <c>UseRedisLists</c> was given.</summary>
/// <param name="Configuration">The configuration string, when the app registers no multiplexer.</param>
/// <param name="Database">The database; -1 for the multiplexer's default.</param>
internal sealed record RedisListsOptions(string? Configuration, int Database);
