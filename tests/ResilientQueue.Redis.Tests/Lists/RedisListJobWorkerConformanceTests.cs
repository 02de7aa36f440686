using Microsoft.Extensions.DependencyInjection;
using ResilientQueue.Conformance.Processing;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.DependencyInjection;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>The worker's behaviour on the Redis list backend, against the test run's real redis-server, with the app's shared multiplexer.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisListJobWorkerConformanceTests(RedisServerFixture redis) : JobWorkerConformanceTests
{
    protected override void UseBackend(ResilientQueueBuilder builder, IServiceCollection services)
    {
        services.AddSingleton<IConnectionMultiplexer>(redis.Multiplexer);
        builder.UseRedisLists();
    }
}
