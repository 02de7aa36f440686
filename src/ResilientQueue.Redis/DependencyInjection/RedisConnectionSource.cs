using Microsoft.Extensions.Logging;
using ResilientQueue.Redis.Connections;
using StackExchange.Redis;

namespace ResilientQueue.Redis.DependencyInjection;

/// <summary>The one connection a backend factory's queues share: the app's multiplexer when one is registered, else one opened from the configuration string.</summary>
internal static class RedisConnectionSource
{
    /// <param name="services">The container (a registered <see cref="IConnectionMultiplexer"/>, a <see cref="TimeProvider"/>).</param>
    /// <param name="loggers">Where connection events are logged.</param>
    /// <param name="configuration">The configuration string, used when no multiplexer is registered.</param>
    /// <param name="useMethod">The builder method, for the error when there is neither (e.g. <c>UseRedisLists</c>).</param>
    /// <returns>The connection; an opened one connects in the background and is retried until Redis answers.</returns>
    /// <exception cref="InvalidOperationException">There is neither a multiplexer nor a configuration string.</exception>
    public static RedisConnection Connect(IServiceProvider services, ILoggerFactory loggers, string? configuration, string useMethod)
    {
        ILogger logger = loggers.CreateLogger("ResilientQueue.Redis.Connection");
        if (services.GetService(typeof(IConnectionMultiplexer)) is IConnectionMultiplexer shared)
        {
            return RedisConnection.Share(shared, logger);
        }

        if (string.IsNullOrWhiteSpace(configuration))
        {
            throw new InvalidOperationException($"{useMethod} needs a Redis configuration string, or an IConnectionMultiplexer registered in the service collection.");
        }

        return RedisConnection.Open(configuration, logger, (TimeProvider?)services.GetService(typeof(TimeProvider)));
    }
}
