using System.Diagnostics;
using System.Threading.Channels;
using ResilientQueue.Concurrency;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Telemetry;
using ResilientQueue.Transitions;

namespace ResilientQueue.Processing;

/// <summary>The handler loops: take a buffered job, wait out a pause, take a permit, run it and queue its outcome.</summary>
internal sealed partial class JobWorker<THandler, TPayload>
{
    private async Task HandleLoopAsync()
    {
        using var slot = new JobSlot(_time, _hardStop.Token);
        while (await TakeBufferedAsync().ConfigureAwait(false) is { } job)
        {
            TookFromBuffer();
            try
            {
                PermitResult permit = await WaitToStartAsync(job).ConfigureAwait(false);
                if (!permit.Run)
                {
                    continue;
                }

                try
                {
                    await ProcessAsync(job, slot, permit.Permit).ConfigureAwait(false);
                }
                finally
                {
                    permit.Permit?.Dispose();
                }
            }
            catch (Exception ex)
            {
                // The handler's exceptions are outcomes; this is a backend failure while releasing or deferring. The
                // job's lease will run out and the reaper takes it back: nothing is lost.
                WorkerLog.OutcomeNotWritten(_logger, ex, _queue.Name, job.Job.Job.Id);
                job.Finish();
            }
        }
    }

    /// <summary>
    /// The next buffered job, or null once the buffer is completed and empty. A waiting loop is handed one job: not
    /// <c>ReadAllAsync</c>/<c>WaitToReadAsync</c>, which wake every waiting loop for each job written (at C = 100 an idle
    /// worker woke 100 loops, and allocated 100 waits, to start one job).
    /// </summary>
    private async ValueTask<TrackedJob?> TakeBufferedAsync()
    {
        if (_buffer.Reader.TryRead(out TrackedJob? ready))
        {
            return ready;
        }

        try
        {
            return await _buffer.Reader.ReadAsync().ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null; // the fetch loop ended and what was left unstarted is released
        }
    }

    /// <summary>Waits out a rate-limit pause and takes a permit; when the job must not run now it is released or deferred.</summary>
    private async ValueTask<PermitResult> WaitToStartAsync(TrackedJob job)
    {
        while (true)
        {
            // A rate-limit pause holds back buffered jobs too, not only the fetches.
            while (!_stopping && _state.AbortReason is null && PausedFor is { Ticks: > 0 } pause)
            {
                await Task.Delay(Min(pause, _options.PollInterval), _time, _hardStop.Token).ConfigureAwait(false);
            }

            if (_stopping || _state.AbortReason is not null)
            {
                await ReleaseAllAsync([job], _hardStop.Token).ConfigureAwait(false);
                return PermitResult.Stopped;
            }

            PermitResult permit = await _permits.AcquireAsync(job.Job.Job, _stopOrAbort.Token).ConfigureAwait(false);
            switch (permit.Status)
            {
                case PermitStatus.Stopped:
                    await ReleaseAllAsync([job], _hardStop.Token).ConfigureAwait(false);
                    return permit;
                case PermitStatus.PartitionBusy:
                    await DeferAsync(job, permit.Partition!, permit.Delay).ConfigureAwait(false);
                    return permit;
            }

            if (_stopping || _state.AbortReason is not null)
            {
                permit.Permit?.Dispose();
                await ReleaseAllAsync([job], _hardStop.Token).ConfigureAwait(false);
                return PermitResult.Stopped;
            }

            if (PausedFor <= TimeSpan.Zero)
            {
                return permit;
            }

            // A pause began while this loop waited for its permit: the permit must not send the job to a downstream
            // that just said 429. Give it back (it says nothing about capacity) and wait out the pause.
            permit.Permit?.Record(ConcurrencyOutcome.Ignore);
            permit.Permit?.Dispose();
        }
    }

    private async Task DeferAsync(TrackedJob job, string key, TimeSpan delay)
    {
        var error = new JobError("ConcurrencyLimitReached", $"Partition '{key}' of queue '{_queue.Name}' was at its concurrency limit; the job was deferred for {delay.TotalMilliseconds:0} ms without spending an attempt.", ErrorCategory.RateLimited);
        try
        {
            FailResult result = await _queue.FailAsync(job.Lease, error, RecoveryDecision.RetryWithoutAttempt(delay)).ConfigureAwait(false);
            if (result.IsApplied)
            {
                ResilientQueueTelemetry.Deferred.Add(1, _queueTag);
                WorkerLog.Deferred(_logger, _queue.Name, job.Lease.JobId, key, delay.TotalMilliseconds);
            }

            job.Finish();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The deferral could not be written: give the job back rather than leave it to its lease.
            WorkerLog.OutcomeNotWritten(_logger, ex, _queue.Name, job.Lease.JobId);
            await ReleaseAllAsync([job], _hardStop.Token).ConfigureAwait(false);
        }
    }

    private async Task ProcessAsync(TrackedJob job, JobSlot slot, AdaptiveConcurrencyLease? permit)
    {
        // Until the job's outcome is known it says nothing about the downstream's capacity.
        permit?.Record(ConcurrencyOutcome.Ignore);

        // The keeper renews the leases of buffered jobs; only when it fell behind (renewals failing) is the lease
        // renewed (or found lost) here, so a job whose lease ran out is never run alongside the worker that now holds it.
        if (job.State == TrackedJob.Held && _keeper.IsDue(job))
        {
            long now = _time.GetTimestamp();
            if ((await _queue.RenewAsync(job.Lease, _options.LeaseDuration).ConfigureAwait(false)).IsSucceeded)
            {
                job.LeaseSetAt = now;
            }
            else
            {
                job.MarkLost();
            }
        }

        long started = _time.GetTimestamp();
        long renewUntil = _options.JobTimeout is { } limit
            ? started + (long)((limit + _options.LeaseDuration).TotalSeconds * _time.TimestampFrequency)
            : long.MaxValue;
        if (!job.TryStart(slot, renewUntil))
        {
            ResilientQueueTelemetry.LeaseLost.Add(1, _queueTag);
            WorkerLog.LeaseLost(_logger, _queue.Name, job.Lease.JobId, job.Job.Job.Attempts);
            job.Finish();
            return;
        }

        _prefetch.Started();
        _outcomes.Started(job);
        ResilientQueueTelemetry.InFlight.Add(1, _queueTag);
        try
        {
            await RunAndQueueOutcomeAsync(job, slot, started, permit).ConfigureAwait(false);
        }
        finally
        {
            ResilientQueueTelemetry.InFlight.Add(-1, _queueTag);
            slot.End();
        }
    }

    private async Task RunAndQueueOutcomeAsync(TrackedJob job, JobSlot slot, long started, AdaptiveConcurrencyLease? permit)
    {
        Job envelope = job.Job.Job;
        TimeSpan waited = _time.GetUtcNow() - envelope.AvailableAt;
        ResilientQueueTelemetry.QueueWait.Record(Math.Max(waited.TotalSeconds, 0), _queueTag);
        using Activity? activity = WorkerActivity.StartProcess(envelope, _activityName);
        CancellationToken token = slot.Begin(_options.JobTimeout);
        (HandlerOutcome outcome, Exception? error) = await _invoker.RunAsync(job, slot, token).ConfigureAwait(false);
        if (job.State == TrackedJob.Lost && outcome is not HandlerOutcome.Shutdown)
        {
            outcome = HandlerOutcome.LeaseLost; // whatever the handler returned, another worker may hold the job now
        }

        TimeSpan ran = _time.GetElapsedTime(started);
        ResilientQueueTelemetry.ProcessingDuration.Record(ran.TotalSeconds, _queueTag, new KeyValuePair<string, object?>(WorkerActivity.OutcomeTag, OutcomeName(outcome)));
        if (outcome == HandlerOutcome.Shutdown)
        {
            if (job.TryLeaveRunning(TrackedJob.WritingOutcome))
            {
                await ReleaseAllAsync([job], CancellationToken.None).ConfigureAwait(false);
            }

            return; // else the shutdown deadline gave the lease back already
        }

        if (outcome == HandlerOutcome.LeaseLost || !job.TryLeaveRunning(TrackedJob.WritingOutcome))
        {
            if (job.State != TrackedJob.ReleasedAtDeadline)
            {
                // Lost while running, or found lost by a renewal just as the handler finished: nothing may be written.
                job.MarkLost();
                job.Finish();
                ResilientQueueTelemetry.LeaseLost.Add(1, _queueTag);
                WorkerLog.LeaseLost(_logger, _queue.Name, envelope.Id, envelope.Attempts);
                activity?.SetStatus(ActivityStatusCode.Error, "lease lost");
            }

            return;
        }

        switch (outcome)
        {
            case HandlerOutcome.Completed:
            case HandlerOutcome.CompletedByFallback:
                if (outcome == HandlerOutcome.CompletedByFallback)
                {
                    ResilientQueueTelemetry.FallbackRan.Add(1, _queueTag);
                    WorkerLog.FallbackRan(_logger, _queue.Name, envelope.Id, envelope.Attempts, _options.JobTimeout!.Value.TotalSeconds);
                    activity?.SetTag("resilientqueue.fallback", true);
                }

                _outcomes.Ack(job);

                // A job finished by its timeout fallback still timed out: the downstream was too slow.
                permit?.Record(outcome == HandlerOutcome.Completed ? ConcurrencyOutcome.Success : ConcurrencyOutcome.Drop, ran);
                break;
            case HandlerOutcome.HandlerUnavailable when error is not null:
                Type handlerType = HandlerTypes.Registered(typeof(THandler));
                string reason = $"its handler {handlerType.Name} cannot be created: {error.Message}";
                _state.Aborted(reason);
                _aborted.Cancel();
                WorkerLog.HandlerUnavailable(_logger, error, _queue.Name, handlerType.FullName ?? handlerType.Name, error.Message);
                activity?.SetStatus(ActivityStatusCode.Error, reason);
                await ReleaseAllAsync([job], CancellationToken.None).ConfigureAwait(false);
                break;
            case HandlerOutcome.Failed when error is not null:
                activity?.SetStatus(ActivityStatusCode.Error, error.Message);
                activity?.SetTag(ResilientQueueTelemetry.ErrorTypeTag, error.GetType().Name);
                ErrorCategory category = DecideFailure(job, error);
                permit?.Record(category is ErrorCategory.Transient or ErrorCategory.RateLimited ? ConcurrencyOutcome.Drop : ConcurrencyOutcome.Ignore, ran);
                break;
        }
    }

    /// <summary>Classifies a failure, lets the strategy decide, applies the worker's own part and queues the write.</summary>
    /// <returns>The error's category.</returns>
    private ErrorCategory DecideFailure(TrackedJob job, Exception error)
    {
        Job envelope = job.Job.Job;
        ErrorClassification classification;
        RecoveryDecision decision;
        try
        {
            classification = _classifier.Classify(error);
            decision = _strategy.Decide(new RecoveryArguments(error, classification, envelope.Attempts, envelope.MaxAttempts));
        }
        catch (Exception ex)
        {
            // A classifier or strategy must not throw; if one does, retry with backoff rather than lose the job.
            WorkerLog.StrategyFailed(_logger, ex, _queue.Name, envelope.Id);
            classification = new ErrorClassification(ErrorCategory.Unknown);
            decision = RecoveryDecision.Retry(_options.Backoff.GetDelay(Math.Max(envelope.Attempts, 1)));
        }

        ErrorCategory category = classification.Category;
        string errorType = error.GetType().Name;
        ResilientQueueTelemetry.Failed.Add(1, _queueTag, new(ResilientQueueTelemetry.ErrorTypeTag, errorType), new(ResilientQueueTelemetry.ErrorCategoryTag, category.ToString()));
        WorkerLog.JobFailed(_logger, error, _queue.Name, envelope.Id, envelope.Attempts, envelope.MaxAttempts, category, errorType, decision.Action);

        // The worker's own part of the decision applies whatever happens to the write.
        if (decision.Action == RecoveryAction.Pause)
        {
            PauseFetching(decision.Delay);
        }
        else if (decision.Action == RecoveryAction.Abort)
        {
            _state.Aborted(decision.Reason ?? category.ToString());
            _aborted.Cancel();
            WorkerLog.Aborted(_logger, _queue.Name, decision.Reason ?? category.ToString());
        }

        _outcomes.Fail(job, new PendingFailure(JobError.FromException(error, category), decision, category));
        return category;
    }

    private void PauseFetching(TimeSpan duration)
    {
        long until = (_time.GetUtcNow() + duration).UtcTicks;
        long current;
        do
        {
            current = Interlocked.Read(ref _pausedUntilTicks);
            if (current >= until)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _pausedUntilTicks, until, current) != current);
        WorkerLog.Paused(_logger, _queue.Name, duration.TotalSeconds);
    }

    private static string OutcomeName(HandlerOutcome outcome) => outcome switch
    {
        HandlerOutcome.Completed => "Completed",
        HandlerOutcome.CompletedByFallback => "CompletedByFallback",
        HandlerOutcome.Failed => "Failed",
        HandlerOutcome.LeaseLost => "LeaseLost",
        HandlerOutcome.Shutdown => "Shutdown",
        _ => "HandlerUnavailable",
    };
}
