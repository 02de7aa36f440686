using ResilientQueue.Leases;

namespace ResilientQueue.Processing;

/// <summary>The fetch loop: keeps the buffer of leased jobs full, backs off while the backend fails, honours a pause.</summary>
internal sealed partial class JobWorker<THandler, TPayload>
{
    /// <summary>The longest wait between fetch attempts while the backend fails.</summary>
    internal static readonly TimeSpan MaxFetchRetryDelay = TimeSpan.FromSeconds(1);

    private long _pausedUntilTicks;
    private int _buffered;
    private int _wakeAtOrBelow = -1;
    private TaskCompletionSource _room = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TimeSpan PausedFor => TimeSpan.FromTicks(Interlocked.Read(ref _pausedUntilTicks) - _time.GetUtcNow().UtcTicks);

    private async Task FetchLoopAsync(CancellationToken stoppingToken)
    {
        int failures = 0;
        long failingSince = 0;
        while (!stoppingToken.IsCancellationRequested && _state.AbortReason is null)
        {
            try
            {
                if (PausedFor is { Ticks: > 0 } pause)
                {
                    _state.Alive();
                    await Task.Delay(Min(pause, _options.PollInterval), _time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                int limit = _prefetch.Limit;
                int buffered = Volatile.Read(ref _buffered);
                if (!_prefetch.ShouldFetch(buffered, limit))
                {
                    // Every handler is busy and the buffer is full enough: the loop is alive, waiting for room.
                    _state.Alive();
                    await WaitForRoomAsync(_prefetch.IsAdaptive ? limit / 2 : limit - 1, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                // Taken before the call, as a renewal does: the backend sets the lease during the call, so the keeper
                // must never take a lease for younger than it is (a slow reply or a late continuation would hide its age).
                long fetchedAt = _time.GetTimestamp();
                IReadOnlyList<LeasedJob> jobs = await _queue.FetchAsync(Math.Min(limit - buffered, JobQueueOptions.MaxBatchSize), _options.LeaseDuration, stoppingToken).ConfigureAwait(false);
                _state.FetchSucceeded();
                if (failures > 0)
                {
                    WorkerLog.FetchRecovered(_logger, _queue.Name, failures, _time.GetElapsedTime(failingSince).TotalSeconds);
                    failures = 0;
                }

                if (jobs.Count == 0)
                {
                    await _queue.WaitForJobsAsync(_options.PollInterval, stoppingToken).ConfigureAwait(false);
                    _state.Alive();
                    continue;
                }

                await BufferAsync(jobs, fetchedAt).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The backend is unreachable (e.g. Redis restarting): back off and try again; the health check reports
                // Degraded. The backoff grows from 200 ms to at most 1 s, so consumption resumes within about a
                // second of the backend answering again (a failing call to a disconnected client is cheap, and the
                // client's own reconnects are not sped up by waiting longer); a warning is logged on the first
                // failure and then every 30th, and the recovery once.
                failures++;
                if (failures == 1)
                {
                    failingSince = _time.GetTimestamp();
                }

                _state.FetchFailed($"{ex.GetType().Name}: {ex.Message}");
                TimeSpan wait = Min(TimeSpan.FromMilliseconds(100 * Math.Pow(2, Math.Min(failures, 4))), Min(MaxFetchRetryDelay, _options.EffectiveStallThreshold / 3));
                if (failures % 30 == 1)
                {
                    WorkerLog.FetchFailed(_logger, ex, _queue.Name, failures, wait.TotalMilliseconds);
                }

                try
                {
                    await Task.Delay(wait, _time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Puts fetched jobs in the buffer, each kept by the lease keeper from now on; <paramref name="fetchedAt"/> is when the fetch was sent.</summary>
    private async Task BufferAsync(IReadOnlyList<LeasedJob> jobs, long fetchedAt)
    {
        var tracked = new TrackedJob[jobs.Count];
        for (int i = 0; i < tracked.Length; i++)
        {
            tracked[i] = new TrackedJob(jobs[i], fetchedAt);
        }

        _keeper.Add(tracked);
        foreach (TrackedJob job in tracked)
        {
            Interlocked.Increment(ref _buffered);
            if (!_buffer.Writer.TryWrite(job))
            {
                // Only when the buffer was completed by a stop: give the job back.
                Interlocked.Decrement(ref _buffered);
                await ReleaseAllAsync([job], CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits until the buffer is down to <paramref name="atOrBelow"/> jobs, or a poll interval passed.</summary>
    private async Task WaitForRoomAsync(int atOrBelow, CancellationToken stoppingToken)
    {
        TaskCompletionSource room = new(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _room, room);
        Interlocked.Exchange(ref _wakeAtOrBelow, atOrBelow); // a full fence: the read of _buffered below is not moved above it
        if (Volatile.Read(ref _buffered) <= atOrBelow)
        {
            Volatile.Write(ref _wakeAtOrBelow, -1);
            return; // a handler took jobs meanwhile
        }

        try
        {
            await room.Task.WaitAsync(_options.PollInterval, _time, stoppingToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The poll interval passed: look again.
        }
        finally
        {
            Volatile.Write(ref _wakeAtOrBelow, -1);
        }
    }

    /// <summary>A handler loop took a job from the buffer: wakes the fetch loop when it waits for that much room.</summary>
    private void TookFromBuffer()
    {
        int left = Interlocked.Decrement(ref _buffered);
        if (left <= Volatile.Read(ref _wakeAtOrBelow))
        {
            Volatile.Read(ref _room).TrySetResult();
        }
    }
}
