using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Reaping;

/// <summary>
/// Takes back jobs whose lease ran out (their worker crashed, hung or lost its connection): every
/// <see cref="StaleJobReaperOptions.Interval"/>, for each queue, the process that claims the queue's "reaper" turn calls
/// <see cref="IJobQueueAdmin.ReapExpiredAsync"/> until nothing is left or the per-interval cap is reached. Each job is
/// requeued (attempts left) or dead-lettered with <see cref="Errors.ErrorCategory.LeaseExpired"/>, atomically, so
/// reapers racing in several processes still handle each job once. Every action is logged and counted.
/// </summary>
internal sealed partial class StaleJobReaper(IReadOnlyList<IJobQueue> queues, StaleJobReaperOptions options, TimeProvider time, ILogger logger) : BackgroundService
{
    internal const string TurnName = "reaper";

    private static readonly Counter<long> Reaped = ResilientQueueTelemetry.Meter.CreateCounter<long>(
        "resilientqueue.jobs.reaped", "{job}", "Jobs taken back from expired leases, by action (requeued or dead_lettered).");

    private readonly string _holder = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Interval, time);
        do
        {
            foreach (IJobQueue queue in queues)
            {
                try
                {
                    await ReapQueueAsync(queue, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    ResilientQueueTelemetry.RecordReaperRun(queue.Name, failed: true);
                    LogReapFailed(logger, ex, queue.Name);
                }
            }
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    /// <summary>Reaps one queue if this process claims its turn; returns how many jobs were taken back.</summary>
    internal async Task<int> ReapQueueAsync(IJobQueue queue, CancellationToken cancellationToken)
    {
        // The turn is a little shorter than the interval, so this process's own next tick always finds it over.
        if (!await queue.TryClaimTurnAsync(TurnName, _holder, options.Interval * 0.9, cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        int total = 0;
        var queueTag = ResilientQueueTelemetry.Queue(queue.Name);
        while (total < options.MaxPerInterval)
        {
            int step = Math.Min(JobQueueOptions.MaxBatchSize, options.MaxPerInterval - total);
            IReadOnlyList<ReapedJob> reaped = await queue.ReapExpiredAsync(step, options.OlderThan, dryRun: false, cancellationToken).ConfigureAwait(false);
            DateTimeOffset now = time.GetUtcNow();
            foreach (ReapedJob job in reaped)
            {
                string action = job.Action == ReapAction.Requeued ? "requeued" : "dead_lettered";
                Reaped.Add(1, queueTag, new KeyValuePair<string, object?>("resilientqueue.reap.action", action));
                double staleSeconds = Math.Max(0, (now - job.LeaseExpiredAt).TotalSeconds);
                if (job.AttemptRefunded)
                {
                    LogRequeuedUnstarted(logger, queue.Name, job.JobId, staleSeconds, job.Attempts, job.MaxAttempts);
                }
                else if (job.Action == ReapAction.Requeued)
                {
                    LogRequeued(logger, queue.Name, job.JobId, staleSeconds, job.Attempts, job.MaxAttempts);
                }
                else
                {
                    LogDeadLettered(logger, queue.Name, job.JobId, staleSeconds, job.Attempts, job.MaxAttempts);
                }
            }

            total += reaped.Count;
            if (reaped.Count < step)
            {
                break;
            }
        }

        ResilientQueueTelemetry.RecordReaperRun(queue.Name, failed: false);
        return total;
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Reaper requeued job {JobId} of queue {Queue}: its lease ran out {StaleSeconds} s ago, attempt {Attempts} of {MaxAttempts}")]
    private static partial void LogRequeued(ILogger logger, string queue, string jobId, double staleSeconds, int attempts, int maxAttempts);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Reaper dead-lettered job {JobId} of queue {Queue}: its lease ran out {StaleSeconds} s ago on its last attempt ({Attempts} of {MaxAttempts})")]
    private static partial void LogDeadLettered(ILogger logger, string queue, string jobId, double staleSeconds, int attempts, int maxAttempts);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Reaper requeued job {JobId} of queue {Queue} with its attempt given back: its lease ran out {StaleSeconds} s ago before its handler started (attempt {Attempts} of {MaxAttempts} not spent)")]
    private static partial void LogRequeuedUnstarted(ILogger logger, string queue, string jobId, double staleSeconds, int attempts, int maxAttempts);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Reaper could not reap queue {Queue}; trying again next interval")]
    private static partial void LogReapFailed(ILogger logger, Exception exception, string queue);
}
