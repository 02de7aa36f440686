using ResilientQueue.Conformance.Processing;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>The stale-job reaper on the Redis list backend, against the test run's real redis-server.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisListStaleJobReaperConformanceTests(RedisServerFixture redis) : StaleJobReaperConformanceTests
{
    protected override IJobQueue CreateQueue(string name, JobQueueOptions options, TimeProvider time) => new RedisListJobQueue(redis.Multiplexer, name, options, time);
}
