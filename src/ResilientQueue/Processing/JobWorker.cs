using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResilientQueue.Concurrency;
using ResilientQueue.Errors;
using ResilientQueue.Leases;
using ResilientQueue.Recovery;
using ResilientQueue.Serialization;
using ResilientQueue.Telemetry;
using ResilientQueue.Transitions;

namespace ResilientQueue.Processing;

/// <summary>
/// The hosted worker of one queue. A fetch loop keeps a local buffer of leased jobs full (batch fetches; idle, it waits
/// for a wake-up with <see cref="IJobConsumer.WaitForJobsAsync"/>); <see cref="JobWorkerOptions.Concurrency"/> handler
/// loops (or, with <see cref="JobWorkerOptions.AdaptiveConcurrency"/>, MaxLimit loops that each take a permit of the
/// adaptive limiter, or of the job's partition, before they start a job) run the jobs, each in its own DI scope, renewing its lease while it runs; successes are acknowledged in
/// batches; failures are classified and the recovery strategy decides. On stop: fetching stops, buffered jobs are
/// released at once, running jobs finish until the host's shutdown deadline, then are cancelled and released.
/// </summary>
internal sealed partial class JobWorker<THandler, TPayload> : BackgroundService, IHostedLifecycleService
    where THandler : class, IJobHandler<TPayload>
{
    private const int AckBatch = JobQueueOptions.MaxBatchSize;

    private readonly IJobQueue _queue;
    private readonly IServiceScopeFactory _scopes;
    private readonly IErrorClassifier _classifier;
    private readonly IRecoveryStrategy _strategy;
    private readonly IJobSerializer _serializer;
    private readonly JobWorkerOptions _options;
    private readonly JobWorkerState _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?> _queueTag;
    private readonly Channel<LeasedJob> _buffer;
    private readonly Channel<JobLease> _acks = Channel.CreateUnbounded<JobLease>(new UnboundedChannelOptions { SingleReader = false });
    private readonly CancellationTokenSource _stopFetching = new();
    private readonly CancellationTokenSource _aborted = new();
    private readonly CancellationTokenSource _hardStop = new();
    private readonly CancellationTokenSource _stopOrAbort;
    private readonly AdaptiveConcurrencyLimiter? _limiter;
    private readonly PartitionedRateLimiter<string>? _partitions;
    private readonly ConcurrentDictionary<string, RunningJob> _running = new(StringComparer.Ordinal);

    // Jobs fetched but not started (in the buffer, in a rate-limit pause, waiting for a permit), by lease token, with
    // when their lease was last set: HeldRenewLoopAsync keeps those leases alive however long they wait.
    private readonly ConcurrentDictionary<string, (JobLease Lease, long SetAt)> _held = new(StringComparer.Ordinal);
    private volatile bool _stopping;
    private bool _handlerChecked;
    private long _pausedUntilTicks;
    private int _buffered;

    public JobWorker(IJobQueue queue, IServiceScopeFactory scopes, IErrorClassifier classifier, IRecoveryStrategy? strategy, JobWorkerOptions options, JobWorkerState state, TimeProvider time, ILogger logger)
    {
        _queue = queue;
        _scopes = scopes;
        _classifier = classifier;
        _options = options.Copy();
        _strategy = strategy ?? new DefaultRecoveryStrategy(_options.Backoff);
        _serializer = queue.Serializer; // the queue's: what its producers wrote with
        _state = state;
        _time = time;
        _logger = logger;
        _queueTag = ResilientQueueTelemetry.Queue(queue.Name);
        _buffer = Channel.CreateBounded<LeasedJob>(new BoundedChannelOptions(_options.EffectivePrefetch) { SingleWriter = true });
        _stopOrAbort = CancellationTokenSource.CreateLinkedTokenSource(_stopFetching.Token, _aborted.Token);
        if (_options.AdaptiveConcurrency is { } adaptive)
        {
            AdaptiveConcurrencyLimiterOptions limiterOptions = adaptive.ValidatedCopy();
            limiterOptions.Name ??= queue.Name;
            limiterOptions.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            if (_options.ConcurrencyKey is null)
            {
                // Every handler loop may wait for a permit while it holds a job.
                limiterOptions.QueueLimit = limiterOptions.MaxLimit;
                _limiter = new AdaptiveConcurrencyLimiter(limiterOptions, time);
            }
            else
            {
                // A job whose partition is busy goes back to the queue rather than holding a handler loop.
                limiterOptions.QueueLimit = 0;
                _partitions = PartitionedRateLimiter.Create<string, string>(
                    key => RateLimitPartition.Get(key, _ => new AdaptiveConcurrencyLimiter(limiterOptions, time)),
                    StringComparer.Ordinal);
            }
        }
    }

    /// <summary>A job whose handler runs: stop at the deadline releases it only while it is still <see cref="Running"/>.</summary>
    private sealed class RunningJob(JobLease lease)
    {
        public const int Running = 0;
        public const int WritingOutcome = 1;
        public const int ReleasedAtDeadline = 2;

        private int _phase;

        public JobLease Lease { get; } = lease;

        /// <summary>Moves Running → <paramref name="phase"/>; false when another phase was taken first.</summary>
        public bool TryEnter(int phase) => Interlocked.CompareExchange(ref _phase, phase, Running) == Running;
    }

    /// <summary>
    /// Before the host starts any service: the handler must be constructible, or the host's start fails with an error
    /// naming the handler and what it lacks (a service it needs that is not registered, a constructor that throws).
    /// </summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        EnsureHandlerCanBeCreated();
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>At the start of the host's shutdown, before any service's StopAsync: every worker stops fetching at once.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _stopFetching.Cancel();
        return Task.CompletedTask;
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _state.Started();
        LogWorkerStarted(_logger, _queue.Name, _options.HandlerLoops, _options.EffectivePrefetch);
        using var fetching = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stopFetching.Token, _aborted.Token);
        Task ackLoop = Task.Run(AckLoopAsync, CancellationToken.None);
        Task statusLoop = Task.Run(() => StatusLoopAsync(fetching.Token), CancellationToken.None);
        Task heldRenewals = Task.Run(() => HeldRenewLoopAsync(fetching.Token), CancellationToken.None);
        Task[] handlerLoops = Enumerable.Range(0, _options.HandlerLoops).Select(_ => Task.Run(HandleLoopAsync, CancellationToken.None)).ToArray();
        try
        {
            await FetchLoopAsync(fetching.Token).ConfigureAwait(false);
        }
        finally
        {
            _stopping = true;
            _buffer.Writer.TryComplete();
            var unstarted = new List<JobLease>();
            while (_buffer.Reader.TryRead(out LeasedJob? job))
            {
                Interlocked.Decrement(ref _buffered);
                unstarted.Add(job.Lease);
            }

            int released = await ReleaseAllAsync(unstarted, _hardStop.Token).ConfigureAwait(false);
            if (released > 0)
            {
                LogReleasedUnstarted(_logger, _queue.Name, released);
            }

            await Task.WhenAll(handlerLoops).ConfigureAwait(false);
            _acks.Writer.TryComplete();
            await ackLoop.ConfigureAwait(false);
            await statusLoop.ConfigureAwait(false);
            await heldRenewals.ConfigureAwait(false);
            _limiter?.Dispose();
            _partitions?.Dispose();
            ResilientQueueTelemetry.LastStatus.TryRemove(_queue.Name, out _);
            _state.Stopped();
            LogWorkerStopped(_logger, _queue.Name);
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureHandlerCanBeCreated(); // once: a host has made the check in StartingAsync already
        return base.StartAsync(cancellationToken);
    }

    private void EnsureHandlerCanBeCreated()
    {
        if (_handlerChecked)
        {
            return;
        }

        _handlerChecked = true;
        using IServiceScope scope = _scopes.CreateScope();
        try
        {
            _ = scope.ServiceProvider.GetRequiredService<THandler>();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"The handler {typeof(THandler).FullName} of queue '{_queue.Name}' cannot be created: {ex.Message} Register what it needs in the service collection (its constructor's parameters), or make its constructor not throw.",
                ex);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _stopFetching.Cancel();
        using (cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _hardStop))
        {
            // Cancels the fetch loop and waits for the running jobs, until the host's shutdown deadline.
            await base.StopAsync(cancellationToken).ConfigureAwait(false);
        }

        if (ExecuteTask is { IsCompleted: false })
        {
            // The deadline passed. Jobs still running (their tokens are cancelled) are given back now, so they do not
            // wait for the reaper; jobs whose outcome is being written are left to that write. Finished jobs whose ack
            // is still queued are acknowledged now. A handler that finishes later is fenced out.
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var release = new List<JobLease>();
            foreach (RunningJob job in _running.Values)
            {
                if (job.TryEnter(RunningJob.ReleasedAtDeadline))
                {
                    release.Add(job.Lease);
                }
            }

            int released = await ReleaseAllAsync(release, bounded.Token).ConfigureAwait(false);
            await FlushAcksAsync(bounded.Token).ConfigureAwait(false);
            LogReleasedAtDeadline(_logger, _queue.Name, released);
        }
    }

    public override void Dispose()
    {
        // The cancellation sources are cancelled, never disposed: loops that outlive a stop may still read their tokens.
        _hardStop.Cancel();
        base.Dispose();
    }

    /// <summary>The longest wait between fetch attempts while the backend fails.</summary>
    internal static readonly TimeSpan MaxFetchRetryDelay = TimeSpan.FromSeconds(1);

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

                int room = _options.EffectivePrefetch - Volatile.Read(ref _buffered);
                if (room <= 0)
                {
                    // Every handler is busy and the buffer is full: the loop is alive, waiting for room.
                    _state.Alive();
                    using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    poll.CancelAfter(_options.PollInterval);
                    try
                    {
                        await _buffer.Writer.WaitToWriteAsync(poll.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                    }

                    continue;
                }

                IReadOnlyList<LeasedJob> jobs = await _queue.FetchAsync(Math.Min(room, JobQueueOptions.MaxBatchSize), _options.LeaseDuration, stoppingToken).ConfigureAwait(false);
                _state.FetchSucceeded();
                if (failures > 0)
                {
                    LogFetchRecovered(_logger, _queue.Name, failures, _time.GetElapsedTime(failingSince).TotalSeconds);
                    failures = 0;
                }

                if (jobs.Count == 0)
                {
                    await _queue.WaitForJobsAsync(_options.PollInterval, stoppingToken).ConfigureAwait(false);
                    _state.Alive();
                    continue;
                }

                long fetchedAt = _time.GetTimestamp();
                foreach (LeasedJob job in jobs)
                {
                    Interlocked.Increment(ref _buffered);
                    _held[job.Lease.Token] = (job.Lease, fetchedAt);
                    if (!_buffer.Writer.TryWrite(job))
                    {
                        // Only when the buffer was completed by a stop: give the job back.
                        Interlocked.Decrement(ref _buffered);
                        _held.TryRemove(job.Lease.Token, out _);
                        await ReleaseAllAsync([job.Lease], CancellationToken.None).ConfigureAwait(false);
                    }
                }
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
                    LogFetchFailed(_logger, ex, _queue.Name, failures, wait.TotalMilliseconds);
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

    private async Task HandleLoopAsync()
    {
        await foreach (LeasedJob job in _buffer.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            Interlocked.Decrement(ref _buffered);
            try
            {
                bool run;
                AdaptiveConcurrencyLease? permit;
                while (true)
                {
                    // A rate-limit pause holds back buffered jobs too, not only the fetches.
                    while (!_stopping && _state.AbortReason is null && PausedFor is { Ticks: > 0 } pause)
                    {
                        await Task.Delay(Min(pause, _options.PollInterval), _time, _hardStop.Token).ConfigureAwait(false);
                    }

                    if (_stopping || _state.AbortReason is not null)
                    {
                        await ReleaseAllAsync([job.Lease], _hardStop.Token).ConfigureAwait(false);
                        run = false;
                        permit = null;
                        break;
                    }

                    (run, permit) = await AcquirePermitAsync(job).ConfigureAwait(false);
                    if (!run || PausedFor <= TimeSpan.Zero)
                    {
                        break;
                    }

                    // A pause began while this loop waited for its permit: the permit must not send the job to a
                    // downstream that just said 429. Give it back (it says nothing about capacity) and wait out the pause.
                    permit?.Record(ConcurrencyOutcome.Ignore);
                    permit?.Dispose();
                }

                if (!run)
                {
                    continue;
                }

                _held.TryRemove(job.Lease.Token, out _); // from here the running job's own renew loop keeps it

                try
                {
                    await ProcessAsync(job, permit).ConfigureAwait(false);
                }
                finally
                {
                    permit?.Dispose();
                }
            }
            catch (Exception ex)
            {
                // ProcessAsync handles the handler's exceptions; this is a backend failure while writing the outcome.
                // The job's lease will run out and the reaper takes it back: nothing is lost.
                LogOutcomeNotWritten(_logger, ex, _queue.Name, job.Job.Id);
            }
            finally
            {
                _held.TryRemove(job.Lease.Token, out _); // released, deferred or lost: no longer ours to keep
            }
        }
    }

    private enum Outcome
    {
        Completed,
        CompletedByFallback,
        Failed,
        LeaseLost,
        Shutdown,
        HandlerUnavailable,
    }

    /// <summary>Takes a permit of the adaptive limiter, or of the job's partition, before the job starts.</summary>
    /// <returns>Whether to run the job (with the permit to report to); when not, the job was released or deferred.</returns>
    private async Task<(bool Run, AdaptiveConcurrencyLease? Permit)> AcquirePermitAsync(LeasedJob job)
    {
        if (_limiter is not null)
        {
            // Fast path: a free permit (it fails while others wait, so it never jumps the queue). A long wait is safe:
            // the job's lease is kept alive by HeldRenewLoopAsync until the job starts.
            RateLimitLease permit = _limiter.AttemptAcquire();
            if (!permit.IsAcquired)
            {
                permit.Dispose();
                try
                {
                    permit = await _limiter.AcquireAsync(1, _stopOrAbort.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    await ReleaseAllAsync([job.Lease], _hardStop.Token).ConfigureAwait(false);
                    return (false, null);
                }
            }

            if (!permit.IsAcquired || _stopping || _state.AbortReason is not null)
            {
                permit.Dispose();
                await ReleaseAllAsync([job.Lease], _hardStop.Token).ConfigureAwait(false);
                return (false, null);
            }

            return (true, (AdaptiveConcurrencyLease)permit);
        }

        if (_partitions is not null)
        {
            string key;
            try
            {
                key = _options.ConcurrencyKey!(job.Job) ?? string.Empty;
            }
            catch (Exception ex)
            {
                // A key that cannot be computed (e.g. an unreadable payload) is no reason to hold the job back: it runs
                // in the shared partition, and the handler reports what is wrong with it.
                LogConcurrencyKeyFailed(_logger, ex, _queue.Name, job.Job.Id);
                key = string.Empty;
            }

            RateLimitLease permit;
            try
            {
                permit = _partitions.AttemptAcquire(key);
            }
            catch (ObjectDisposedException)
            {
                // The partitioned limiter dropped this idle partition just now: the next call creates a new one.
                permit = _partitions.AttemptAcquire(key);
            }

            if (permit.IsAcquired)
            {
                return (true, permit as AdaptiveConcurrencyLease);
            }

            TimeSpan delay = permit.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter)
                ? TimeSpan.FromTicks(Math.Clamp(retryAfter.Ticks, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks))
                : TimeSpan.FromSeconds(1);
            permit.Dispose();
            try
            {
                await DeferAsync(job, key, delay).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The deferral could not be written: give the job back rather than leave it to its lease.
                LogOutcomeNotWritten(_logger, ex, _queue.Name, job.Job.Id);
                await ReleaseAllAsync([job.Lease], _hardStop.Token).ConfigureAwait(false);
            }

            return (false, null);
        }

        return (true, null);
    }

    private async Task DeferAsync(LeasedJob job, string key, TimeSpan delay)
    {
        var error = new JobError("ConcurrencyLimitReached", $"Partition '{key}' of queue '{_queue.Name}' was at its concurrency limit; the job was deferred for {delay.TotalMilliseconds:0} ms without spending an attempt.", ErrorCategory.RateLimited);
        FailResult result = await _queue.FailAsync(job.Lease, error, RecoveryDecision.RetryWithoutAttempt(delay)).ConfigureAwait(false);
        if (result.IsApplied)
        {
            ResilientQueueTelemetry.Deferred.Add(1, _queueTag);
            LogDeferred(_logger, _queue.Name, job.Job.Id, key, delay.TotalMilliseconds);
        }
    }

    private async Task ProcessAsync(LeasedJob job, AdaptiveConcurrencyLease? permit)
    {
        JobLease lease = job.Lease;

        // Until the job's outcome is known it says nothing about the downstream's capacity.
        permit?.Record(ConcurrencyOutcome.Ignore);

        // The job may have waited in the buffer: renew its lease before starting when it is due (or check it is still
        // ours), so a job whose lease ran out meanwhile is never run alongside the worker that now holds it.
        if (_time.GetUtcNow() >= lease.ExpiresAt - _options.LeaseDuration + _options.EffectiveRenewInterval
            && !(await _queue.RenewAsync(lease, _options.LeaseDuration).ConfigureAwait(false)).IsSucceeded)
        {
            ResilientQueueTelemetry.LeaseLost.Add(1, _queueTag);
            LogLeaseLost(_logger, _queue.Name, job.Job.Id, job.Job.Attempts);
            return;
        }

        var running = new RunningJob(lease);
        _running[lease.Token] = running;
        ResilientQueueTelemetry.InFlight.Add(1, _queueTag);
        try
        {
            await RunAndWriteOutcomeAsync(job, running, permit).ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(lease.Token, out _);
            ResilientQueueTelemetry.InFlight.Add(-1, _queueTag);
        }
    }

    private async Task RunAndWriteOutcomeAsync(LeasedJob job, RunningJob running, AdaptiveConcurrencyLease? permit)
    {
        JobLease lease = job.Lease;
        TimeSpan waited = _time.GetUtcNow() - job.Job.AvailableAt;
        ResilientQueueTelemetry.QueueWait.Record(Math.Max(waited.TotalSeconds, 0), _queueTag);
        long started = _time.GetTimestamp();
        using Activity? activity = StartActivity(job.Job);
        using var leaseLost = new CancellationTokenSource();
        using CancellationTokenSource? timeout = _options.JobTimeout is { } limit ? new CancellationTokenSource(limit, _time) : null;
        using var jobToken = CancellationTokenSource.CreateLinkedTokenSource(_hardStop.Token, leaseLost.Token, timeout?.Token ?? CancellationToken.None);
        using var stopRenewing = new CancellationTokenSource();
        Task renewal = RenewLoopAsync(lease, leaseLost, started, stopRenewing.Token);
        Outcome outcome;
        Exception? error = null;
        try
        {
            (outcome, error) = await RunHandlerAsync(job, leaseLost, timeout, jobToken.Token).ConfigureAwait(false);
        }
        finally
        {
            await stopRenewing.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
        }

        if (leaseLost.IsCancellationRequested && outcome is not Outcome.Shutdown)
        {
            outcome = Outcome.LeaseLost; // whatever the handler returned, another worker may hold the job now
        }

        TimeSpan ran = _time.GetElapsedTime(started);
        double seconds = ran.TotalSeconds;
        ResilientQueueTelemetry.ProcessingDuration.Record(seconds, _queueTag, new KeyValuePair<string, object?>("resilientqueue.outcome", outcome.ToString()));
        if (!running.TryEnter(RunningJob.WritingOutcome))
        {
            return; // the shutdown deadline already gave the lease back
        }

        switch (outcome)
        {
            case Outcome.Completed:
            case Outcome.CompletedByFallback:
                if (outcome == Outcome.CompletedByFallback)
                {
                    ResilientQueueTelemetry.FallbackRan.Add(1, _queueTag);
                    LogFallbackRan(_logger, _queue.Name, job.Job.Id, job.Job.Attempts, _options.JobTimeout!.Value.TotalSeconds);
                    activity?.SetTag("resilientqueue.fallback", true);
                }

                _acks.Writer.TryWrite(lease);

                // A job finished by its timeout fallback still timed out: the downstream was too slow.
                permit?.Record(outcome == Outcome.Completed ? ConcurrencyOutcome.Success : ConcurrencyOutcome.Drop, ran);
                break;
            case Outcome.LeaseLost:
                ResilientQueueTelemetry.LeaseLost.Add(1, _queueTag);
                LogLeaseLost(_logger, _queue.Name, job.Job.Id, job.Job.Attempts);
                activity?.SetStatus(ActivityStatusCode.Error, "lease lost");
                break;
            case Outcome.Shutdown:
                await ReleaseAllAsync([lease], CancellationToken.None).ConfigureAwait(false);
                break;
            case Outcome.HandlerUnavailable when error is not null:
                string reason = $"its handler {typeof(THandler).Name} cannot be created: {error.Message}";
                _state.Aborted(reason);
                _aborted.Cancel();
                LogHandlerUnavailable(_logger, error, _queue.Name, typeof(THandler).FullName ?? typeof(THandler).Name, error.Message);
                activity?.SetStatus(ActivityStatusCode.Error, reason);
                await ReleaseAllAsync([lease], CancellationToken.None).ConfigureAwait(false);
                break;
            case Outcome.Failed when error is not null:
                activity?.SetStatus(ActivityStatusCode.Error, error.Message);
                activity?.SetTag(ResilientQueueTelemetry.ErrorTypeTag, error.GetType().Name);
                ErrorCategory category = await FailAsync(job, error).ConfigureAwait(false);
                permit?.Record(category is ErrorCategory.Transient or ErrorCategory.RateLimited ? ConcurrencyOutcome.Drop : ConcurrencyOutcome.Ignore, ran);
                break;
        }
    }

    private async Task<(Outcome Outcome, Exception? Error)> RunHandlerAsync(LeasedJob job, CancellationTokenSource leaseLost, CancellationTokenSource? timeout, CancellationToken token)
    {
        TPayload payload;
        try
        {
            payload = _serializer.Deserialize<TPayload>(job.Job.Payload);
        }
        catch (Exception ex)
        {
            return (Outcome.Failed, ex); // a payload that cannot be read: the classifier makes it a validation failure
        }

        AsyncServiceScope scope = _scopes.CreateAsyncScope();
        try
        {
            THandler handler;
            try
            {
                handler = scope.ServiceProvider.GetRequiredService<THandler>();
            }
            catch (Exception ex)
            {
                // The handler cannot be created (a service it needs is not registered, its constructor throws): a
                // configuration error, the same for every job, so it stops the worker instead of failing each job.
                return (Outcome.HandlerUnavailable, ex);
            }

            var context = new JobContext<TPayload>(_queue, job, payload, _serializer, () => leaseLost.Cancel(), token);
            try
            {
                await handler.HandleAsync(context, token).ConfigureAwait(false);
                return (Outcome.Completed, null);
            }
            catch (Exception ex) when (leaseLost.IsCancellationRequested || ex is LeaseLostException)
            {
                return (Outcome.LeaseLost, null);
            }
            catch (Exception) when (_hardStop.IsCancellationRequested)
            {
                return (Outcome.Shutdown, null); // also a cancellation the handler wrapped in another exception
            }
            catch (OperationCanceledException) when (timeout is { IsCancellationRequested: true })
            {
                return await TimedOutAsync(job, handler, payload, leaseLost).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                return (Outcome.Failed, ex);
            }
        }
        finally
        {
            try
            {
                await scope.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogScopeDisposeFailed(_logger, ex, _queue.Name, job.Job.Id);
            }
        }
    }

    private async Task<(Outcome Outcome, Exception? Error)> TimedOutAsync(LeasedJob job, THandler handler, TPayload payload, CancellationTokenSource leaseLost)
    {
        var timedOut = new TimeoutException($"Job '{job.Job.Id}' ran past its {_options.JobTimeout!.Value.TotalSeconds:0.###} s timeout (attempt {job.Job.Attempts}).");
        if (handler is not IJobTimeoutFallback<TPayload> fallback)
        {
            return (Outcome.Failed, timedOut);
        }

        using var fallbackToken = CancellationTokenSource.CreateLinkedTokenSource(_hardStop.Token, leaseLost.Token);
        try
        {
            var fallbackContext = new JobContext<TPayload>(_queue, job, payload, _serializer, () => leaseLost.Cancel(), fallbackToken.Token);
            await fallback.HandleTimeoutAsync(fallbackContext, fallbackToken.Token).ConfigureAwait(false);
            return (Outcome.CompletedByFallback, null);
        }
        catch (Exception ex) when (leaseLost.IsCancellationRequested || ex is LeaseLostException)
        {
            return (Outcome.LeaseLost, null);
        }
        catch (Exception) when (_hardStop.IsCancellationRequested)
        {
            return (Outcome.Shutdown, null);
        }
        catch (Exception ex)
        {
            return (Outcome.Failed, ex);
        }
    }

    /// <returns>The error's category.</returns>
    private async Task<ErrorCategory> FailAsync(LeasedJob job, Exception error)
    {
        ErrorClassification classification;
        RecoveryDecision decision;
        try
        {
            classification = _classifier.Classify(error);
            decision = _strategy.Decide(new RecoveryArguments(error, classification, job.Job.Attempts, job.Job.MaxAttempts));
        }
        catch (Exception ex)
        {
            // A classifier or strategy must not throw; if one does, retry with backoff rather than lose the job.
            LogStrategyFailed(_logger, ex, _queue.Name, job.Job.Id);
            classification = new ErrorClassification(ErrorCategory.Unknown);
            decision = RecoveryDecision.Retry(_options.Backoff.GetDelay(Math.Max(job.Job.Attempts, 1)));
        }

        ErrorCategory category = classification.Category;
        string errorType = error.GetType().Name;
        ResilientQueueTelemetry.Failed.Add(1, _queueTag, new(ResilientQueueTelemetry.ErrorTypeTag, errorType), new(ResilientQueueTelemetry.ErrorCategoryTag, category.ToString()));
        LogJobFailed(_logger, error, _queue.Name, job.Job.Id, job.Job.Attempts, job.Job.MaxAttempts, category, errorType, decision.Action);

        // The worker's own part of the decision applies whatever happens to the write below.
        if (decision.Action == RecoveryAction.Pause)
        {
            PauseFetching(decision.Delay);
        }
        else if (decision.Action == RecoveryAction.Abort)
        {
            _state.Aborted(decision.Reason ?? category.ToString());
            _aborted.Cancel();
            LogAborted(_logger, _queue.Name, decision.Reason ?? category.ToString());
        }

        // What the queue applied, read back rather than derived again here.
        FailResult result = await _queue.FailAsync(job.Lease, JobError.FromException(error, category), decision).ConfigureAwait(false);
        var categoryTag = new KeyValuePair<string, object?>(ResilientQueueTelemetry.ErrorCategoryTag, category.ToString());
        switch (result.Outcome)
        {
            case FailOutcome.LeaseLost:
                ResilientQueueTelemetry.LeaseLost.Add(1, _queueTag);
                LogLeaseLost(_logger, _queue.Name, job.Job.Id, job.Job.Attempts);
                break;
            case FailOutcome.DeadLettered:
                ResilientQueueTelemetry.DeadLettered.Add(1, _queueTag, categoryTag);
                LogDeadLettered(_logger, _queue.Name, job.Job.Id, job.Job.Attempts, category, result.DeadLetterReason ?? string.Empty);
                break;
            case FailOutcome.Retrying when decision.Action == RecoveryAction.Abort:
                ResilientQueueTelemetry.Released.Add(1, _queueTag);
                break;
            case FailOutcome.Retrying:
                ResilientQueueTelemetry.Retried.Add(1, _queueTag, categoryTag);
                break;
            case FailOutcome.Removed:
                LogSkipped(_logger, _queue.Name, job.Job.Id, decision.Reason ?? string.Empty);
                break;
        }

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
        LogPaused(_logger, _queue.Name, duration.TotalSeconds);
    }

    /// <summary>
    /// Renews the leases of jobs fetched but not yet started, each once its lease was set a renew interval ago, so a job
    /// that waits long (behind slow handlers, in a rate-limit pause, for a permit of the adaptive limiter) is never
    /// reaped, and never spends an attempt, before it runs.
    /// </summary>
    private async Task HeldRenewLoopAsync(CancellationToken stoppingToken)
    {
        TimeSpan interval = _options.EffectiveRenewInterval;
        try
        {
            while (true)
            {
                await Task.Delay(interval / 2, _time, stoppingToken).ConfigureAwait(false);
                var due = new List<KeyValuePair<string, (JobLease Lease, long SetAt)>>();
                foreach (KeyValuePair<string, (JobLease Lease, long SetAt)> held in _held)
                {
                    if (_time.GetElapsedTime(held.Value.SetAt) >= interval)
                    {
                        due.Add(held);
                    }
                }

                // One batched renewal per interval for every held lease that is due.
                foreach (KeyValuePair<string, (JobLease Lease, long SetAt)>[] batch in due.Chunk(JobQueueOptions.MaxBatchSize))
                {
                    try
                    {
                        long now = _time.GetTimestamp();
                        IReadOnlyList<LeaseResult> results = await _queue.RenewManyAsync(Array.ConvertAll(batch, h => h.Value.Lease), _options.LeaseDuration, stoppingToken).ConfigureAwait(false);
                        for (int i = 0; i < batch.Length; i++)
                        {
                            if (results[i].IsSucceeded)
                            {
                                _held.TryUpdate(batch[i].Key, (batch[i].Value.Lease, now), batch[i].Value);
                            }
                            else
                            {
                                _held.TryRemove(batch[i].Key, out _); // the check before the job starts finds it lost too
                            }
                        }
                    }
                    catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                    {
                        LogHeldRenewFailed(_logger, ex, _queue.Name, batch.Length);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Fetching stopped: held jobs are released now.
        }
    }

    private async Task RenewLoopAsync(JobLease lease, CancellationTokenSource leaseLost, long started, CancellationToken stop)
    {
        // A handler that ignores its timed-out token keeps its lease for one more lease duration at most; then the
        // renewals stop, the lease runs out and the reaper takes the job back.
        TimeSpan? renewFor = _options.JobTimeout is { } limit ? limit + _options.LeaseDuration : null;
        try
        {
            while (true)
            {
                await Task.Delay(_options.EffectiveRenewInterval, _time, stop).ConfigureAwait(false);
                if (renewFor is { } cap && _time.GetElapsedTime(started) > cap)
                {
                    LogRenewalStopped(_logger, _queue.Name, lease.JobId, cap.TotalSeconds);
                    return;
                }

                try
                {
                    if (!(await _queue.RenewAsync(lease, _options.LeaseDuration, stop).ConfigureAwait(false)).IsSucceeded)
                    {
                        await leaseLost.CancelAsync().ConfigureAwait(false);
                        return;
                    }
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    // A transient backend error: try again at the next interval; if the lease runs out meanwhile and is
                    // reaped, that renewal says so and the handler is cancelled.
                    LogRenewFailed(_logger, ex, _queue.Name, lease.JobId);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The job finished.
        }
    }

    private async Task AckLoopAsync()
    {
        while (await _acks.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            await FlushAcksAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Acknowledges what is queued, in batches; a failed batch is tried again a few times while the leases last.</summary>
    private async Task FlushAcksAsync(CancellationToken cancellationToken)
    {
        var batch = new List<JobLease>(AckBatch);
        while (true)
        {
            batch.Clear();
            while (batch.Count < AckBatch && _acks.Reader.TryRead(out JobLease lease))
            {
                batch.Add(lease);
            }

            if (batch.Count == 0)
            {
                return;
            }

            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    IReadOnlyList<LeaseResult> results = await _queue.AckManyAsync(batch, cancellationToken).ConfigureAwait(false);
                    int completed = results.Count(r => r.IsSucceeded);
                    ResilientQueueTelemetry.Completed.Add(completed, _queueTag);
                    if (completed < results.Count)
                    {
                        ResilientQueueTelemetry.LeaseLost.Add(results.Count - completed, _queueTag);
                        LogAckLeaseLost(_logger, _queue.Name, results.Count - completed);
                    }

                    break;
                }
                catch (Exception ex) when (attempt < 3 && !cancellationToken.IsCancellationRequested)
                {
                    LogAckFailed(_logger, ex, _queue.Name, batch.Count);
                    await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), _time, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    // The jobs stay leased; their leases run out and the reaper runs them again (at-least-once).
                    LogAckFailed(_logger, ex, _queue.Name, batch.Count);
                    break;
                }
            }
        }
    }

    private async Task StatusLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                ResilientQueueTelemetry.LastStatus[_queue.Name] = await _queue.GetStatusAsync(stoppingToken).ConfigureAwait(false);
                await Task.Delay(_options.StatusInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                // The fetch loop reports an unreachable backend; the gauge keeps its last reading.
                try
                {
                    await Task.Delay(_options.StatusInterval, _time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Gives leases back without spending attempts, in batches; returns how many were released.</summary>
    private async Task<int> ReleaseAllAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken)
    {
        int released = 0;
        foreach (JobLease[] batch in leases.Chunk(JobQueueOptions.MaxBatchSize))
        {
            try
            {
                IReadOnlyList<LeaseResult> results = await _queue.ReleaseManyAsync(batch, cancellationToken).ConfigureAwait(false);
                int succeeded = results.Count(r => r.IsSucceeded);
                ResilientQueueTelemetry.Released.Add(succeeded, _queueTag);
                released += succeeded;
            }
            catch (Exception ex)
            {
                foreach (JobLease lease in batch)
                {
                    LogReleaseFailed(_logger, ex, _queue.Name, lease.JobId);
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    break; // out of time: the remaining leases run out and the reaper takes the jobs back
                }
            }
        }

        return released;
    }

    private Activity? StartActivity(Job job)
    {
        ActivityContext parent = job.TraceParent is { } traceParent && ActivityContext.TryParse(traceParent, null, isRemote: true, out ActivityContext context) ? context : default;
        Activity? activity = ResilientQueueTelemetry.ActivitySource.StartActivity($"process {job.Queue}", ActivityKind.Consumer, parent);
        activity?.SetTag(ResilientQueueTelemetry.QueueTag, job.Queue);
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.message.id", job.Id);
        activity?.SetTag("resilientqueue.attempt", job.Attempts);
        return activity;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    [LoggerMessage(EventId = 2019, Level = LogLevel.Warning, Message = "Worker of queue {Queue} stopped renewing the lease of job {JobId}: its handler ran past its timeout and {Seconds} s in all; the reaper will take the job back")]
    private static partial void LogRenewalStopped(ILogger logger, string queue, string jobId, double seconds);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not dispose the DI scope of job {JobId}")]
    private static partial void LogScopeDisposeFailed(ILogger logger, Exception exception, string queue, string jobId);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Worker of queue {Queue} started: concurrency {Concurrency}, prefetch {Prefetch}")]
    private static partial void LogWorkerStarted(ILogger logger, string queue, int concurrency, int prefetch);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Worker of queue {Queue} stopped")]
    private static partial void LogWorkerStopped(ILogger logger, string queue);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Job {JobId} of queue {Queue} failed on attempt {Attempt} of {MaxAttempts}: category {ErrorCategory}, error type {ErrorType}; decision {Decision}")]
    private static partial void LogJobFailed(ILogger logger, Exception exception, string queue, string jobId, int attempt, int maxAttempts, ErrorCategory errorCategory, string errorType, RecoveryAction decision);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "Job {JobId} of queue {Queue} was dead-lettered after attempt {Attempt} ({ErrorCategory}): {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string queue, string jobId, int attempt, ErrorCategory errorCategory, string reason);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Job {JobId} of queue {Queue} lost its lease during attempt {Attempt}; its outcome was not written")]
    private static partial void LogLeaseLost(ILogger logger, string queue, string jobId, int attempt);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Job {JobId} of queue {Queue} timed out after {TimeoutSeconds} s on attempt {Attempt}; the handler's fallback completed it")]
    private static partial void LogFallbackRan(ILogger logger, string queue, string jobId, int attempt, double timeoutSeconds);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Worker of queue {Queue} pauses fetching for {Seconds} s (rate limited)")]
    private static partial void LogPaused(ILogger logger, string queue, double seconds);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Critical, Message = "Worker of queue {Queue} stopped fetching: {Reason}. The job was kept; restart the worker once the cause is fixed")]
    private static partial void LogAborted(ILogger logger, string queue, string reason);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Information, Message = "Job {JobId} of queue {Queue} was skipped: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string queue, string jobId, string reason);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not fetch (failure {Failures} in a row; logged on the first and every 30th); trying again in {DelayMs} ms")]
    private static partial void LogFetchFailed(ILogger logger, Exception exception, string queue, int failures, double delayMs);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not renew the lease of job {JobId}; trying again at the next interval")]
    private static partial void LogRenewFailed(ILogger logger, Exception exception, string queue, string jobId);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not acknowledge {Count} jobs; their leases will run out and they will run again")]
    private static partial void LogAckFailed(ILogger logger, Exception exception, string queue, int count);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "Worker of queue {Queue}: {Count} acknowledgements found the lease lost; those jobs may run again elsewhere")]
    private static partial void LogAckLeaseLost(ILogger logger, string queue, int count);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not release job {JobId}; its lease will run out and the reaper will take it back")]
    private static partial void LogReleaseFailed(ILogger logger, Exception exception, string queue, string jobId);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Information, Message = "Worker of queue {Queue} released {Count} fetched but unstarted jobs on stop")]
    private static partial void LogReleasedUnstarted(ILogger logger, string queue, int count);

    [LoggerMessage(EventId = 2016, Level = LogLevel.Warning, Message = "Worker of queue {Queue} reached the shutdown deadline: cancelled the running jobs and released {Count} leases")]
    private static partial void LogReleasedAtDeadline(ILogger logger, string queue, int count);

    [LoggerMessage(EventId = 2017, Level = LogLevel.Error, Message = "Worker of queue {Queue}: the error classifier or recovery strategy threw for job {JobId}; retrying with backoff")]
    private static partial void LogStrategyFailed(ILogger logger, Exception exception, string queue, string jobId);

    [LoggerMessage(EventId = 2018, Level = LogLevel.Error, Message = "Worker of queue {Queue} could not write the outcome of job {JobId}; its lease will run out and it will run again")]
    private static partial void LogOutcomeNotWritten(ILogger logger, Exception exception, string queue, string jobId);

    [LoggerMessage(EventId = 2024, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not renew the leases of {Count} fetched jobs waiting to start; trying again at the next interval")]
    private static partial void LogHeldRenewFailed(ILogger logger, Exception exception, string queue, int count);

    [LoggerMessage(EventId = 2025, Level = LogLevel.Critical, Message = "Worker of queue {Queue} stopped: its handler {Handler} cannot be created ({Error}). The job was given back; fix the service registrations and restart")]
    private static partial void LogHandlerUnavailable(ILogger logger, Exception exception, string queue, string handler, string error);

    [LoggerMessage(EventId = 2023, Level = LogLevel.Information, Message = "Worker of queue {Queue} can fetch again after {Failures} failed attempts over {Seconds} s")]
    private static partial void LogFetchRecovered(ILogger logger, string queue, int failures, double seconds);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Debug, Message = "Job {JobId} of queue {Queue} deferred for {DelayMs} ms: its concurrency partition {Partition} is at its limit (no attempt spent)")]
    private static partial void LogDeferred(ILogger logger, string queue, string jobId, string partition, double delayMs);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Warning, Message = "The concurrency key of job {JobId} of queue {Queue} could not be computed; it runs in the shared partition")]
    private static partial void LogConcurrencyKeyFailed(ILogger logger, Exception exception, string queue, string jobId);
}
