using System.Globalization;
using ResilientQueue.Backends;
using ResilientQueue.DeadLetter;
using ResilientQueue.Redis.Connections;
using ResilientQueue.Redis.Lists;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Scripting;

/// <summary>
/// The dead-letter store's page, purge and count steps (<c>deadlist-3.lua</c>, <c>purge-3.lua</c>), which both Redis
/// backends run on the same three keys: a list queue's, or a stream group's own (a dead-lettered job holds the
/// group's copy of its envelope).
/// </summary>
/// <param name="redis">The queue's runner.</param>
/// <param name="queue">The queue's name.</param>
/// <param name="meta">The meta hash (the queue's, or the group's).</param>
/// <param name="dead">The dead-letter sorted set.</param>
/// <param name="attempts">The attempts hash.</param>
internal sealed class RedisDeadLetterStore(RedisScriptRunner redis, string queue, RedisKey meta, RedisKey dead, RedisKey attempts)
{
    /// <summary>One page of dead letters, newest first, from the range's cursor.</summary>
    public async ValueTask<DeadLetterSlice> ListAsync(DeadLetterRange range)
    {
        long? upper = range.After?.DeadAt is { } after ? Ms(after) : null;
        if (range.DeadAtOrBefore is { } bound)
        {
            upper = upper is null ? Ms(bound) : Math.Min(upper.Value, Ms(bound));
        }

        RedisResult[] reply = (RedisResult[])(await redis.EvalAsync(
            LuaScripts.DeadList,
            [meta, dead, attempts],
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
            entries[i] = RedisJobReader.ReadDeadLetter(queue, (string)e[0]!, (byte[])e[1]!, (long)e[2], (RedisResult[])e[3]!);
        }

        string nextTime = (string)reply[0]!;
        DeadLetterCursor? next = nextTime.Length == 0
            ? null
            : new DeadLetterCursor(DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(nextTime, NumberStyles.None, CultureInfo.InvariantCulture)), (string)reply[1]!);
        return new DeadLetterSlice(entries, next);
    }

    /// <summary>Deletes one dead letter; <see langword="true"/> when it was one.</summary>
    public async ValueTask<bool> PurgeAsync(string jobId) =>
        (long)await redis.EvalAsync(LuaScripts.Purge, [meta, dead, attempts], ["id", jobId]).ConfigureAwait(false) == 1;

    /// <summary>Deletes up to <paramref name="maxCount"/> dead letters that died at or before the bound; how many it deleted.</summary>
    public async ValueTask<int> PurgeAsync(DateTimeOffset deadAtOrBefore, int maxCount)
    {
        string upTo = deadAtOrBefore == DateTimeOffset.MaxValue ? "+inf" : Ms(deadAtOrBefore).ToString(CultureInfo.InvariantCulture);
        return (int)(long)await redis.EvalAsync(LuaScripts.Purge, [meta, dead, attempts], ["upto", upTo, maxCount]).ConfigureAwait(false);
    }

    /// <summary>How many dead letters there are.</summary>
    public async ValueTask<long> CountAsync() => await redis.RunAsync(db => db.SortedSetLengthAsync(dead)).ConfigureAwait(false);

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();
}
