using System.Globalization;
using ResilientQueue.Backends;
using ResilientQueue.Backpressure;
using ResilientQueue.DeadLetter;
using ResilientQueue.Leases;
using ResilientQueue.Redis.Lists;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Scripting;

/// <summary>Reads the parts of the scripts' replies that both Redis backends share.</summary>
internal static class ScriptReplies
{
    /// <summary>A batch step's {1|0 per item}: applied or not.</summary>
    public static bool[] Applied(RedisResult reply) => Array.ConvertAll((long[])reply!, r => r == 1);

    /// <summary>The strings of an array reply.</summary>
    public static string[] Strings(RedisResult reply) => Array.ConvertAll((RedisResult[])reply!, r => (string)r!);

    /// <summary>The dead-letter trims a script reports: {id, "age"|"count", dead at (ms), dead reason} each.</summary>
    public static DeadLetterTrim[] Trims(RedisResult[] trimmed)
    {
        var trims = new DeadLetterTrim[trimmed.Length];
        for (int i = 0; i < trims.Length; i++)
        {
            RedisResult[] e = (RedisResult[])trimmed[i]!;
            DateTimeOffset? at = long.TryParse((string?)e[2], NumberStyles.None, CultureInfo.InvariantCulture, out long ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
            trims[i] = new DeadLetterTrim((string)e[0]!, (string)e[1]!, at, (string?)e[3]);
        }

        return trims;
    }

    /// <summary>An enqueue's {status, then per job "" (enqueued) or the id of the job it duplicates}, status 0 (a -1 was thrown for).</summary>
    public static EnqueueResult[] Enqueued(RedisResult[] reply, IReadOnlyList<NewJob> jobs)
    {
        var results = new EnqueueResult[jobs.Count];
        for (int i = 0; i < jobs.Count; i++)
        {
            string duplicateOf = (string)reply[i + 1]!;
            results[i] = duplicateOf.Length == 0 ? new EnqueueResult(jobs[i].Id, EnqueueOutcome.Enqueued) : new EnqueueResult(duplicateOf, EnqueueOutcome.Duplicate);
        }

        return results;
    }

    /// <summary>
    /// The jobs a fetch leased: at <paramref name="at"/> the number k of packed values that follow, holding the
    /// <paramref name="count"/> jobs (<c>pack_lease</c> in <c>_common.lua</c>, read by <see cref="PackedJobs"/>: per
    /// job its lease header <c>"&lt;attempts&gt; &lt;t&gt; &lt;token&gt; &lt;id&gt;"</c>, t the stream entry's time in
    /// ms or empty, and its envelope; no job is split between two values), then (1-based index, x hash) pairs up to
    /// <paramref name="end"/> for the jobs that have one.
    /// </summary>
    /// <remarks>
    /// One bulk string per fetch (per 8 MiB of it) instead of two per job: the client reads few reply values, and every
    /// job's envelope (and so its payload) is a slice of one array, not an array of its own.
    /// </remarks>
    /// <exception cref="FormatException">The packed values are not what <c>pack_lease</c> writes.</exception>
    public static LeasedJob[] Leased(string queue, RedisResult[] reply, int at, int count, int end, DateTimeOffset leaseExpiresAt)
    {
        int next = at + 1;
        int extrasAt = next + (int)(long)reply[at];
        Dictionary<int, RedisResult[]>? extras = null;
        for (int i = extrasAt; i + 1 < end; i += 2)
        {
            (extras ??= [])[(int)(long)reply[i]] = (RedisResult[])reply[i + 1]!;
        }

        var leased = new LeasedJob[count];
        long deadline = leaseExpiresAt.ToUnixTimeMilliseconds();
        PackedJobs rest = default;
        for (int j = 0; j < count; j++)
        {
            if (rest.IsEmpty)
            {
                rest = next < extrasAt ? new PackedJobs((ReadOnlyMemory<byte>)(RedisValue)reply[next++]) : throw PackedJobs.CountMismatch(count, j);
            }

            rest.NextJob(out ReadOnlyMemory<byte> headerBytes, out ReadOnlyMemory<byte> envelope);
            LeaseHeader header = LeaseHeader.Parse(headerBytes);
            RedisResult[] extra = extras is not null && extras.TryGetValue(j + 1, out RedisResult[]? x) ? x : [];
            Job job = RedisJobReader.Read(queue, header.Id, JobState.Active, envelope, header.Attempts, extra, deadline, header.EnteredMs);
            leased[j] = new LeasedJob(job, new JobLease(header.Id, header.Token, leaseExpiresAt, job.Attempts, job.MaxAttempts));
        }

        rest.End(count);
        if (next != extrasAt)
        {
            throw PackedJobs.CountMismatch(count, count);
        }

        return leased;
    }

    /// <summary>A requeue's {0 requeued | 1 not dead-lettered | 2 not found | -1 full, depth}.</summary>
    /// <exception cref="QueueFullException">The script found the queue (or the group) full.</exception>
    public static RequeueResult Requeued(RedisResult[] reply, string queue, long capacity) => (long)reply[0] switch
    {
        0 => RequeueResult.Requeued,
        1 => RequeueResult.NotDeadLettered,
        2 => RequeueResult.NotFound,
        _ => throw new QueueFullException(queue, capacity, (long)reply[1], 1),
    };
}
