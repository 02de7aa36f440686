using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ResilientQueue.Backpressure;
using ResilientQueue.DeadLetter;
using ResilientQueue.Serialization;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Backends;

/// <summary>
/// The template every backend derives from, as <see cref="System.Threading.RateLimiting.RateLimiter"/>'s public methods
/// call its protected <c>…Core</c> ones: the public <see cref="IJobQueue"/> members check their arguments, read the
/// clock, decide every transition of the job state machine (through the core's one decider), wait for room at capacity,
/// wait for work, and write the telemetry and logs; a backend implements only the storage steps, the protected
/// abstract <c>…CoreAsync</c> members, each of which must be one atomic step on its storage. A backend that passes the
/// conformance suites (<c>tests/ResilientQueue.Conformance</c>) is correct; see <c>docs/writing-a-backend.md</c>.
/// </summary>
/// <remarks>
/// Times given to the storage steps are whole milliseconds from the queue's <see cref="TimeProvider"/>: a backend never
/// reads a clock of its own (a server's clock is never the authority). Every step does bounded work
/// (<see cref="JobQueueOptions.MaxStepWork"/>).
/// </remarks>
public abstract partial class JobQueueBase : IJobQueue, IAsyncDisposable, IDisposable
{
    private readonly KeyValuePair<string, object?> _queueTag;
    private readonly DeadLetterStore _deadLetters;
    private int _disposed;

    /// <summary>Creates the queue: checks the name, validates and copies the options.</summary>
    /// <param name="name">The queue's name (see <see cref="QueueNames"/>).</param>
    /// <param name="options">The queue's options, copied; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock for delays, leases and ages; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Where dead-letter trims are logged; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    protected JobQueueBase(string name, JobQueueOptions? options, TimeProvider? timeProvider, ILogger? logger)
    {
        QueueNames.ThrowIfInvalid(name);
        Name = name;
        Options = (options ?? new JobQueueOptions()).ValidatedCopy();
        TimeProvider = timeProvider ?? TimeProvider.System;
        Logger = logger ?? NullLogger.Instance;
        Serializer = Options.Serializer ?? SystemTextJsonJobSerializer.Default;
        _queueTag = ResilientQueueTelemetry.Queue(name);
        _deadLetters = new DeadLetterStore(this);
    }

    /// <inheritdoc cref="IJobQueue.Name" />
    public string Name { get; }

    /// <inheritdoc />
    public IJobSerializer Serializer { get; }

    /// <inheritdoc />
    public IDeadLetterStore DeadLetters => _deadLetters;

    /// <summary>The queue's options: a validated copy, fixed for the queue's life.</summary>
    protected JobQueueOptions Options { get; }

    /// <summary>The queue's clock; every time a storage step receives comes from it.</summary>
    protected TimeProvider TimeProvider { get; }

    /// <summary>The queue's logger.</summary>
    protected ILogger Logger { get; }

    /// <summary>Now, in whole Unix milliseconds (every backend stores times at that precision).</summary>
    /// <returns>The time.</returns>
    protected DateTimeOffset Now() => JobArguments.Now(TimeProvider);

    /// <inheritdoc />
    public async ValueTask<EnqueueResult> EnqueueAsync(ReadOnlyMemory<byte> payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using Activity? activity = StartSend();
        NewJob[] job = [JobArguments.Enqueue(Name, payload, WithTraceParent(options, activity), Options, Now())];
        IReadOnlyList<EnqueueResult> results = await RoomWaiter.RunAsync(Name, JobArguments.FullPolicy(options, Options), EnqueueAttempts(job, cancellationToken), WaitForRoomAsync, TimeProvider, cancellationToken).ConfigureAwait(false);
        Count(results);
        activity?.SetTag("messaging.message.id", results[0].JobId);
        return results[0];
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<JobSubmission> jobs, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        using Activity? activity = StartSend();
        NewJob[] normalized = JobArguments.EnqueueMany(Name, jobs, Options, Now());
        if ((activity ?? Activity.Current) is { IdFormat: ActivityIdFormat.W3C, Id: { } traceParent })
        {
            for (int i = 0; i < normalized.Length; i++)
            {
                normalized[i] = normalized[i] with { TraceParent = normalized[i].TraceParent ?? traceParent };
            }
        }

        IReadOnlyList<EnqueueResult> results = await RoomWaiter.RunAsync(Name, JobArguments.FullPolicy(null, Options), EnqueueAttempts(normalized, cancellationToken), WaitForRoomAsync, TimeProvider, cancellationToken).ConfigureAwait(false);
        Count(results);
        activity?.SetTag("messaging.batch.message_count", results.Count);
        return results;
    }

    /// <inheritdoc />
    public async ValueTask<BackpressureSignal> GetBackpressureAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long depth = await GetDepthCoreAsync(cancellationToken).ConfigureAwait(false);
        return ResilientQueueTelemetry.RecordBackpressure(Name, BackpressureSignal.From(depth, Options));
    }

    /// <summary>
    /// Stores new jobs in one atomic step: a job whose <see cref="NewJob.IdempotencyKey"/> is still remembered (for
    /// <see cref="JobQueueOptions.IdempotencyWindow"/>, also within the batch) is a duplicate and adds nothing; the others
    /// are added only if they all fit under <see cref="JobQueueOptions.Capacity"/> (ready + delayed + active), else none is.
    /// Delayed jobs (<see cref="NewJob.IsDelayed"/>) wait until their time; the others are ready, FIFO within their
    /// priority. Wakes waiting consumers (<see cref="SignalJobsMayBeReady"/> or the backend's own notification).
    /// </summary>
    /// <param name="jobs">The jobs, checked and normalized; 1 to <see cref="JobQueueOptions.MaxEnqueueBatchSize"/>.</param>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>One result per job, in order.</returns>
    /// <exception cref="QueueFullException">The new jobs do not all fit; nothing was added. The base waits and tries again when the caller asked to.</exception>
    protected abstract ValueTask<IReadOnlyList<EnqueueResult>> EnqueueCoreAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken);

    /// <summary>The depth (ready + delayed + active), read in one step, for the backpressure signal.</summary>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The depth.</returns>
    protected abstract ValueTask<long> GetDepthCoreAsync(CancellationToken cancellationToken);

    /// <summary>Stops the queue's wake-ups and frees what the backend holds.</summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await DisposeAsyncCore().ConfigureAwait(false);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Stops the queue's wake-ups and frees what the backend holds, synchronously.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Dispose(disposing: true);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Frees what the backend holds; called once, by <see cref="DisposeAsync"/>. The default does nothing.</summary>
    /// <returns>A task that completes when done.</returns>
    protected virtual ValueTask DisposeAsyncCore() => ValueTask.CompletedTask;

    /// <summary>Frees what the backend holds; called once, by <see cref="Dispose()"/>. The default does nothing.</summary>
    /// <param name="disposing"><see langword="true"/> when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>The dead-letter trims a storage step reports, logged (event 1001) and counted (<c>resilientqueue.deadletter.trimmed</c>) here for every backend.</summary>
    private void ReportTrims(IReadOnlyList<DeadLetterTrim> trimmed)
    {
        foreach (DeadLetterTrim trim in trimmed)
        {
            QueueLog.DeadLetterTrimmed(Logger, Name, trim.JobId, trim.Bound, trim.DeadAt, trim.DeadReason);
            ResilientQueueTelemetry.RecordDeadLetterTrimmed(Name, trim.Bound, 1);
        }
    }

    /// <summary>
    /// The tries of one enqueue: the first stores the jobs as they were stamped; a try after waiting for room stamps them
    /// with the time of that try (ids stay). (Restamping every first try copied every job of every batch.)
    /// </summary>
    private Func<ValueTask<IReadOnlyList<EnqueueResult>>> EnqueueAttempts(NewJob[] jobs, CancellationToken cancellationToken)
    {
        bool first = true;
        return () =>
        {
            NewJob[] stamped = first ? jobs : Restamp(jobs);
            first = false;
            return EnqueueCoreAsync(stamped, cancellationToken);
        };
    }

    private NewJob[] Restamp(NewJob[] jobs)
    {
        DateTimeOffset now = Now();
        if (jobs[0].EnqueuedAt == now)
        {
            return jobs;
        }

        var stamped = new NewJob[jobs.Length];
        for (int i = 0; i < jobs.Length; i++)
        {
            stamped[i] = jobs[i] with { EnqueuedAt = now, AvailableAt = now + (jobs[i].AvailableAt - jobs[i].EnqueuedAt) };
        }

        return stamped;
    }

    private Activity? StartSend()
    {
        Activity? activity = ResilientQueueTelemetry.ActivitySource.StartActivity($"send {Name}", ActivityKind.Producer);
        activity?.SetTag(ResilientQueueTelemetry.QueueTag, Name);
        activity?.SetTag("messaging.operation.type", "send");
        return activity;
    }

    /// <summary>
    /// Our send span when someone listens to it; otherwise the caller's current span (e.g. the ASP.NET Core request), so
    /// the consumer joins the trace either way. A traceparent the caller set wins.
    /// </summary>
    private static EnqueueOptions? WithTraceParent(EnqueueOptions? options, Activity? activity)
    {
        activity ??= Activity.Current;
        if (activity is null || activity.IdFormat != ActivityIdFormat.W3C || options?.TraceParent is not null)
        {
            return options;
        }

        EnqueueOptions traced = options?.Copy() ?? new EnqueueOptions();
        traced.TraceParent = activity.Id; // W3C id format: 00-<trace>-<span>-<flags>
        return traced;
    }

    private void Count(IReadOnlyList<EnqueueResult> results)
    {
        int added = 0;
        foreach (EnqueueResult result in results)
        {
            if (!result.Duplicate)
            {
                added++;
            }
        }

        if (added > 0)
        {
            ResilientQueueTelemetry.Enqueued.Add(added, _queueTag);
        }
    }
}
