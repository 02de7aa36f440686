using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using ResilientQueue.Concurrency;

namespace ResilientQueue.Processing;

/// <summary>
/// The permits a worker's jobs take before they start: none with a fixed <see cref="JobWorkerOptions.Concurrency"/>
/// (its handler loops are the limit); one of the adaptive limiter with <see cref="JobWorkerOptions.AdaptiveConcurrency"/>
/// (every handler loop may wait for it while it holds a job); or one of the job's partition's own limiter with a
/// <see cref="JobWorkerOptions.ConcurrencyKey"/> (never waited for: a job whose partition is busy is deferred).
/// </summary>
internal sealed class WorkerPermits : IDisposable
{
    private readonly AdaptiveConcurrencyLimiter? _limiter;
    private readonly PartitionedRateLimiter<string>? _partitions;
    private readonly Func<Job, string?>? _key;
    private readonly string _queue;
    private readonly ILogger _logger;

    public WorkerPermits(JobWorkerOptions options, string queue, TimeProvider time, ILogger logger)
    {
        _queue = queue;
        _logger = logger;
        if (options.AdaptiveConcurrency is not { } adaptive)
        {
            return;
        }

        AdaptiveConcurrencyLimiterOptions limiterOptions = adaptive.ValidatedCopy();
        limiterOptions.Name ??= queue;
        limiterOptions.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
        if (options.ConcurrencyKey is null)
        {
            limiterOptions.QueueLimit = limiterOptions.MaxLimit;
            _limiter = new AdaptiveConcurrencyLimiter(limiterOptions, time);
        }
        else
        {
            limiterOptions.QueueLimit = 0;
            _key = options.ConcurrencyKey;
            _partitions = PartitionedRateLimiter.Create<string, string>(
                key => RateLimitPartition.Get(key, _ => new AdaptiveConcurrencyLimiter(limiterOptions, time)),
                StringComparer.Ordinal);
        }
    }

    /// <summary>Takes a permit for <paramref name="job"/>.</summary>
    /// <returns>The permit (null without adaptive concurrency), or, when the job must not run now, why.</returns>
    public async ValueTask<PermitResult> AcquireAsync(Job job, CancellationToken stopOrAbort)
    {
        if (_limiter is not null)
        {
            // Fast path: a free permit (it fails while others wait, so it never jumps the queue). A long wait is safe:
            // the lease keeper keeps the job's lease alive until the job starts.
            RateLimitLease permit = _limiter.AttemptAcquire();
            if (!permit.IsAcquired)
            {
                permit.Dispose();
                try
                {
                    permit = await _limiter.AcquireAsync(1, stopOrAbort).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return PermitResult.Stopped;
                }
            }

            if (!permit.IsAcquired || stopOrAbort.IsCancellationRequested)
            {
                permit.Dispose();
                return PermitResult.Stopped;
            }

            return new PermitResult(PermitStatus.Granted, (AdaptiveConcurrencyLease)permit);
        }

        if (_partitions is null)
        {
            return PermitResult.NotNeeded;
        }

        string key;
        try
        {
            key = _key!(job) ?? string.Empty;
        }
        catch (Exception ex)
        {
            // A key that cannot be computed (e.g. an unreadable payload) is no reason to hold the job back: it runs in
            // the shared partition, and the handler reports what is wrong with it.
            WorkerLog.ConcurrencyKeyFailed(_logger, ex, _queue, job.Id);
            key = string.Empty;
        }

        RateLimitLease lease;
        try
        {
            lease = _partitions.AttemptAcquire(key);
        }
        catch (ObjectDisposedException)
        {
            // The partitioned limiter dropped this idle partition just now: the next call creates a new one.
            lease = _partitions.AttemptAcquire(key);
        }

        if (lease.IsAcquired)
        {
            return new PermitResult(PermitStatus.Granted, lease as AdaptiveConcurrencyLease);
        }

        TimeSpan delay = lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter)
            ? TimeSpan.FromTicks(Math.Clamp(retryAfter.Ticks, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks))
            : TimeSpan.FromSeconds(1);
        lease.Dispose();
        return new PermitResult(PermitStatus.PartitionBusy, null, key, delay);
    }

    public void Dispose()
    {
        _limiter?.Dispose();
        _partitions?.Dispose();
    }
}

/// <summary>What taking a permit gave.</summary>
internal enum PermitStatus
{
    /// <summary>No permit is needed: run.</summary>
    NotNeeded,

    /// <summary>A permit was taken: run, and report the outcome to it.</summary>
    Granted,

    /// <summary>The worker stops or aborted while waiting: give the job back.</summary>
    Stopped,

    /// <summary>The job's partition is at its limit: defer the job by <see cref="PermitResult.Delay"/>.</summary>
    PartitionBusy,
}

/// <summary>A permit, or why the job must not run now.</summary>
internal readonly record struct PermitResult(PermitStatus Status, AdaptiveConcurrencyLease? Permit = null, string? Partition = null, TimeSpan Delay = default)
{
    public static PermitResult NotNeeded { get; } = new(PermitStatus.NotNeeded);

    public static PermitResult Stopped { get; } = new(PermitStatus.Stopped);

    public bool Run => Status is PermitStatus.NotNeeded or PermitStatus.Granted;
}
