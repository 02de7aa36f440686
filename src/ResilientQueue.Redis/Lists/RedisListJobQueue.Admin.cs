using System.Globalization;
using ResilientQueue.Backends;
using ResilientQueue.Leases;
using ResilientQueue.Redis.Scripting;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

public sealed partial class RedisListJobQueue
{
    /// <inheritdoc />
    protected override async ValueTask<Job?> GetJobCoreAsync(string jobId, CancellationToken cancellationToken) =>
        (await ReadJobAsync(jobId).ConfigureAwait(false))?.Job;

    /// <inheritdoc />
    protected override async ValueTask<QueueStatus> GetStatusCoreAsync(CancellationToken cancellationToken)
    {
        long[] r = (long[])(await EvalAsync(
            LuaScripts.Status,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Active, _keys.Dead, _keys.Completed],
            NoValues).ConfigureAwait(false))!;
        return new QueueStatus(r[0], r[1], r[2], r[3], r[4], r[5] == 1, r[6]);
    }

    /// <inheritdoc />
    protected override async ValueTask SetPausedCoreAsync(bool paused, CancellationToken cancellationToken)
    {
        if (paused)
        {
            await RunAsync(static (db, keys) => db.HashSetAsync(keys.Meta, "paused", 1)).ConfigureAwait(false);
            return;
        }

        await RunAsync(static (db, keys) => db.HashDeleteAsync(keys.Meta, "paused")).ConfigureAwait(false);
        await RunAsync(static (db, keys) => db.PublishAsync(keys.NotifyChannel, 1)).ConfigureAwait(false); // wakes other processes' consumers
    }

    /// <inheritdoc />
    protected override async ValueTask<QueuePeek> PeekCoreAsync(CancellationToken cancellationToken)
    {
        long[] peek = (long[])(await EvalAsync(LuaScripts.Peek, [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed], NoValues).ConfigureAwait(false))!;
        return new QueuePeek(peek[0] == 1, peek[1] > 0, peek[2] >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(peek[2]) : null);
    }

    /// <inheritdoc />
    /// <remarks>
    /// One read-only script (<c>ages-5.lua</c>): the next job of each priority for the oldest ready one, and the fetch
    /// times of the first <paramref name="maxActive"/> leases by deadline, read from their tokens
    /// (<c>&lt;fence&gt;:&lt;granted at ms&gt;</c>).
    /// </remarks>
    protected override async ValueTask<QueueAges?> GetAgesCoreAsync(int maxActive, CancellationToken cancellationToken)
    {
        long[] r = (long[])(await EvalAsync(LuaScripts.Ages, [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Active, _keys.Lease], [maxActive]).ConfigureAwait(false))!;
        var active = new DateTimeOffset[r.Length - 2];
        for (int i = 0; i < active.Length; i++)
        {
            active[i] = DateTimeOffset.FromUnixTimeMilliseconds(r[i + 2]);
        }

        return new QueueAges(r[0] >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(r[0]) : null, active, r[1] > active.Length);
    }

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<ExpiredLease>> FindExpiredCoreAsync(int maxCount, DateTimeOffset expiredBy, CancellationToken cancellationToken)
    {
        RedisResult[] reply = (RedisResult[])(await EvalAsync(LuaScripts.Expired, [_keys.Meta, _keys.Active, _keys.Lease, _keys.Attempts], [Ms(expiredBy), maxCount]).ConfigureAwait(false))!;
        const int Fields = 7;
        var expired = new ExpiredLease[reply.Length / Fields];
        for (int i = 0; i < expired.Length; i++)
        {
            int b = i * Fields;
            expired[i] = new ExpiredLease(new JobLease(
                (string)reply[b]!,
                (string)reply[b + 1]!,
                DateTimeOffset.FromUnixTimeMilliseconds(long.Parse((string)reply[b + 2]!, NumberStyles.None, CultureInfo.InvariantCulture)),
                (int)(long)reply[b + 3],
                (int)(long)reply[b + 4]),
                HandlerStarted: (long)reply[b + 5] == 1,
                UnstartedRefunds: (int)(long)reply[b + 6]);
        }

        return expired;
    }

    /// <inheritdoc />
    /// <remarks>
    /// A string <c>{rq:q}:turn:&lt;name&gt;</c> holding <c>holder|until-ms</c>, written by <c>turn-1.lua</c> when absent or past
    /// (the caller's clock decides; the server TTL only collects it).
    /// </remarks>
    protected override async ValueTask<bool> TryClaimTurnCoreAsync(string name, string holder, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        RedisResult reply = await EvalAsync(LuaScripts.Turn, [_keys.Meta], [name, holder, Ms(now), Ms(until) - Ms(now)]).ConfigureAwait(false);
        return (long)reply == 1;
    }

    /// <inheritdoc />
    protected override async ValueTask<long> ClearCoreAsync(int maxJobs, CancellationToken cancellationToken)
    {
        long removed = (long)await EvalAsync(
            LuaScripts.Clear,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Active, _keys.Dead, _keys.Completed, _keys.Lease, _keys.Attempts],
            [maxJobs]).ConfigureAwait(false);
        if (removed == 0)
        {
            await DeleteStringKeysAsync(cancellationToken).ConfigureAwait(false);
            await PublishLookAgainAsync().ConfigureAwait(false);
        }

        return removed;
    }

    /// <summary>The queue's idempotency keys, turns and results: strings with a TTL that no structure lists.</summary>
    private async Task DeleteStringKeysAsync(CancellationToken cancellationToken) =>
        await RedisKeySweeper.DeleteAsync(
            await _redis.Connection.GetAsync().ConfigureAwait(false),
            _redis.DatabaseIndex,
            _keys.Meta,
            [_keys.Idempotency("*").ToString(), _keys.Turn("*").ToString(), _keys.Result("*").ToString()],
            cancellationToken).ConfigureAwait(false);

    private async Task<(Job Job, RedisResult[] Extra)?> ReadJobAsync(string jobId)
    {
        RedisResult reply = await EvalAsync(
            LuaScripts.GetJob,
            [_keys.Meta, _keys.Delayed, _keys.Active, _keys.Dead, _keys.Completed, _keys.Attempts],
            [jobId]).ConfigureAwait(false);
        RedisResult[] parts = (RedisResult[])reply!;
        if (parts.Length == 0)
        {
            return null;
        }

        RedisResult[] extra = (RedisResult[])parts[3]!;
        return (RedisJobReader.Read(Name, jobId, (JobState)(int)(long)parts[0], (byte[])parts[1]!, (long)parts[2], extra, (long)parts[4]), extra);
    }
}
