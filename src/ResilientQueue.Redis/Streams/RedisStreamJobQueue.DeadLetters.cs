using System.Globalization;
using ResilientQueue.Backends;
using ResilientQueue.Backpressure;
using ResilientQueue.DeadLetter;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Transitions;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

/// <summary>
/// The dead-letter store of one group. A dead-lettered job holds the group's own copy of its envelope (its stream entry
/// is acknowledged), so the list backend's page and purge scripts run unchanged on the group's keys.
/// </summary>
public sealed partial class RedisStreamJobQueue
{
    /// <inheritdoc />
    protected override async ValueTask<DeadLetterSlice> ListDeadLettersCoreAsync(DeadLetterRange range, CancellationToken cancellationToken)
    {
        long? upper = range.After?.DeadAt is { } after ? Ms(after) : null;
        if (range.DeadAtOrBefore is { } bound)
        {
            upper = upper is null ? Ms(bound) : Math.Min(upper.Value, Ms(bound));
        }

        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            LuaScripts.DeadList,
            [_keys.GroupMeta, _keys.Dead, _keys.Attempts],
            [
                upper?.ToString(CultureInfo.InvariantCulture) ?? "+inf",
                range.After is { } cursor ? Ms(cursor.DeadAt).ToString(CultureInfo.InvariantCulture) : string.Empty,
                range.After?.JobId ?? string.Empty,
                range.Limit,
                range.Category is { } category ? ((int)category).ToString(CultureInfo.InvariantCulture) : string.Empty,
                range.ScanBudget,
            ]).ConfigureAwait(false))!;

        var entries = new DeadLetterEntry[reply.Length - 2];
        for (int i = 0; i < entries.Length; i++)
        {
            RedisResult[] e = (RedisResult[])reply[i + 2]!;
            entries[i] = RedisJobReader.ReadDeadLetter(Name, (string)e[0]!, (byte[])e[1]!, (long)e[2], (RedisResult[])e[3]!);
        }

        string nextTime = (string)reply[0]!;
        DeadLetterCursor? next = nextTime.Length == 0
            ? null
            : new DeadLetterCursor(DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(nextTime, NumberStyles.None, CultureInfo.InvariantCulture)), (string)reply[1]!);
        return new DeadLetterSlice(entries, next);
    }

    /// <inheritdoc />
    protected override async ValueTask<DeadLetterEntry?> GetDeadLetterCoreAsync(string jobId, CancellationToken cancellationToken)
    {
        (Job Job, RedisResult[] Extra)? read = await ReadJobAsync(jobId).ConfigureAwait(false);
        return read is { Job.State: JobState.Dead } dead ? RedisJobReader.ToDeadLetter(dead.Job, dead.Extra) : null;
    }

    /// <inheritdoc />
    /// <remarks>Requeued to the group alone (at the tail of the jobs that came back to it); the capacity checked is the group's depth.</remarks>
    protected override async ValueTask<RequeueResult> RequeueDeadLetterCoreAsync(string jobId, JobTransition transition, CancellationToken cancellationToken)
    {
        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            StreamScripts.Requeue,
            [_keys.GroupMeta, _keys.Meta, _keys.Stream, _keys.Entries, _keys.Delayed, _keys.Ready, _keys.GroupDelayed, _keys.Dead, _keys.Attempts],
            [jobId, Options.Capacity, _channel, Group, (int)transition.Destination, transition.AtHead ? 1 : 0, Ms(transition.AvailableAt), (int)transition.Attempts]).ConfigureAwait(false))!;
        return (long)reply[0] switch
        {
            0 => RequeueResult.Requeued,
            1 => RequeueResult.NotDeadLettered,
            2 => RequeueResult.NotFound,
            _ => throw new QueueFullException(Name, Options.Capacity, (long)reply[1], 1),
        };
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> PurgeDeadLetterCoreAsync(string jobId, CancellationToken cancellationToken) =>
        (long)await EvalAsync(LuaScripts.Purge, [_keys.GroupMeta, _keys.Dead, _keys.Attempts], ["id", jobId]).ConfigureAwait(false) == 1;

    /// <inheritdoc />
    protected override async ValueTask<int> PurgeDeadLettersCoreAsync(DateTimeOffset deadAtOrBefore, int maxCount, CancellationToken cancellationToken)
    {
        string upTo = deadAtOrBefore == DateTimeOffset.MaxValue ? "+inf" : Ms(deadAtOrBefore).ToString(CultureInfo.InvariantCulture);
        return (int)(long)await EvalAsync(LuaScripts.Purge, [_keys.GroupMeta, _keys.Dead, _keys.Attempts], ["upto", upTo, maxCount]).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async ValueTask<long> CountDeadLettersCoreAsync(CancellationToken cancellationToken) =>
        await _redis.RunAsync(db => db.SortedSetLengthAsync(_keys.Dead)).ConfigureAwait(false);
}
