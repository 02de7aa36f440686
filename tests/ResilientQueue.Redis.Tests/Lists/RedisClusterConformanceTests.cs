using Microsoft.Extensions.Logging;
using ResilientQueue.Conformance;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// The whole conformance suite on the Redis list backend against a real three-master Redis Cluster: every scenario's
/// queue (a fresh name, so a fresh hash tag) lands on whichever master owns its slot, and every script call must be
/// routed there by StackExchange.Redis and accepted by the node (no CROSSSLOT, no MOVED left unhandled).
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterConformanceTests(RedisClusterFixture cluster) : JobQueueConformanceTests
{
    // Every scenario uses a queue of its own (a fresh name), so the cluster is not flushed between them.
    protected override ValueTask<IJobQueue> CreateQueueAsync(string name, JobQueueOptions options, TimeProvider timeProvider, ILogger logger) =>
        ValueTask.FromResult<IJobQueue>(new RedisListJobQueue(cluster.Multiplexer, name, options, timeProvider, logger));
}
