using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.Connections;

namespace ResilientQueue.Redis.DependencyInjection;

/// <summary>
/// What the Redis backends' factories share: the process's one connection (see <see cref="RedisConnectionSource"/>),
/// made on the first queue and closed when the factory is disposed, and the container's loggers and clock.
/// </summary>
internal abstract class RedisJobQueueFactory : IJobQueueFactory, IDisposable, IAsyncDisposable
{
    private readonly Lazy<RedisConnection> _connection;

    /// <param name="services">The container.</param>
    /// <param name="configuration">The configuration string, used when no multiplexer is registered.</param>
    /// <param name="useMethod">The builder method, for the error when there is neither (e.g. <c>UseRedisLists</c>).</param>
    protected RedisJobQueueFactory(IServiceProvider services, string? configuration, string useMethod)
    {
        Loggers = (ILoggerFactory?)services.GetService(typeof(ILoggerFactory)) ?? NullLoggerFactory.Instance;
        TimeProvider = (TimeProvider?)services.GetService(typeof(TimeProvider));

        // Returns at once: an opened connection is made in the background and retried until Redis answers.
        _connection = new Lazy<RedisConnection>(
            () => RedisConnectionSource.Connect(services, Loggers, configuration, useMethod),
            LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The container's loggers (none when it has no <see cref="ILoggerFactory"/>).</summary>
    protected ILoggerFactory Loggers { get; }

    /// <summary>The container's clock; <see langword="null"/> for <see cref="TimeProvider.System"/>.</summary>
    protected TimeProvider? TimeProvider { get; }

    /// <summary>The shared connection, made on first use.</summary>
    protected RedisConnection Connection => _connection.Value;

    /// <inheritdoc />
    public abstract IJobQueue Create(string queueName, JobQueueOptions options);

    /// <summary>Closes the connection if this factory made or shares one (a shared multiplexer stays open).</summary>
    public void Dispose()
    {
        if (_connection.IsValueCreated)
        {
            _connection.Value.Dispose();
        }
    }

    /// <summary>Closes the connection if this factory made or shares one, asynchronously.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated)
        {
            await _connection.Value.DisposeAsync().ConfigureAwait(false);
        }
    }
}
