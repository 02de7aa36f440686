using Microsoft.Extensions.Logging;
using ResilientQueue.Redis.Connections;
using ResilientQueue.Redis.Lists;
using StackExchange.Redis;

namespace ResilientQueue.Redis.DependencyInjection;

/// <summary>
/// Creates <see cref="RedisListJobQueue"/>s on the process's one multiplexer: the app's <see cref="IConnectionMultiplexer"/>
/// when one is registered, otherwise one this factory opens from the configuration string (in the background, see
/// <see cref="RedisConnection.Open"/>) and closes when disposed.
/// </summary>
internal sealed class RedisListJobQueueFactory(IServiceProvider services, RedisListsOptions registration)
    : RedisJobQueueFactory(services, registration.Configuration, "UseRedisLists")
{
    private readonly int _database = registration.Database;

    public override IJobQueue Create(string queueName, JobQueueOptions options) =>
        new RedisListJobQueue(Connection, disposesConnection: false, queueName, options, TimeProvider, Loggers.CreateLogger<RedisListJobQueue>(), _database);
}

/// <summary>What <c>UseRedisLists</c> was given.</summary>
/// <param name="Configuration">The configuration string, when the app registers no multiplexer.</param>
/// <param name="Database">The database; -1 for the multiplexer's default.</param>
internal sealed record RedisListsOptions(string? Configuration, int Database);
