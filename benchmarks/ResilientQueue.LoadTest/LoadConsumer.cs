using System.Threading.Channels;
using ResilientQueue.Leases;

namespace ResilientQueue.LoadTest;

/// <summary>
/// A minimal consumer, the shape the worker runtime will have: one fetch loop keeps a small local buffer full
/// (batch fetches), <c>concurrency</c> handler loops drain it, and one ack loop acknowledges finished jobs in
/// batches (group commit: whatever finished while the previous batch was in flight goes in the next one).
/// Idle, it waits for a pub/sub wake-up (<see cref="IJobQueue.WaitForJobsAsync"/>) with a poll fallback.
/// </summary>
internal sealed class LoadConsumer
{
    private readonly IJobQueue _queue;
    private readonly int _concurrency;
    private readonly int _prefetch;
    private readonly Func<LeasedJob, ValueTask> _handler;
    private long _completed;
    private int _buffered;

    public LoadConsumer(IJobQueue queue, int concurrency, Func<LeasedJob, ValueTask> handler)
    {
        _queue = queue;
        _concurrency = concurrency;
        _prefetch = Math.Clamp(concurrency * 2, 64, JobQueueOptions.MaxBatchSize);
        _handler = handler;
    }

    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Runs until <paramref name="target"/> jobs were acknowledged or <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(long target, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var buffer = Channel.CreateBounded<LeasedJob>(new BoundedChannelOptions(_prefetch) { SingleWriter = true });
        var acks = Channel.CreateUnbounded<JobLease>(new UnboundedChannelOptions { SingleReader = true });

        Task fetcher = Task.Run(() => FetchLoopAsync(buffer.Writer, stop.Token), CancellationToken.None);
        Task[] handlers = Enumerable.Range(0, _concurrency)
            .Select(_ => Task.Run(() => HandleLoopAsync(buffer.Reader, acks.Writer, stop.Token), CancellationToken.None))
            .ToArray();
        Task acker = Task.Run(() => AckLoopAsync(acks.Reader, target, stop), CancellationToken.None);

        await acker.ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(handlers.Append(fetcher).Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
    }

    private async Task FetchLoopAsync(ChannelWriter<LeasedJob> buffer, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!await buffer.WaitToWriteAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            int room = _prefetch - _buffered;
            if (room < Math.Min(_prefetch / 4, 32) && _buffered > 0)
            {
                await Task.Yield();
                continue;
            }

            IReadOnlyList<LeasedJob> jobs = await _queue.FetchAsync(Math.Max(room, 1), TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
            if (jobs.Count == 0)
            {
                await _queue.WaitForJobsAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                continue;
            }

            foreach (LeasedJob job in jobs)
            {
                Interlocked.Increment(ref _buffered);
                await buffer.WriteAsync(job, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task HandleLoopAsync(ChannelReader<LeasedJob> buffer, ChannelWriter<JobLease> acks, CancellationToken cancellationToken)
    {
        await foreach (LeasedJob job in buffer.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Decrement(ref _buffered);
            await _handler(job).ConfigureAwait(false);
            acks.TryWrite(job.Lease);
        }
    }

    private async Task AckLoopAsync(ChannelReader<JobLease> acks, long target, CancellationTokenSource stop)
    {
        var batch = new List<JobLease>(JobQueueOptions.MaxBatchSize);
        while (Completed < target && await acks.WaitToReadAsync(stop.Token).ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < JobQueueOptions.MaxBatchSize && acks.TryRead(out JobLease lease))
            {
                batch.Add(lease);
            }

            IReadOnlyList<LeaseResult> results = await _queue.AckManyAsync(batch, stop.Token).ConfigureAwait(false);
            Interlocked.Add(ref _completed, results.Count(r => r == LeaseResult.Succeeded));
        }
    }
}
