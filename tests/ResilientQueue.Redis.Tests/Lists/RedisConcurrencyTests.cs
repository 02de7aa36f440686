using System.Collections.Concurrent;
using System.Text;
using FluentAssertions;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// Races on a real server, from several connections (each <see cref="ConnectionMultiplexer"/> stands for a process):
/// the atomic steps the architecture promises (requeue, the capacity check, fetch) hold under contention.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisConcurrencyTests(RedisServerFixture redis) : RedisTestBase(redis)
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private readonly List<ConnectionMultiplexer> _connections = [];
    private readonly List<RedisListJobQueue> _queues = [];

    public override async Task DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            await queue.DisposeAsync();
        }

        foreach (var connection in _connections)
        {
            connection.Dispose();
            }

        await base.DisposeAsync();
    }

    [Fact]
    public async Task RequeueAsync_50ConcurrentCallersOnOneDeadEntry_ExactlyOneRequeuesIt_In100Rounds()
    {
        const int Rounds = 100;
        const int Callers = 50;
        var queues = await QueuesOnSeparateConnectionsAsync("requeue-race", new JobQueueOptions());
        var queue = queues[0];

        for (var round = 0; round < Rounds; round++)
        {
            // A fresh dead-letter entry each round.
            var id = (await queue.EnqueueAsync(Payload("round " + round))).JobId;
            var leased = (await queue.FetchAsync(1, Lease)).Should().ContainSingle().Subject;
            leased.Job.Id.Should().Be(id);
            (await queue.FailAsync(leased.Lease, new JobError("JsonException", "bad", ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison")))
                .Outcome.Should().Be(FailOutcome.DeadLettered);

            // All callers start together, spread over both connections.
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var requeues = Enumerable.Range(0, Callers)
                .Select(async caller =>
                {
                    await start.Task;
                    return await queues[caller % queues.Count].DeadLetters.RequeueAsync(id);
                })
                .ToList();
            start.SetResult();
            var results = await Task.WhenAll(requeues).WaitAsync(Bound);

            results.Count(result => result == RequeueResult.Requeued).Should().Be(1, $"exactly one of {Callers} concurrent requeues may win (round {round})");
            results.Where(result => result != RequeueResult.Requeued).Should().AllBeEquivalentTo(RequeueResult.NotDeadLettered, $"the losers find the job alive (round {round})");
            var status = await queue.GetStatusAsync();
            (status.Ready, status.Dead, status.Active).Should().Be((1L, 0L, 0L), $"the job is ready exactly once (round {round})");

            // Take it out again, so the next round starts empty.
            var again = (await queue.FetchAsync(10, Lease)).Should().ContainSingle().Subject;
            again.Job.Id.Should().Be(id);
            (await queue.AckAsync(again.Lease)).Should().Be(LeaseResult.Succeeded);
        }

        (await queue.GetStatusAsync()).Depth.Should().Be(0);
    }

    [Fact]
    public async Task EnqueueAsync_20ConcurrentProducersAtCapacity100_AcceptsExactly100AndDepthNeverExceedsCapacity()
    {
        const int Capacity = 100;
        const int Producers = 20;
        const int AttemptsPerProducer = 25;
        var queues = await QueuesOnSeparateConnectionsAsync("capacity-race", new JobQueueOptions { Capacity = Capacity });
        var sampler = queues[^1];
        var accepted = new ConcurrentBag<string>();
        var rejected = new ConcurrentBag<QueueFullException>();
        var samples = new ConcurrentBag<long>();

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var producing = new CancellationTokenSource();
        var producers = Enumerable.Range(0, Producers)
            .Select(async producer =>
            {
                await start.Task;
                var queue = queues[producer % queues.Count];
                for (var attempt = 0; attempt < AttemptsPerProducer; attempt++)
                {
                    try
                    {
                        accepted.Add((await queue.EnqueueAsync(Payload($"{producer}/{attempt}"))).JobId);
                    }
                    catch (QueueFullException ex)
                    {
                        rejected.Add(ex);
                    }
                }
            })
            .ToList();
        var sampling = Task.Run(async () =>
        {
            await start.Task;
            while (!producing.IsCancellationRequested)
            {
                samples.Add((await sampler.GetStatusAsync()).Depth);
            }
        });

        start.SetResult();
        try
        {
            await Task.WhenAll(producers).WaitAsync(Bound);
        }
        finally
        {
            await producing.CancelAsync();
            await sampling.WaitAsync(Bound);
            producing.Dispose();
        }

        accepted.Should().HaveCount(Capacity).And.OnlyHaveUniqueItems();
        rejected.Should().HaveCount((Producers * AttemptsPerProducer) - Capacity);
        rejected.Should().OnlyContain(ex => ex.Capacity == Capacity && ex.Depth <= Capacity && ex.Requested == 1);
        samples.Should().NotBeEmpty("the status was sampled while producing");
        samples.Should().OnlyContain(depth => depth <= Capacity, "the depth may never exceed the capacity");
        var status = await sampler.GetStatusAsync();
        (status.Depth, status.Ready).Should().Be(((long)Capacity, (long)Capacity));
    }

    [Fact]
    public async Task FetchAsync_8ConcurrentBatchConsumersOn2Connections_DeliverEachOf2000JobsExactlyOnce()
    {
        const int Jobs = 2000;
        const int ConsumersPerConnection = 4;
        const int Batch = 20;
        var queues = await QueuesOnSeparateConnectionsAsync("consumer-race", new JobQueueOptions());
        var enqueued = new List<string>();
        foreach (var chunk in Enumerable.Range(0, Jobs).Chunk(JobQueueOptions.MaxEnqueueBatchSize))
        {
            var results = await queues[0].EnqueueManyAsync(chunk.Select(i => new JobSubmission(Payload("job " + i))).ToList());
            enqueued.AddRange(results.Select(result => result.JobId));
        }

        enqueued.Should().HaveCount(Jobs).And.OnlyHaveUniqueItems();
        var deliveries = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var lostAcks = new ConcurrentBag<string>();
        using var timeout = new CancellationTokenSource(Bound);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumers = queues
            .SelectMany(queue => Enumerable.Range(0, ConsumersPerConnection).Select(_ => queue))
            .Select(async queue =>
            {
                await start.Task;
                while (true)
                {
                    timeout.Token.ThrowIfCancellationRequested();
                    var jobs = await queue.FetchAsync(Batch, Lease);
                    if (jobs.Count == 0)
                    {
                        // Everything was enqueued up front, so an empty fetch means nothing is left to take.
                        return;
                    }

                    foreach (var job in jobs)
                    {
                        deliveries.AddOrUpdate(job.Job.Id, 1, (_, count) => count + 1);
                    }

                    var acks = await queue.AckManyAsync(jobs.Select(job => job.Lease).ToList());
                    for (var i = 0; i < jobs.Count; i++)
                    {
                        if (acks[i] != LeaseResult.Succeeded)
                        {
                            lostAcks.Add(jobs[i].Job.Id);
                        }
                    }
                }
            })
            .ToList();
        consumers.Should().HaveCount(8);

        start.SetResult();
        await Task.WhenAll(consumers).WaitAsync(Bound);

        // (Ordered comparison: BeEquivalentTo on 2,000 strings is quadratic.)
        deliveries.Keys.Order(StringComparer.Ordinal).Should().Equal(enqueued.Order(StringComparer.Ordinal), "every job is delivered");
        deliveries.Where(pair => pair.Value != 1).Should().BeEmpty("no job is delivered twice");
        lostAcks.Should().BeEmpty();
        var status = await queues[0].GetStatusAsync();
        (status.Ready, status.Delayed, status.Active, status.Dead).Should().Be((0L, 0L, 0L, 0L));
    }

    /// <summary>Two queue objects for one queue name, each on its own connection (two "processes").</summary>
    private async Task<IReadOnlyList<RedisListJobQueue>> QueuesOnSeparateConnectionsAsync(string name, JobQueueOptions options)
    {
        var queues = new List<RedisListJobQueue>();
        for (var i = 0; i < 2; i++)
        {
            var connection = await Redis.ConnectAsync();
            _connections.Add(connection);
            var queue = new RedisListJobQueue(connection, name, options);
            _queues.Add(queue);
            queues.Add(queue);
        }

        return queues;
    }

    private static ReadOnlyMemory<byte> Payload(string text) => Encoding.UTF8.GetBytes(text);
}
