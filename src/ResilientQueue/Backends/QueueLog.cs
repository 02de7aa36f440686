using Microsoft.Extensions.Logging;

namespace ResilientQueue.Backends;

/// <summary>The log events <see cref="JobQueueBase"/> writes for every backend.</summary>
internal static partial class QueueLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Dead-letter store of queue {Queue} trimmed job {JobId} (bound: {TrimReason}); it was dead-lettered at {DeadAt}: {DeadReason}")]
    internal static partial void DeadLetterTrimmed(ILogger logger, string queue, string jobId, string trimReason, DateTimeOffset? deadAt, string? deadReason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Waiting for the result of job {JobId} of queue {Queue} timed out after {Seconds} s; the job was {State} at the last look")]
    internal static partial void ResultWaitTimedOut(ILogger logger, string queue, string jobId, double seconds, JobState? state);
}
