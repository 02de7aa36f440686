using System.Globalization;
using ResilientQueue.Backends;
using ResilientQueue.Leases;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Scripting;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

public sealed partial class RedisStreamJobQueue
{
    /// <inheritdoc />
    /// <remarks>The job as this queue object's group sees it: each group has its own state, attempts and errors of a job.</remarks>
    protected override async ValueTask<Job?> GetJobCoreAsync(string jobId, CancellationToken cancellationToken) =>
        (await ReadJobAsync(jobId).ConfigureAwait(false))?.Job;

    /// <inheritdoc />
    /// <remarks>The counts of this queue object's group; delayed includes the queue's delayed enqueues, which reach every group.</remarks>
    protected override async ValueTask<QueueStatus> GetStatusCoreAsync(CancellationToken cancellationToken)
    {
        long[] r = (long[])(await EvalAsync(
            StreamScripts.Status,
            [_keys.GroupMeta, _keys.Meta, _keys.Stream, _keys.Delayed, _keys.Ready, _keys.GroupDelayed, _keys.Active, _keys.Dead, _keys.Completed],
            [_start]).ConfigureAwait(false))!;
        return new QueueStatus(r[0], r[1], r[2], r[3], r[4], r[5] == 1, r[6]);
    }

    /// <inheritdoc />
    /// <remarks>Pauses this queue object's group only; the other groups go on.</remarks>
    protected override async ValueTask SetPausedCoreAsync(bool paused, CancellationToken cancellationToken)
    {
        if (paused)
        {
            await _redis.RunAsync(db => db.HashSetAsync(_keys.GroupMeta, "paused", 1)).ConfigureAwait(false);
            return;
        }

        await _redis.RunAsync(db => db.HashDeleteAsync(_keys.GroupMeta, "paused")).ConfigureAwait(false);
        await _redis.RunAsync(db => db.PublishAsync(_keys.NotifyChannel, 1)).ConfigureAwait(false); // wakes other processes' consumers
    }

    /// <inheritdoc />
    protected override async ValueTask<QueuePeek> PeekCoreAsync(CancellationToken cancellationToken)
    {
        long[] peek = (long[])(await EvalAsync(StreamScripts.Peek, [_keys.GroupMeta, _keys.Meta, _keys.Stream, _keys.Delayed, _keys.Ready, _keys.GroupDelayed], [_start]).ConfigureAwait(false))!;
        return new QueuePeek(peek[0] == 1, peek[1] > 0, peek[2] >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(peek[2]) : null);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The ages as this queue object's group sees them, read by <c>xages-6.lua</c> (it writes nothing): the oldest of the
    /// head of the jobs that came back to the group and the first entry it was not given yet, and the fetch times its
    /// lease tokens carry (<c>&lt;fence&gt;:&lt;granted at ms&gt;</c>).
    /// </remarks>
    protected override async ValueTask<QueueAges?> GetAgesCoreAsync(int maxActive, CancellationToken cancellationToken)
    {
        long[] r = (long[])(await EvalAsync(
            StreamScripts.Ages,
            [_keys.GroupMeta, _keys.Stream, _keys.Entries, _keys.Ready, _keys.Active, _keys.Lease],
            [maxActive, Group, _start]).ConfigureAwait(false))!;
        var active = new DateTimeOffset[r.Length - 2];
        for (int i = 0; i < active.Length; i++)
        {
            active[i] = DateTimeOffset.FromUnixTimeMilliseconds(r[i + 2]);
        }

        return new QueueAges(r[0] >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(r[0]) : null, active, r[1] > active.Length);
    }

    /// <inheritdoc />
    /// <remarks>The group's own lease bookkeeping decides (deadlines in the caller's clock), never the server's idle times; also runs the stream's housekeeping when it is due.</remarks>
    protected override async ValueTask<IReadOnlyList<ExpiredLease>> FindExpiredCoreAsync(int maxCount, DateTimeOffset expiredBy, CancellationToken cancellationToken)
    {
        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            StreamScripts.Expired,
            [_keys.GroupMeta, _keys.Stream, _keys.Entries, _keys.Active, _keys.Lease, _keys.Attempts],
            [Ms(expiredBy), maxCount]).ConfigureAwait(false))!;
        ReportLost(ScriptReplies.Strings(reply[1]));
        MaybeHousekeep();
        RedisResult[] found = (RedisResult[])reply[0]!;
        const int Fields = 7;
        var expired = new ExpiredLease[found.Length / Fields];
        for (int i = 0; i < expired.Length; i++)
        {
            int b = i * Fields;
            expired[i] = new ExpiredLease(new JobLease(
                (string)found[b]!,
                (string)found[b + 1]!,
                DateTimeOffset.FromUnixTimeMilliseconds(long.Parse((string)found[b + 2]!, NumberStyles.None, CultureInfo.InvariantCulture)),
                (int)(long)found[b + 3],
                (int)(long)found[b + 4]),
                HandlerStarted: (long)found[b + 5] == 1,
                UnstartedRefunds: (int)(long)found[b + 6]);
        }

        return expired;
    }

    /// <inheritdoc />
    /// <remarks>A turn of this queue object's group (<c>{rq:q}:g:&lt;group&gt;:turn:&lt;name&gt;</c>): each group reaps its own leases.</remarks>
    protected override async ValueTask<bool> TryClaimTurnCoreAsync(string name, string holder, DateTimeOffset now, DateTimeOffset until, CancellationToken cancellationToken)
    {
        RedisResult reply = await EvalAsync(LuaScripts.Turn, [_keys.GroupMeta], [name, holder, Ms(now), Ms(until) - Ms(now)]).ConfigureAwait(false);
        return (long)reply == 1;
    }

    /// <inheritdoc />
    /// <remarks>Clears the whole queue: the stream, its delayed enqueues and every group (the groups are created again by their next fetch).</remarks>
    protected override async ValueTask<long> ClearCoreAsync(int maxJobs, CancellationToken cancellationToken)
    {
        // Read before the last step deletes the list of groups: their waiters are told to look again at the end.
        RedisValue[] groups = await _redis.RunAsync(db => db.HashKeysAsync(_keys.Groups)).ConfigureAwait(false);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long[] step = (long[])(await EvalAsync(StreamScripts.Clear, [_keys.Meta, _keys.Stream, _keys.Entries, _keys.Delayed, _keys.Groups], [maxJobs]).ConfigureAwait(false))!;
            if (step[0] > 0)
            {
                return step[0];
            }

            if (step[1] == 1)
            {
                await DeleteStringKeysAsync(cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _groupsDeclared, 0);
                Volatile.Write(ref _resultGroupFound, 0);
                await PublishLookAgainAsync(groups.Select(g => g.ToString()).Append(Group).Distinct(StringComparer.Ordinal)).ConfigureAwait(false);
                return 0;
            }
        }
    }

    /// <summary>The queue's idempotency keys and its groups' turns and results: strings with a TTL that no structure lists.</summary>
    private async Task DeleteStringKeysAsync(CancellationToken cancellationToken) =>
        await RedisKeySweeper.DeleteAsync(
            await _redis.Connection.GetAsync().ConfigureAwait(false),
            _redis.DatabaseIndex,
            _keys.Meta,
            [_keys.Idempotency("*").ToString(), _keys.Prefix + "g:*:turn:*", _keys.Prefix + "g:*:result:*"],
            cancellationToken).ConfigureAwait(false);

    private async Task<(Job Job, RedisResult[] Extra)?> ReadJobAsync(string jobId)
    {
        RedisResult reply = await EvalAsync(
            StreamScripts.GetJob,
            [_keys.GroupMeta, _keys.Stream, _keys.Entries, _keys.Delayed, _keys.GroupDelayed, _keys.Active, _keys.Dead, _keys.Completed, _keys.Attempts],
            [jobId, Group, _start]).ConfigureAwait(false);
        RedisResult[] parts = (RedisResult[])reply!;
        if (parts.Length == 0)
        {
            return null;
        }

        RedisResult[] extra = (RedisResult[])parts[3]!;
        return (RedisJobReader.Read(Name, jobId, (JobState)(int)(long)parts[0], (byte[])parts[1]!, (long)parts[2], extra, (long)parts[4]), extra);
    }
}
