// Used by every backend (the Redis package through InternalsVisibleTo): the same events, ids and text.
using Microsoft.Extensions.Logging;

namespace ResilientQueue;

/// <summary>The log events every backend writes.</summary>
internal static partial class QueueLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "Dead-letter store of queue {Queue} trimmed job {JobId} (bound: {TrimReason}); it was dead-lettered at {DeadAt}: {DeadReason}")]
    internal static partial void DeadLetterTrimmed(ILogger logger, string queue, string jobId, string trimReason, DateTimeOffset? deadAt, string? deadReason);
}
