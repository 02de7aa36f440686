using Microsoft.Extensions.DependencyInjection;
using ResilientQueue.Conformance.Processing;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary>The worker's behaviour on the Redis stream backend (a group of its own per test class), with the app's shared multiplexer.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamJobWorkerConformanceTests(RedisServerFixture redis) : JobWorkerConformanceTests
{
    protected override void UseBackend(ResilientQueueBuilder builder, IServiceCollection services)
    {
        services.AddSingleton<IConnectionMultiplexer>(redis.Multiplexer);
        builder.UseRedisStreams(o => o.Group = "workers");
    }
}

/// <summary>The worker's behaviour on the Redis stream backend with the connection the library opens itself (<c>UseRedisStreams("host:port")</c>).</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamOwnedConnectionJobWorkerConformanceTests(RedisServerFixture redis) : JobWorkerConformanceTests
{
    protected override void UseBackend(ResilientQueueBuilder builder, IServiceCollection services) => builder.UseRedisStreams(redis.Configuration);
}

/// <summary>The stale-job reaper on the Redis stream backend, against the test run's real redis-server.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamStaleJobReaperConformanceTests(RedisServerFixture redis) : StaleJobReaperConformanceTests
{
    protected override IJobQueue CreateQueue(string name, JobQueueOptions options, TimeProvider time) =>
        new RedisStreamJobQueue(redis.Multiplexer, name, options, new RedisStreamOptions { Group = "reapers" }, time);
}
