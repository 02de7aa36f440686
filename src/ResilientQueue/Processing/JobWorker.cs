using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResilientQueue.Errors;
using ResilientQueue.Leases;
using ResilientQueue.Recovery;
using ResilientQueue.Serialization;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Processing;

/// <summary>
/// The hosted worker of one queue: its lifecycle. The parts: the fetch loop keeps a local buffer of leased jobs full
/// (JobWorker.Fetching.cs; its size set by <see cref="PrefetchSizer"/>); handler loops take a permit
/// (<see cref="WorkerPermits"/>) and run each job (JobWorker.Running.cs, <see cref="HandlerInvoker{THandler, TPayload}"/>);
/// the <see cref="LeaseKeeper"/> renews every held and running lease in one batched call per interval; the
/// <see cref="OutcomeWriter"/> group-commits acknowledgements and failures. On stop: fetching stops, buffered jobs are
/// released at once, running jobs finish until the host's shutdown deadline, then are cancelled and released.
/// </summary>
internal sealed partial class JobWorker<THandler, TPayload> : BackgroundService, IHostedLifecycleService
    where THandler : class, IJobHandler<TPayload>
{
    private readonly IJobQueue _queue;
    private readonly IServiceScopeFactory _scopes;
    private readonly IErrorClassifier _classifier;
    private readonly IRecoveryStrategy _strategy;
    private readonly JobWorkerOptions _options;
    private readonly JobWorkerState _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?> _queueTag;
    private readonly string _activityName;
    private readonly Channel<TrackedJob> _buffer;
    private readonly CancellationTokenSource _stopFetching = new();
    private readonly CancellationTokenSource _aborted = new();
    private readonly CancellationTokenSource _hardStop = new();
    private readonly CancellationTokenSource _stopOrAbort;
    private readonly WorkerPermits _permits;
    private readonly LeaseKeeper _keeper;
    private readonly OutcomeWriter _outcomes;
    private readonly PrefetchSizer _prefetch;
    private readonly HandlerInvoker<THandler, TPayload> _invoker;
    private volatile bool _stopping;
    private bool _handlerChecked;

    public JobWorker(IJobQueue queue, IServiceScopeFactory scopes, IServiceProvider? singletonHandlerRoot, IErrorClassifier classifier, IRecoveryStrategy? strategy, JobWorkerOptions options, JobWorkerState state, TimeProvider time, ILogger logger)
    {
        _queue = queue;
        _scopes = scopes;
        _classifier = classifier;
        _options = options.Copy();
        _strategy = strategy ?? new DefaultRecoveryStrategy(_options.Backoff);
        _state = state;
        _time = time;
        _logger = logger;
        _queueTag = ResilientQueueTelemetry.Queue(queue.Name);
        _activityName = WorkerActivity.ProcessName(queue.Name);
        _buffer = Channel.CreateBounded<TrackedJob>(new BoundedChannelOptions(JobQueueOptions.MaxBatchSize) { SingleWriter = true });
        _stopOrAbort = CancellationTokenSource.CreateLinkedTokenSource(_stopFetching.Token, _aborted.Token);
        _permits = new WorkerPermits(_options, queue.Name, time, logger);
        _keeper = new LeaseKeeper(queue, _options, time, logger);
        _outcomes = new OutcomeWriter(queue, time, logger);
        _prefetch = new PrefetchSizer(_options, time);

        // The queue's serializer: what its producers wrote with.
        _invoker = new HandlerInvoker<THandler, TPayload>(queue, scopes, singletonHandlerRoot, queue.Serializer, _options, _hardStop.Token, logger);
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

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureHandlerCanBeCreated(); // once: a host has made the check in StartingAsync already

        // Running from here on, for the health check: .NET 10's BackgroundService runs all of ExecuteAsync on the thread
        // pool, so on a busy machine the loop may begin well after StartAsync returned, and a probe in between must
        // read "not reached its backend yet" (Degraded), not "not running" (Unhealthy).
        _state.Started();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        WorkerLog.WorkerStarted(_logger, _queue.Name, _options.HandlerLoops, _options.EffectivePrefetch);
        using var fetching = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _stopFetching.Token, _aborted.Token);
        using var keeping = new CancellationTokenSource();
        Task writer = Task.Run(_outcomes.RunAsync, CancellationToken.None);
        Task statusLoop = Task.Run(() => StatusLoopAsync(fetching.Token), CancellationToken.None);
        Task keeper = Task.Run(() => _keeper.RunAsync(keeping.Token), CancellationToken.None);
        Task[] handlerLoops = Enumerable.Range(0, _options.HandlerLoops).Select(_ => Task.Run(HandleLoopAsync, CancellationToken.None)).ToArray();
        try
        {
            await FetchLoopAsync(fetching.Token).ConfigureAwait(false);
        }
        finally
        {
            _stopping = true;
            _buffer.Writer.TryComplete();
            var unstarted = new List<TrackedJob>();
            while (_buffer.Reader.TryRead(out TrackedJob? job))
            {
                Interlocked.Decrement(ref _buffered);
                unstarted.Add(job);
            }

            int released = await ReleaseAllAsync(unstarted, _hardStop.Token).ConfigureAwait(false);
            if (released > 0)
            {
                WorkerLog.ReleasedUnstarted(_logger, _queue.Name, released);
            }

            await Task.WhenAll(handlerLoops).ConfigureAwait(false);
            _outcomes.Complete();
            await writer.ConfigureAwait(false);
            await keeping.CancelAsync().ConfigureAwait(false); // the running jobs' leases were kept until their outcomes were written
            await keeper.ConfigureAwait(false);
            await statusLoop.ConfigureAwait(false);
            _permits.Dispose();
            ResilientQueueTelemetry.LastStatus.TryRemove(_queue.Name, out _);
            _state.Stopped();
            WorkerLog.WorkerStopped(_logger, _queue.Name);
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

        if (ExecuteTask is { IsCanceled: true })
        {
            // Stopped before the thread pool ran ExecuteAsync at all (its Task.Run saw the stop first): its finally,
            // which says the worker stopped, never ran; StartAsync said it was running.
            _state.Stopped();
        }

        if (ExecuteTask is { IsCompleted: false })
        {
            // The deadline passed. Jobs still running (their tokens are cancelled) are given back now, so they do not
            // wait for the reaper; jobs whose outcome is being written are left to that write. Finished jobs whose
            // outcome is still queued are written now. A handler that finishes later is fenced out. (The registration
            // above may not have run yet: the base class's own, registered later, runs first and may end this await.)
            await _hardStop.CancelAsync().ConfigureAwait(false);
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var release = new List<TrackedJob>();
            foreach (TrackedJob job in _keeper.Running())
            {
                if (job.TryLeaveRunning(TrackedJob.ReleasedAtDeadline))
                {
                    release.Add(job);
                }
            }

            int released = await ReleaseAllAsync(release, bounded.Token).ConfigureAwait(false);
            try
            {
                await _outcomes.FlushAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Out of time: the leases run out and the reaper takes the jobs back.
            }

            WorkerLog.ReleasedAtDeadline(_logger, _queue.Name, released);
        }
    }

    public override void Dispose()
    {
        // The cancellation sources are cancelled, never disposed: loops that outlive a stop may still read their tokens.
        _hardStop.Cancel();
        base.Dispose();
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
                $"The handler {HandlerTypes.Registered(typeof(THandler)).FullName} of queue '{_queue.Name}' cannot be created: {ex.Message} Register what it needs in the service collection (its constructor's parameters), or make its constructor not throw.",
                ex);
        }
    }

    /// <summary>Gives leases back without spending attempts, in batches; returns how many were released.</summary>
    private async Task<int> ReleaseAllAsync(IReadOnlyList<TrackedJob> jobs, CancellationToken cancellationToken)
    {
        int released = 0;
        foreach (TrackedJob[] batch in jobs.Chunk(JobQueueOptions.MaxBatchSize))
        {
            try
            {
                IReadOnlyList<LeaseResult> results = await _queue.ReleaseManyAsync(Array.ConvertAll(batch, static j => j.Lease), cancellationToken).ConfigureAwait(false);
                int succeeded = results.Count(r => r.IsSucceeded);
                ResilientQueueTelemetry.Released.Add(succeeded, _queueTag);
                released += succeeded;
            }
            catch (Exception ex)
            {
                foreach (TrackedJob job in batch)
                {
                    WorkerLog.ReleaseFailed(_logger, ex, _queue.Name, job.Lease.JobId);
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    break; // out of time: the remaining leases run out and the reaper takes the jobs back
                }
            }
            finally
            {
                foreach (TrackedJob job in batch)
                {
                    job.Finish();
                }
            }
        }

        return released;
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

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
