using Microsoft.Extensions.Logging;
using ResilientQueue.Leases;

namespace ResilientQueue.Processing;

/// <summary>
/// Keeps the leases of every job a worker holds, buffered or running, alive: every half renew interval one pass renews,
/// in batched <see cref="IJobConsumer.RenewManyAsync"/> calls, each lease last set a renew interval ago or more. A
/// renewal that finds the lease taken marks the job <see cref="TrackedJob.Lost"/> (a running job's handler is cancelled);
/// a running job past its timeout plus one lease duration is no longer renewed (its lease runs out and the reaper takes
/// it back). A lease just granted is not renewed, and a job costs no timer or loop of its own.
/// </summary>
internal sealed class LeaseKeeper(IJobQueue queue, JobWorkerOptions options, TimeProvider time, ILogger logger)
{
    /// <summary>The list is compacted on an add once it holds this many entries or more (kept or let go).</summary>
    internal const int MinCompactAt = 256;

    private readonly List<TrackedJob> _jobs = [];
    private readonly TimeSpan _interval = options.EffectiveRenewInterval;
    private int _compactAt = MinCompactAt;

    /// <summary>How many entries the list holds (kept, or let go since the last compaction), at most about twice the jobs kept.</summary>
    public int Count
    {
        get
        {
            lock (_jobs)
            {
                return _jobs.Count;
            }
        }
    }

    /// <summary>
    /// Starts keeping fetched jobs. Jobs let go are dropped here too, once the list has doubled since the last drop, not
    /// only at the next pass: at 100,000 jobs a second a pass every 5 seconds (the default lease's) would otherwise keep
    /// half a million finished jobs, their payloads included, reachable, and grow the list to match. Each drop scans
    /// the list once and leaves room for as many adds again, so it costs about one look per job.
    /// </summary>
    public void Add(IReadOnlyList<TrackedJob> jobs)
    {
        lock (_jobs)
        {
            if (_jobs.Count + jobs.Count > _compactAt)
            {
                _jobs.RemoveAll(static j => !j.IsKept);
                _compactAt = Math.Max(MinCompactAt, 2 * (_jobs.Count + jobs.Count));
            }

            _jobs.AddRange(jobs);
        }
    }

    /// <summary>Whether a job's lease was set so long ago that it must be renewed before the job starts (the keeper fell behind).</summary>
    public bool IsDue(TrackedJob job) => time.GetElapsedTime(job.LeaseSetAt) >= _interval;

    /// <summary>The running jobs, for a stop at the deadline.</summary>
    public List<TrackedJob> Running()
    {
        lock (_jobs)
        {
            return _jobs.FindAll(j => j.State == TrackedJob.Running);
        }
    }

    /// <summary>Renews due leases every half renew interval until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var due = new List<TrackedJob>();
        try
        {
            while (true)
            {
                await Task.Delay(_interval / 2, time, stop).ConfigureAwait(false);
                due.Clear();
                CollectDue(due);
                foreach (TrackedJob[] batch in due.Chunk(JobQueueOptions.MaxBatchSize))
                {
                    await RenewAsync(batch, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The worker stopped: what it still holds is released or finished by its stop.
        }
    }

    /// <summary>Drops the jobs let go since the last pass and collects those whose lease is due.</summary>
    private void CollectDue(List<TrackedJob> due)
    {
        long now = time.GetTimestamp();
        lock (_jobs)
        {
            _jobs.RemoveAll(static j => !j.IsKept);
            foreach (TrackedJob job in _jobs)
            {
                if (time.GetElapsedTime(job.LeaseSetAt, now) < _interval || job.RenewalStopped)
                {
                    continue;
                }

                if (job.State == TrackedJob.Running && now > job.RenewUntil)
                {
                    job.RenewalStopped = true; // a handler that ignores its timed-out token: its lease runs out
                    WorkerLog.RenewalStopped(logger, queue.Name, job.Lease.JobId, (options.JobTimeout!.Value + options.LeaseDuration).TotalSeconds);
                    continue;
                }

                due.Add(job);
            }
        }
    }

    private async Task RenewAsync(TrackedJob[] batch, CancellationToken stop)
    {
        try
        {
            long now = time.GetTimestamp();
            IReadOnlyList<LeaseResult> results = await queue.RenewManyAsync(Array.ConvertAll(batch, static j => j.Lease), options.LeaseDuration, stop).ConfigureAwait(false);
            for (int i = 0; i < batch.Length; i++)
            {
                if (results[i].IsSucceeded)
                {
                    batch[i].LeaseSetAt = now;
                }
                else
                {
                    // Held: the check before it starts finds it lost. Running: its handler is cancelled now.
                    batch[i].MarkLost();
                }
            }
        }
        catch (Exception ex) when (!stop.IsCancellationRequested)
        {
            // A transient backend error: the next pass tries again; a lease reaped meanwhile is found lost then.
            WorkerLog.RenewFailed(logger, ex, queue.Name, batch.Length);
        }
    }
}
