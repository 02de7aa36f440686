using System.Diagnostics;
using System.Text;
using FluentAssertions;
using ResilientQueue.Backends;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;
using ResilientQueue.Results;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// Request–reply on a three-master Redis Cluster, the producer on a connection of its own: the results of queues on
/// every master (each queue's keys in its own slot) reach waiting producers through pub/sub, promptly, whichever node
/// the script that published ran on and whichever node the producer's subscription is on; on the list backend and on
/// the stream backend (each group's channel).
/// </summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterResultTests(RedisClusterFixture cluster, ITestOutputHelper output)
{
    [Theory]
    [InlineData("lists")]
    [InlineData("streams")]
    public async Task WaitForResult_OnQueuesOfEveryMaster_IsWokenByPubSub_Promptly(string backend)
    {
        string prefix = "rr-" + Guid.NewGuid().ToString("N")[..8] + "-";
        string[] names = [.. Enumerable.Range(0, 9).Select(i => prefix + i)];
        names.Select(n => RedisClusterSlot.Of("{rq:" + n + "}:meta") * 3 / RedisClusterSlot.SlotCount).Distinct().Should().HaveCountGreaterThan(1, "the queues should spread over the masters");
        var options = new JobQueueOptions { Results = { PollInterval = TimeSpan.FromHours(1) } };
        await using ConnectionMultiplexer producerConnection = await cluster.ConnectAsync();
        var latencies = new List<TimeSpan>();

        foreach (string name in names)
        {
            await using JobQueueBase consumer = Create(backend, cluster.Multiplexer, name, options);
            await using JobQueueBase producer = Create(backend, producerConnection, name, options);
            string id = (await producer.EnqueueAsync(Encoding.UTF8.GetBytes("question"))).JobId;
            LeasedJob leased = (await consumer.FetchAsync(1, TimeSpan.FromMinutes(1))).Should().ContainSingle().Subject;
            Task<JobResult> waiting = producer.WaitForResultAsync(id, TimeSpan.FromMinutes(1)).AsTask();
            await Task.Delay(50);
            waiting.IsCompleted.Should().BeFalse();

            var watch = Stopwatch.StartNew();
            await consumer.CompleteAsync(leased.Lease, Encoding.UTF8.GetBytes("answer from " + name));
            JobResult result = await waiting.WaitAsync(TimeSpan.FromSeconds(30));
            latencies.Add(watch.Elapsed);

            Encoding.UTF8.GetString(result.Value.Span).Should().Be("answer from " + name);
        }

        output.WriteLine($"{backend}: cluster wake-up latency over {names.Length} queues: max {latencies.Max().TotalMilliseconds:0.0} ms (poll interval 1 h)");
        latencies.Should().OnlyContain(l => l < TimeSpan.FromSeconds(2), "the notification wakes each waiter; the poll would take an hour");
    }

    private static JobQueueBase Create(string backend, IConnectionMultiplexer multiplexer, string name, JobQueueOptions options) => backend == "streams"
        ? new RedisStreamJobQueue(multiplexer, name, options, new RedisStreamOptions { Group = "answers" })
        : new RedisListJobQueue(multiplexer, name, options);
}
