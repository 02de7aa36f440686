using Microsoft.Extensions.Logging;
using ResilientQueue.Conformance;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary>The conformance suite on the Redis stream backend (one group per queue object), against the test run's real redis-server.</summary>
[Collection(RedisCollection.Name)]
[BackendLacks(JobQueueCapabilities.Priorities, StreamBackend.NoPriorities)]
public sealed class RedisStreamJobQueueConformanceTests(RedisServerFixture redis) : JobQueueConformanceTests
{
    // Every scenario uses a queue of its own (a fresh name), so the server is not flushed between them.
    protected override ValueTask<IJobQueue> CreateQueueAsync(string name, JobQueueOptions options, TimeProvider timeProvider, ILogger logger) =>
        ValueTask.FromResult<IJobQueue>(new RedisStreamJobQueue(redis.Multiplexer, name, options, new RedisStreamOptions { Group = "conformance" }, timeProvider, logger));
}

/// <summary>
/// The whole conformance suite on the Redis stream backend against a real three-master Redis Cluster: each scenario's
/// queue (a fresh hash tag) lands on whichever master owns its slot, and every script, with the keys it derives for
/// its group, must be accepted there (no CROSSSLOT).
/// </summary>
[Collection(RedisClusterCollection.Name)]
[BackendLacks(JobQueueCapabilities.Priorities, StreamBackend.NoPriorities)]
public sealed class RedisStreamClusterConformanceTests(RedisClusterFixture cluster) : JobQueueConformanceTests
{
    protected override ValueTask<IJobQueue> CreateQueueAsync(string name, JobQueueOptions options, TimeProvider timeProvider, ILogger logger) =>
        ValueTask.FromResult<IJobQueue>(new RedisStreamJobQueue(cluster.Multiplexer, name, options, new RedisStreamOptions { Group = "cluster" }, timeProvider, logger));
}

/// <summary>What the stream backend's test classes say about it.</summary>
internal static class StreamBackend
{
    public const string NoPriorities = "a Redis stream is one log, delivered to each group in the order it was written; enqueues with a priority are rejected (NotSupportedException)";
}
