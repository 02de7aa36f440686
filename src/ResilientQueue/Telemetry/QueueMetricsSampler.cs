using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ResilientQueue.Telemetry;

/// <summary>
/// Reads each observed queue every <see cref="QueueMetricsOptions.Interval"/> and keeps the last read for the observable
/// instruments, so a scrape never waits for the backend: counts by state (<c>resilientqueue.queue.depth</c>), the
/// backpressure level, expired leases not yet reaped (a dry-run reap of at most 1,000), and the ages (the oldest ready
/// and active job, and each sampled active job's processing age into <c>resilientqueue.job.processing_age</c>). A queue
/// that cannot be read keeps its last sample and is logged (first failure and every 30th in a row).
/// </summary>
internal sealed partial class QueueMetricsSampler(IReadOnlyList<IJobQueue> queues, QueueMetricsOptions options, TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>The most stale leases one sample counts (one dry-run reap step).</summary>
    internal const int MaxStaleCounted = JobQueueOptions.MaxBatchSize;

    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Interval, time);
        try
        {
            do
            {
                await SampleAllAsync(stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
        finally
        {
            foreach (IJobQueue queue in queues)
            {
                ResilientQueueTelemetry.LastSample.TryRemove(queue.Name, out _);
                ResilientQueueTelemetry.LastStatus.TryRemove(queue.Name, out _);
            }
        }
    }

    /// <summary>Samples every queue once; a failing queue does not stop the others.</summary>
    internal async Task SampleAllAsync(CancellationToken cancellationToken)
    {
        foreach (IJobQueue queue in queues)
        {
            try
            {
                await SampleAsync(queue, cancellationToken).ConfigureAwait(false);
                if (_failures.Remove(queue.Name, out int failed) && failed > 0)
                {
                    LogSampleRecovered(logger, queue.Name, failed);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                int failures = _failures[queue.Name] = _failures.GetValueOrDefault(queue.Name) + 1;
                if (failures == 1 || failures % 30 == 0)
                {
                    LogSampleFailed(logger, ex, queue.Name, failures);
                }
            }
        }
    }

    private async Task SampleAsync(IJobQueue queue, CancellationToken cancellationToken)
    {
        QueueStatus status = await queue.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        await queue.GetBackpressureAsync(cancellationToken).ConfigureAwait(false); // records the level gauge's value
        IReadOnlyList<ReapedJob> stale = await queue.ReapExpiredAsync(MaxStaleCounted, dryRun: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        QueueAges? ages = await queue.GetAgesAsync(options.MaxActiveSampled, cancellationToken).ConfigureAwait(false);
        DateTimeOffset now = time.GetUtcNow();

        double? oldestReady = null, oldestActive = null;
        if (ages is not null)
        {
            oldestReady = ages.OldestReadySince is { } ready ? Seconds(now - ready) : 0;
            oldestActive = ages.OldestActiveSince is { } active ? Seconds(now - active) : 0;
            var tag = ResilientQueueTelemetry.Queue(queue.Name);
            foreach (DateTimeOffset since in ages.ActiveSince)
            {
                ResilientQueueTelemetry.ProcessingAge.Record(Seconds(now - since), tag);
            }
        }

        ResilientQueueTelemetry.LastStatus[queue.Name] = status;
        ResilientQueueTelemetry.LastSample[queue.Name] = new QueueSample(stale.Count, oldestReady, oldestActive);
    }

    private static double Seconds(TimeSpan age) => Math.Max(0, age.TotalSeconds);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Warning, Message = "Could not sample queue {Queue} for metrics (failure {Failures} in a row; logged on the first and every 30th); its gauges keep the last sample")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception, string queue, int failures);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Information, Message = "Sampling queue {Queue} for metrics works again after {Failures} failures")]
    private static partial void LogSampleRecovered(ILogger logger, string queue, int failures);
}
