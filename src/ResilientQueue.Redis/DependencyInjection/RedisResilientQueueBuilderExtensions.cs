using Microsoft.Extensions.DependencyInjection.Extensions;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.DependencyInjection;

// In the namespace of AddResilientQueue, so UseRedisLists is found with no other using, as the Microsoft.Extensions.* do.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Chooses the Redis list backend for ResilientQueue.</summary>
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
}
