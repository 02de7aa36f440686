using System.Text;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary>
/// Stream-only tests: a flushed server per test, queue objects of any group on one queue, a fake clock unless a test
/// needs the real one, and what the queues logged.
/// </summary>
[Collection(RedisCollection.Name)]
public abstract class StreamTestBase(RedisServerFixture redis) : RedisTestBase(redis)
{
    protected const string QueueName = "orders";
    protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly List<RedisStreamJobQueue> _queues = [];

    protected FakeTimeProvider Time { get; } = new();

    protected FakeLogCollector Logs { get; } = new();

    internal static RedisStreamKeys Keys(string group) => new(QueueName, group);

    /// <summary>
    /// A queue object on <see cref="QueueName"/> reading as <paramref name="group"/>, disposed at the end of the test. It
    /// runs no housekeeping on its own unless <paramref name="housekeeping"/> (tests call <c>TrimAsync</c> to see each step).
    /// </summary>
    protected RedisStreamJobQueue Queue(string group, Action<RedisStreamOptions>? stream = null, JobQueueOptions? options = null, TimeProvider? time = null, string? consumer = null, bool housekeeping = false)
    {
        var streamOptions = new RedisStreamOptions { Group = group, Consumer = consumer };
        stream?.Invoke(streamOptions);
        var queue = new RedisStreamJobQueue(Redis.Multiplexer, QueueName, options, streamOptions, time ?? Time, new FakeLogger(Logs, "ResilientQueue.Redis.Streams"))
        {
            RunsHousekeeping = housekeeping,
        };
        _queues.Add(queue);
        return queue;
    }

    public override async Task DisposeAsync()
    {
        foreach (RedisStreamJobQueue queue in _queues)
        {
            await queue.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    protected static ReadOnlyMemory<byte> Payload(string text) => Encoding.UTF8.GetBytes(text);

    protected static string Text(Job job) => Encoding.UTF8.GetString(job.Payload.Span);

    protected Task<long> StreamLengthAsync() => Database.StreamLengthAsync(Keys("any").Stream);

    /// <summary>Enqueues <paramref name="count"/> jobs "job-0" … in batches; returns their ids in order.</summary>
    protected static async Task<List<string>> EnqueueJobsAsync(IJobQueue queue, int count, string prefix = "job-")
    {
        var ids = new List<string>();
        foreach (int[] chunk in Enumerable.Range(0, count).Chunk(JobQueueOptions.MaxEnqueueBatchSize))
        {
            ids.AddRange((await queue.EnqueueManyAsync(chunk.Select(i => new JobSubmission(Payload(prefix + i))).ToArray())).Select(r => r.JobId));
        }

        return ids;
    }

    /// <summary>Fetches and acknowledges until nothing is ready; returns the texts in fetch order.</summary>
    protected static async Task<List<string>> DrainAsync(IJobQueue queue, int batch = 100)
    {
        var texts = new List<string>();
        while (true)
        {
            IReadOnlyList<LeasedJob> jobs = await queue.FetchAsync(batch, Lease);
            if (jobs.Count == 0)
            {
                return texts;
            }

            texts.AddRange(jobs.Select(j => Text(j.Job)));
            (await queue.AckManyAsync(jobs.Select(j => j.Lease).ToArray())).Should().OnlyContain(r => r == LeaseResult.Succeeded);
        }
    }

    /// <summary>The log events with this id the queues wrote.</summary>
    protected IReadOnlyList<FakeLogRecord> Events(int id) => Logs.GetSnapshot().Where(r => r.Id.Id == id).ToList();

    /// <summary>The server's pending count of one group (XPENDING), 0 when the group does not exist.</summary>
    protected async Task<long> PendingAsync(string group)
    {
        try
        {
            return (await Database.StreamPendingAsync(Keys(group).Stream, group)).PendingMessageCount;
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            return 0;
        }
    }
}
