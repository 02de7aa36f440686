using Microsoft.Extensions.Logging;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue.Processing;

/// <summary>The hosted worker's log events (2001-2099); docs/telemetry.md lists them, and a docs test checks that list.</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(EventId = 2019, Level = LogLevel.Warning, Message = "Worker of queue {Queue} stopped renewing the lease of job {JobId}: its handler ran past its timeout and {Seconds} s in all; the reaper will take the job back")]
    public static partial void RenewalStopped(ILogger logger, string queue, string jobId, double seconds);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not dispose the DI scope of job {JobId}")]
    public static partial void ScopeDisposeFailed(ILogger logger, Exception exception, string queue, string jobId);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Worker of queue {Queue} started: concurrency {Concurrency}, prefetch {Prefetch}")]
    public static partial void WorkerStarted(ILogger logger, string queue, int concurrency, int prefetch);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Worker of queue {Queue} stopped")]
    public static partial void WorkerStopped(ILogger logger, string queue);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Job {JobId} of queue {Queue} failed on attempt {Attempt} of {MaxAttempts}: category {ErrorCategory}, error type {ErrorType}; decision {Decision}")]
    public static partial void JobFailed(ILogger logger, Exception exception, string queue, string jobId, int attempt, int maxAttempts, ErrorCategory errorCategory, string errorType, RecoveryAction decision);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Error, Message = "Job {JobId} of queue {Queue} was dead-lettered after attempt {Attempt} ({ErrorCategory}): {Reason}")]
    public static partial void DeadLettered(ILogger logger, string queue, string jobId, int attempt, ErrorCategory errorCategory, string reason);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Job {JobId} of queue {Queue} lost its lease during attempt {Attempt}; its outcome was not written")]
    public static partial void LeaseLost(ILogger logger, string queue, string jobId, int attempt);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Job {JobId} of queue {Queue} timed out after {TimeoutSeconds} s on attempt {Attempt}; the handler's fallback completed it")]
    public static partial void FallbackRan(ILogger logger, string queue, string jobId, int attempt, double timeoutSeconds);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Worker of queue {Queue} pauses fetching for {Seconds} s (rate limited)")]
    public static partial void Paused(ILogger logger, string queue, double seconds);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Critical, Message = "Worker of queue {Queue} stopped fetching: {Reason}. The job was kept; restart the worker once the cause is fixed")]
    public static partial void Aborted(ILogger logger, string queue, string reason);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Information, Message = "Job {JobId} of queue {Queue} was skipped: {Reason}")]
    public static partial void Skipped(ILogger logger, string queue, string jobId, string reason);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not fetch (failure {Failures} in a row; logged on the first and every 30th); trying again in {DelayMs} ms")]
    public static partial void FetchFailed(ILogger logger, Exception exception, string queue, int failures, double delayMs);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not write the outcomes (acknowledgements or failures) of {Count} jobs; their leases will run out and they will run again")]
    public static partial void AckFailed(ILogger logger, Exception exception, string queue, int count);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Warning, Message = "Worker of queue {Queue}: {Count} acknowledgements found the lease lost; those jobs may run again elsewhere")]
    public static partial void AckLeaseLost(ILogger logger, string queue, int count);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not release job {JobId}; its lease will run out and the reaper will take it back")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception, string queue, string jobId);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Information, Message = "Worker of queue {Queue} released {Count} fetched but unstarted jobs on stop")]
    public static partial void ReleasedUnstarted(ILogger logger, string queue, int count);

    [LoggerMessage(EventId = 2016, Level = LogLevel.Warning, Message = "Worker of queue {Queue} reached the shutdown deadline: cancelled the running jobs and released {Count} leases")]
    public static partial void ReleasedAtDeadline(ILogger logger, string queue, int count);

    [LoggerMessage(EventId = 2017, Level = LogLevel.Error, Message = "Worker of queue {Queue}: the error classifier or recovery strategy threw for job {JobId}; retrying with backoff")]
    public static partial void StrategyFailed(ILogger logger, Exception exception, string queue, string jobId);

    [LoggerMessage(EventId = 2018, Level = LogLevel.Error, Message = "Worker of queue {Queue} could not write the outcome of job {JobId}; its lease will run out and it will run again")]
    public static partial void OutcomeNotWritten(ILogger logger, Exception exception, string queue, string jobId);

    [LoggerMessage(EventId = 2024, Level = LogLevel.Warning, Message = "Worker of queue {Queue} could not renew the leases of {Count} jobs it holds (fetched or running); trying again at the next interval")]
    public static partial void RenewFailed(ILogger logger, Exception exception, string queue, int count);

    [LoggerMessage(EventId = 2025, Level = LogLevel.Critical, Message = "Worker of queue {Queue} stopped: its handler {Handler} cannot be created ({Error}). The job was given back; fix the service registrations and restart")]
    public static partial void HandlerUnavailable(ILogger logger, Exception exception, string queue, string handler, string error);

    [LoggerMessage(EventId = 2026, Level = LogLevel.Debug, Message = "Worker of queue {Queue} could not mark {Count} running jobs started; should the worker die now, the reaper gives their attempts back")]
    public static partial void MarkStartedFailed(ILogger logger, Exception exception, string queue, int count);

    [LoggerMessage(EventId = 2023, Level = LogLevel.Information, Message = "Worker of queue {Queue} can fetch again after {Failures} failed attempts over {Seconds} s")]
    public static partial void FetchRecovered(ILogger logger, string queue, int failures, double seconds);

    [LoggerMessage(EventId = 2021, Level = LogLevel.Debug, Message = "Job {JobId} of queue {Queue} deferred for {DelayMs} ms: its concurrency partition {Partition} is at its limit (no attempt spent)")]
    public static partial void Deferred(ILogger logger, string queue, string jobId, string partition, double delayMs);

    [LoggerMessage(EventId = 2022, Level = LogLevel.Warning, Message = "The concurrency key of job {JobId} of queue {Queue} could not be computed; it runs in the shared partition")]
    public static partial void ConcurrencyKeyFailed(ILogger logger, Exception exception, string queue, string jobId);
}
