using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.Lists;
using StackExchange.Redis;

namespace ResilientQueue.Redis.DependencyInjection;

/// <summary>
/// Creates <see cref="RedisListJobQueue"/>s on the process's one multiplexer: the app's <see cref="IConnectionMultiplexer"/>
/// when one is registered, otherwise one this factory connects from the configuration string and closes when disposed.
/// </summary>
internal sealed class RedisListJobQueueFactory : IJobQueueFactory, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly RedisListsOptions _options;
    private readonly Lazy<IConnectionMultiplexer> _multiplexer;
    private ConnectionMultiplexer? _owned;

    public RedisListJobQueueFactory(IServiceProvider services, RedisListsOptions options)
    {
        _services = services;
        _options = options;
        _multiplexer = new Lazy<IConnectionMultiplexer>(Connect, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public IJobQueue Create(string queueName, JobQueueOptions options)
    {
        var loggers = (ILoggerFactory?)_services.GetService(typeof(ILoggerFactory)) ?? NullLoggerFactory.Instance;
        return new RedisListJobQueue(_multiplexer.Value, queueName, options, (TimeProvider?)_services.GetService(typeof(TimeProvider)), loggers.CreateLogger<RedisListJobQueue>(), _options.Database);
    }

    public void Dispose()
    {
        if (_owned is not null)
        {
            ((IDisposable)_owned).Dispose();
        }
    }

    private IConnectionMultiplexer Connect()
    {
        if (_services.GetService(typeof(IConnectionMultiplexer)) is IConnectionMultiplexer shared)
        {
            return shared;
        }

        if (string.IsNullOrWhiteSpace(_options.Configuration))
        {
            throw new InvalidOperationException("UseRedisLists needs a Redis configuration string, or an IConnectionMultiplexer registered in the service collection.");
        }

        // The synchronous connect of the client library, once per process when the first queue is created.
        _owned = ConnectionMultiplexer.Connect(_options.Configuration);
        return _owned;
    }
}

/// <summary>What <c>UseRedisLists</c> was given.</summary>
/// <param name="Configuration">The configuration string, when the app registers no multiplexer.</param>
/// <param name="Database">The database; -1 for the multiplexer's default.</param>
internal sealed record RedisListsOptions(string? Configuration, int Database);
