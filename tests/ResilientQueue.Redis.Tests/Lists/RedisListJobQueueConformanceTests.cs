using Microsoft.Extensions.Logging;
using ResilientQueue.Conformance;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>The conformance suite on the Redis list backend, against the test run's real redis-server.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisListJobQueueConformanceTests(RedisServerFixture redis) : JobQueueConformanceTests
{
    // Every scenario uses a queue of its own (a fresh name), so the server is not flushed between them.
    protected override ValueTask<IJobQueue> CreateQueueAsync(string name, JobQueueOptions options, TimeProvider timeProvider, ILogger logger) =>
        ValueTask.FromResult<IJobQueue>(new RedisListJobQueue(redis.Multiplexer, name, options, timeProvider, logger));
}
