using Microsoft.Extensions.Logging;

namespace ResilientQueue.Redis.Streams;

/// <summary>The stream backend's log events (4101–4106, listed in docs/telemetry.md).</summary>
internal static partial class StreamLog
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Stream queue {Queue}: consumer group {Group} created, starting at {Start}")]
    public static partial void GroupCreated(ILogger logger, string queue, string group, string start);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Stream queue {Queue}: consumer group {Group} was gone (NOGROUP: deleted, or its stream deleted, flushed or lost in a restart) and was created again from the first retained entry; jobs it had not acknowledged may run again")]
    public static partial void GroupRecreated(ILogger logger, string queue, string group);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Error, Message = "Stream queue {Queue}, group {Group}: {Count} jobs were lost, their stream entries deleted outside the library (XDEL, XTRIM, DEL) before the group finished them; first: {JobId}")]
    public static partial void JobsLost(ILogger logger, string queue, string group, int count, string jobId);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Stream queue {Queue}: housekeeping (deleting acknowledged entries, removing idle consumers) failed; it runs again later")]
    public static partial void HousekeepingFailed(ILogger logger, string queue, Exception exception);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Debug, Message = "Stream queue {Queue}: housekeeping deleted {Entries} entries every group had acknowledged and removed {Consumers} consumers with nothing pending")]
    public static partial void HousekeepingDone(ILogger logger, string queue, long entries, long consumers);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Warning, Message = "Stream queue {Queue}: consumer group {Group} is missing on the server (deleted by hand?); no stream entry is deleted until it is back (its next fetch creates it again) or it is removed from {GroupsKey}")]
    public static partial void GroupMissing(ILogger logger, string queue, string group, string groupsKey);
}
