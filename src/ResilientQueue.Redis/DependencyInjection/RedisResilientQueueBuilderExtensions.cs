using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.DependencyInjection;
using ResilientQueue.Redis.Streams;

// In the namespace of AddResilientQueue, so UseRedisLists is found with no other using, as the Microsoft.Extensions.* do.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses a Redis backend for ResilientQueue: lists (<c>UseRedisLists</c>) or streams with consumer groups (<c>UseRedisStreams</c>).</summary>
public static class RedisResilientQueueBuilderExtensions
{
    /// <summary>
    /// Uses <see cref="ResilientQueue.Redis.Lists.RedisListJobQueue"/> for every queue. The queues share the app's registered
    /// <c>IConnectionMultiplexer</c> when there is one (one per process); otherwise they share one connected from
    /// <paramref name="configuration"/>, closed when the container is disposed.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configuration">A StackExchange.Redis configuration string, used only when no multiplexer is registered.</param>
    /// <param name="database">The Redis database; -1 (the default) for the multiplexer's default.</param>
    /// <returns>The builder.</returns>
    public static ResilientQueueBuilder UseRedisLists(this ResilientQueueBuilder builder, string? configuration = null, int database = -1)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton(new RedisListsOptions(configuration, database)));
        return builder.UseBackend<RedisListJobQueueFactory>();
    }

    /// <summary>Uses <see cref="RedisStreamJobQueue"/> for every queue, configured by <paramref name="configure"/>, on the app's registered <c>IConnectionMultiplexer</c>.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Sets the stream options (the group this app reads as, the declared groups, history, housekeeping); validated at start-up.</param>
    /// <returns>The builder.</returns>
    public static ResilientQueueBuilder UseRedisStreams(this ResilientQueueBuilder builder, Action<RedisStreamOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        return UseRedisStreams(builder, configuration: null, database: -1, configure);
    }

    /// <summary>
    /// Uses <see cref="RedisStreamJobQueue"/> for every queue: one Redis stream per queue, read by consumer groups (this
    /// app's queues read as <see cref="RedisStreamOptions.Group"/>). The queues share the app's registered
    /// <c>IConnectionMultiplexer</c> when there is one (one per process); otherwise they share one connected from
    /// <paramref name="configuration"/>, closed when the container is disposed.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configuration">A StackExchange.Redis configuration string, used only when no multiplexer is registered.</param>
    /// <param name="database">The Redis database; -1 (the default) for the multiplexer's default.</param>
    /// <param name="configure">Sets the stream options; validated at start-up. <see langword="null"/> for the defaults.</param>
    /// <returns>The builder.</returns>
    public static ResilientQueueBuilder UseRedisStreams(this ResilientQueueBuilder builder, string? configuration = null, int database = -1, Action<RedisStreamOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton(new RedisStreamsRegistration(configuration, database)));
        OptionsBuilder<RedisStreamOptions> options = builder.Services.AddOptions<RedisStreamOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisStreamOptions>, RedisStreamOptionsValidator>());
        return builder.UseBackend<RedisStreamJobQueueFactory>();
    }
}
