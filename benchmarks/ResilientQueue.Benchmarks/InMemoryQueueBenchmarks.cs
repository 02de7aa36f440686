using BenchmarkDotNet.Attributes;
using ResilientQueue.InMemory;
using ResilientQueue.Leases;

namespace ResilientQueue.Benchmarks;

/// <summary>
/// A job's life on the in-memory backend through the public queue API: enqueue, fetch (lease) and ack, in batches of
/// <see cref="BatchSize"/>; <see cref="JobsPerInvocation"/> jobs per invocation, so every figure is per job.
/// </summary>
[MemoryDiagnoser]
public class InMemoryQueueBenchmarks
{
    private const int JobsPerInvocation = 100;

    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    private InMemoryJobQueue _queue = null!;
    private JobSubmission[] _batch = [];
    private JobLease[] _leases = [];

    /// <summary>Jobs per enqueue, fetch and ack call.</summary>
    [Params(1, 10, 100)]
    public int BatchSize { get; set; }

    /// <summary>One queue, one batch of submissions reused.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _queue = new InMemoryJobQueue("bench", new JobQueueOptions { Capacity = 10_000_000 });
        _batch = Enumerable.Repeat(new JobSubmission(BenchmarkPayload.Bytes), BatchSize).ToArray();
        _leases = new JobLease[BatchSize];
    }

    /// <summary>Disposes the queue.</summary>
    [GlobalCleanup]
    public void Cleanup() => _queue.Dispose();

    /// <summary>Enqueue, fetch and ack <see cref="JobsPerInvocation"/> jobs in batches.</summary>
    /// <returns>The jobs acknowledged.</returns>
    [Benchmark(OperationsPerInvoke = JobsPerInvocation)]
    public async Task<int> EnqueueFetchAck()
    {
        int acked = 0;
        for (int done = 0; done < JobsPerInvocation; done += BatchSize)
        {
            await _queue.EnqueueManyAsync(_batch).ConfigureAwait(false);
            IReadOnlyList<LeasedJob> jobs = await _queue.FetchAsync(BatchSize, Lease).ConfigureAwait(false);
            for (int i = 0; i < jobs.Count; i++)
            {
                _leases[i] = jobs[i].Lease;
            }

            IReadOnlyList<LeaseResult> results = await _queue.AckManyAsync(new ArraySegment<JobLease>(_leases, 0, jobs.Count)).ConfigureAwait(false);
            acked += results.Count;
        }

        return acked;
    }
}
