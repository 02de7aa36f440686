using ResilientQueue.Backends;
using ResilientQueue.Leases;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Results;
using ResilientQueue.Transitions;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Scripting;

/// <summary>
/// Writes the ARGV of the batch scripts both Redis backends run: the script's own leading arguments
/// (<c>head</c>), then the batch's count, then each item's fields in the order the script reads them.
/// </summary>
internal static class ScriptArgs
{
    /// <summary>How much longer than a result's retention its key lives on the server: the caller's clock decides expiry, the TTL only collects the key.</summary>
    public const long ResultCollectionGraceMs = 60_000;

    /// <summary>The TTL (ms) of a result key stored at <paramref name="now"/> that expires at <paramref name="expiresAt"/>.</summary>
    public static long ResultTtlMs(DateTimeOffset now, DateTimeOffset expiresAt) => Ms(expiresAt) - Ms(now) + ResultCollectionGraceMs;

    /// <summary>head…, n, then (id, token) per lease: ack, renew, started.</summary>
    public static RedisValue[] Leases(IReadOnlyList<JobLease> leases, params ReadOnlySpan<RedisValue> head)
    {
        int b = head.Length + 1;
        var args = new RedisValue[b + (leases.Count * 2)];
        head.CopyTo(args);
        args[head.Length] = leases.Count;
        for (int i = 0; i < leases.Count; i++)
        {
            args[b + (2 * i)] = leases[i].JobId;
            args[b + 1 + (2 * i)] = leases[i].Token;
        }

        return args;
    }

    /// <summary>head…, n, then (id, token) per completion, then the n encoded results: complete.</summary>
    public static RedisValue[] Completions(IReadOnlyList<JobCompletion> completions, DateTimeOffset now, DateTimeOffset resultExpiresAt, params ReadOnlySpan<RedisValue> head)
    {
        int n = completions.Count;
        int b = head.Length + 1;
        var args = new RedisValue[b + (3 * n)];
        head.CopyTo(args);
        args[head.Length] = n;
        for (int i = 0; i < n; i++)
        {
            JobCompletion completion = completions[i];
            args[b + (2 * i)] = completion.Lease.JobId;
            args[b + 1 + (2 * i)] = completion.Lease.Token;
            args[b + (2 * n) + i] = RedisResultCodec.Encode(now, resultExpiresAt, completion.Result.Span);
        }

        return args;
    }

    /// <summary>
    /// head…, n, then 12 fields per decided transition (the lease's id, token, attempt and expiry bound; the
    /// transition's destination, head, available at, attempts, failure, failure category, dead reason, dead category).
    /// </summary>
    public static RedisValue[] Transitions(IReadOnlyList<LeaseTransition> transitions, params ReadOnlySpan<RedisValue> head)
    {
        const int Fields = 12;
        int first = head.Length + 1;
        var args = new RedisValue[first + (transitions.Count * Fields)];
        head.CopyTo(args);
        args[head.Length] = transitions.Count;
        for (int i = 0; i < transitions.Count; i++)
        {
            LeaseTransition t = transitions[i];
            JobTransition move = t.Transition;
            int b = first + (i * Fields);
            args[b] = t.Lease.JobId;
            args[b + 1] = t.Lease.Token;
            args[b + 2] = t.Lease.Attempt;
            args[b + 3] = t.OnlyIfExpiredBy is { } by ? Ms(by) : string.Empty;
            args[b + 4] = (int)move.Destination;
            args[b + 5] = move.AtHead ? 1 : 0;
            args[b + 6] = Ms(move.AvailableAt);
            args[b + 7] = (int)move.Attempts;
            args[b + 8] = move.Failure?.ToString() ?? string.Empty;
            args[b + 9] = (int)(move.Failure?.Category ?? default);
            args[b + 10] = move.DeadLetterReason ?? string.Empty;
            args[b + 11] = (int)move.DeadLetterCategory;
        }

        return args;
    }

    /// <summary>
    /// now, capacity, idempotency window (ms), channel, n, then per job its id, envelope, priority (only when
    /// <paramref name="priorities"/>: the stream script takes none), delay (ms) and idempotency key.
    /// </summary>
    public static RedisValue[] Enqueue(IReadOnlyList<NewJob> jobs, JobQueueOptions options, string channel, bool priorities)
    {
        int fields = priorities ? 5 : 4;
        long now = Ms(jobs[0].EnqueuedAt);
        var args = new RedisValue[5 + (jobs.Count * fields)];
        args[0] = now;
        args[1] = options.Capacity;
        args[2] = (long)options.IdempotencyWindow.TotalMilliseconds;
        args[3] = channel;
        args[4] = jobs.Count;
        for (int i = 0; i < jobs.Count; i++)
        {
            NewJob job = jobs[i];
            int b = 5 + (i * fields);
            args[b++] = job.Id;
            args[b++] = RedisJobCodec.Encode(job);
            if (priorities)
            {
                args[b++] = job.Priority;
            }

            args[b++] = Ms(job.AvailableAt) - now;
            args[b] = job.IdempotencyKey ?? string.Empty;
        }

        return args;
    }

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();
}
