using Microsoft.Extensions.DependencyInjection;
using ResilientQueue.Conformance.Processing;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.DependencyInjection;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// The worker's behaviour on the Redis list backend with the connection the library opens itself from a configuration
/// string (<c>UseRedisLists("host:port")</c>, as the README shows), not the app's multiplexer.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisListOwnedConnectionJobWorkerConformanceTests(RedisServerFixture redis) : JobWorkerConformanceTests
{
    protected override void UseBackend(ResilientQueueBuilder builder, IServiceCollection services) => builder.UseRedisLists(redis.Configuration);
}
