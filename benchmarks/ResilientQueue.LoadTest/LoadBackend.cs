using Microsoft.Extensions.DependencyInjection;
using ResilientQueue.Backends;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Streams;
using StackExchange.Redis;

namespace ResilientQueue.LoadTest;

/// <summary>Which Redis backend a run measures.</summary>
internal enum Backend
{
    /// <summary><see cref="RedisListJobQueue"/>.</summary>
    Lists,

    /// <summary><see cref="RedisStreamJobQueue"/>, one consumer group per consuming pipeline.</summary>
    Streams,
}

/// <summary>Opens the queues of a run on its backend: the producer (which declares the stream's groups) and each group's consumer.</summary>
/// <param name="Kind">The backend.</param>
/// <param name="Groups">How many consumer groups read the stream (1 on lists): every job is consumed once per group.</param>
internal sealed record LoadBackend(Backend Kind, int Groups)
{
    public static string GroupName(int index) => "g" + index;

    /// <summary>The producer's view: on streams it declares every group before its first enqueue.</summary>
    public JobQueueBase Producer(IConnectionMultiplexer redis, string queue) => Kind == Backend.Streams
        ? new RedisStreamJobQueue(redis, queue, Options, new RedisStreamOptions { Group = GroupName(0), Groups = [.. Enumerable.Range(0, Groups).Select(GroupName)] })
        : new RedisListJobQueue(redis, queue, Options);

    /// <summary>Group <paramref name="group"/>'s view (the list queue on lists).</summary>
    public JobQueueBase Consumer(IConnectionMultiplexer redis, string queue, int group) => Kind == Backend.Streams
        ? new RedisStreamJobQueue(redis, queue, Options, new RedisStreamOptions { Group = GroupName(group) })
        : new RedisListJobQueue(redis, queue, Options);

    /// <summary>Chooses the backend in a host, reading as group <paramref name="group"/> on streams.</summary>
    public ResilientQueueBuilder Use(ResilientQueueBuilder builder, int group) => Kind == Backend.Streams
        ? builder.UseRedisStreams(o => o.Group = GroupName(group))
        : builder.UseRedisLists();

    private static JobQueueOptions Options => new() { Capacity = 10_000_000 };
}
