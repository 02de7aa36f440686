using System.Globalization;
using ResilientQueue.DeadLetter;
using ResilientQueue.Redis.Scripting;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

public sealed partial class RedisListJobQueue
{
    /// <summary>The most dead-letter entries one listing call looks at: 10,000 (one script call must stay short).</summary>
    private const int DeadListScanBudget = 10_000;

    /// <summary>The dead-letter store of a <see cref="RedisListJobQueue"/>: the <c>{rq:q}:dead</c> sorted set and the jobs' hashes.</summary>
    private sealed class RedisDeadLetterStore(RedisListJobQueue queue) : IDeadLetterStore
    {
        public string QueueName => queue.Name;

        public async ValueTask<DeadLetterPage> ListAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            query = JobArguments.DeadLetterQuery(query);

            (long Time, string Id)? cursor = query.Cursor is null ? null : ParseCursor(query.Cursor);
            long? upper = cursor?.Time;
            if (query.OlderThan is { } age)
            {
                long bound = (JobArguments.Now(queue._time) - age).ToUnixTimeMilliseconds();
                upper = upper is null ? bound : Math.Min(upper.Value, bound);
            }

            RedisResult[] reply = (RedisResult[])(await queue.EvalAsync(
                LuaScripts.DeadList,
                [queue._keys.Meta, queue._keys.Dead, queue._keys.Attempts],
                [
                    upper?.ToString(CultureInfo.InvariantCulture) ?? "+inf",
                    cursor?.Time.ToString(CultureInfo.InvariantCulture) ?? string.Empty,
                    cursor?.Id ?? string.Empty,
                    query.Limit,
                    query.Category is { } category ? ((int)category).ToString(CultureInfo.InvariantCulture) : string.Empty,
                    DeadListScanBudget,
                ]).ConfigureAwait(false))!;

            var entries = new DeadLetterEntry[reply.Length - 2];
            for (int i = 0; i < entries.Length; i++)
            {
                RedisResult[] e = (RedisResult[])reply[i + 2]!;
                entries[i] = RedisJobReader.ReadDeadLetter(queue.Name, (string)e[0]!, (byte[])e[1]!, (long)e[2], (RedisResult[])e[3]!);
            }

            string nextTime = (string)reply[0]!;
            return new DeadLetterPage(entries, nextTime.Length == 0 ? null : nextTime + CursorSeparator + (string)reply[1]!);
        }

        public async ValueTask<DeadLetterEntry?> GetAsync(string jobId, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JobArguments.JobId(jobId);
            (Job Job, RedisResult[] Extra)? read = await queue.ReadJobAsync(jobId).ConfigureAwait(false);
            return read is { Job.State: JobState.Dead } dead ? RedisJobReader.ToDeadLetter(dead.Job, dead.Extra) : null;
        }

        public async ValueTask<RequeueResult> RequeueAsync(string jobId, bool resetAttempts = false, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JobArguments.JobId(jobId);
            RedisResult[] reply = (RedisResult[])(await queue.EvalAsync(
                LuaScripts.Requeue,
                [queue._keys.Meta, queue._keys.Ready, queue._keys.Priority, queue._keys.Dead, queue._keys.Attempts],
                [jobId, resetAttempts ? 1 : 0, queue._options.Capacity, JobArguments.Now(queue._time).ToUnixTimeMilliseconds(), queue._channel]).ConfigureAwait(false))!;
            return (long)reply[0] switch
            {
                0 => RequeueResult.Requeued,
                1 => RequeueResult.NotDeadLettered,
                2 => RequeueResult.NotFound,
                _ => throw new QueueFullException(queue.Name, queue._options.Capacity, (long)reply[1], 1),
            };
        }

        public async ValueTask<bool> PurgeAsync(string jobId, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            JobArguments.JobId(jobId);
            return (long)await queue.EvalAsync(LuaScripts.Purge, [queue._keys.Meta, queue._keys.Dead, queue._keys.Attempts], ["id", jobId]).ConfigureAwait(false) == 1;
        }

        public ValueTask<long> PurgeOlderThanAsync(TimeSpan age, CancellationToken cancellationToken = default)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(age, TimeSpan.Zero);
            long cutoff = (JobArguments.Now(queue._time) - age).ToUnixTimeMilliseconds();
            return PurgeUpToAsync(cutoff.ToString(CultureInfo.InvariantCulture), cancellationToken);
        }

        public ValueTask<long> PurgeAllAsync(CancellationToken cancellationToken = default) => PurgeUpToAsync("+inf", cancellationToken);

        // Purges in script calls of at most MaxStepWork entries, each atomic, so Redis is never blocked for long.
        private async ValueTask<long> PurgeUpToAsync(string upTo, CancellationToken cancellationToken)
        {
            long purged = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long step = (long)await queue.EvalAsync(
                    LuaScripts.Purge,
                    [queue._keys.Meta, queue._keys.Dead, queue._keys.Attempts],
                    ["upto", upTo, JobQueueOptions.MaxStepWork]).ConfigureAwait(false);
                purged += step;
                if (step < JobQueueOptions.MaxStepWork)
                {
                    return purged;
                }
            }
        }

        public async ValueTask<long> CountAsync(CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return await queue.RunAsync(static (db, keys) => db.SortedSetLengthAsync(keys.Dead), queue._keys).ConfigureAwait(false);
        }
    }

    private const char CursorSeparator = '-';

    private static (long Time, string Id) ParseCursor(string cursor)
    {
        int separator = cursor.IndexOf(CursorSeparator, StringComparison.Ordinal);
        if (separator <= 0
            || separator == cursor.Length - 1
            || !long.TryParse(cursor.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out long time))
        {
            throw new InvalidOptionsException("DeadLetterQuery.Cursor", $"'{cursor}' is not a cursor this store returned.");
        }

        return (time, cursor[(separator + 1)..]);
    }
}
