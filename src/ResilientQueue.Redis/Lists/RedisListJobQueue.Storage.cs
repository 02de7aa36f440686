using System.Globalization;
using ResilientQueue.Backends;
using ResilientQueue.Backpressure;
using ResilientQueue.Leases;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Transitions;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

public sealed partial class RedisListJobQueue
{
    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueCoreAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        const int Fields = 5;
        long now = Ms(jobs[0].EnqueuedAt);
        var args = new RedisValue[5 + (jobs.Count * Fields)];
        args[0] = now;
        args[1] = Options.Capacity;
        args[2] = (long)Options.IdempotencyWindow.TotalMilliseconds;
        args[3] = _channel;
        args[4] = jobs.Count;
        for (int i = 0; i < jobs.Count; i++)
        {
            NewJob job = jobs[i];
            int b = 5 + (i * Fields);
            args[b] = job.Id;
            args[b + 1] = RedisJobCodec.Encode(job);
            args[b + 2] = job.Priority;
            args[b + 3] = Ms(job.AvailableAt) - now;
            args[b + 4] = job.IdempotencyKey ?? string.Empty;
        }

        RedisResult[] reply = (RedisResult[])(await EvalAsync(LuaScripts.Enqueue, [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Attempts], args).ConfigureAwait(false))!;
        if ((long)reply[0] == -1)
        {
            throw new QueueFullException(Name, Options.Capacity, (long)reply[1], (int)(long)reply[2]);
        }

        var results = new EnqueueResult[jobs.Count];
        for (int i = 0; i < jobs.Count; i++)
        {
            string duplicateOf = (string)reply[i + 1]!;
            results[i] = duplicateOf.Length == 0 ? new EnqueueResult(jobs[i].Id, EnqueueOutcome.Enqueued) : new EnqueueResult(duplicateOf, EnqueueOutcome.Duplicate);
        }

        return results;
    }

    /// <inheritdoc />
    protected override async ValueTask<long> GetDepthCoreAsync(CancellationToken cancellationToken)
    {
        // The depth counter the enqueue script checks capacity against: one read, in the queue's slot.
        RedisValue depth = await RunAsync(static (db, keys) => db.HashGetAsync(keys.Meta, "depth")).ConfigureAwait(false);
        return depth.IsNull ? 0 : (long)depth;
    }

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<LeasedJob>> FetchCoreAsync(int maxCount, DateTimeOffset now, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken)
    {
        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            LuaScripts.Fetch,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Active, _keys.Lease, _keys.Attempts],
            [Ms(now), maxCount, Ms(leaseExpiresAt)]).ConfigureAwait(false))!;
        if (reply.Length == 0)
        {
            return [];
        }

        // {n, then id, token, attempts, envelope per job, then (index, x hash) for the jobs that have one}
        int count = (int)(long)reply[0];
        Dictionary<int, RedisResult[]>? extras = null;
        for (int i = 1 + (count * 4); i + 1 < reply.Length; i += 2)
        {
            (extras ??= [])[(int)(long)reply[i]] = (RedisResult[])reply[i + 1]!;
        }

        var leased = new LeasedJob[count];
        long deadline = Ms(leaseExpiresAt);
        for (int j = 0; j < count; j++)
        {
            int i = 1 + (j * 4);
            string id = (string)reply[i]!;
            RedisResult[] extra = extras is not null && extras.TryGetValue(j + 1, out RedisResult[]? x) ? x : [];
            Job job = RedisJobReader.Read(Name, id, JobState.Active, (byte[])reply[i + 3]!, (long)reply[i + 2], extra, deadline);
            leased[j] = new LeasedJob(job, new JobLease(id, (string)reply[i + 1]!, leaseExpiresAt, job.Attempts, job.MaxAttempts));
        }

        return leased;
    }

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<bool>> AckCoreAsync(IReadOnlyList<JobLease> leases, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var args = new RedisValue[3 + (leases.Count * 2)];
        args[0] = Ms(now);
        args[1] = Options.CompletedRetention;
        args[2] = leases.Count;
        for (int i = 0; i < leases.Count; i++)
        {
            args[3 + (2 * i)] = leases[i].JobId;
            args[4 + (2 * i)] = leases[i].Token;
        }

        RedisResult reply = await EvalAsync(LuaScripts.Ack, [_keys.Meta, _keys.Active, _keys.Completed, _keys.Lease, _keys.Attempts], args).ConfigureAwait(false);
        return Applied(reply);
    }

    /// <inheritdoc />
    protected override async ValueTask<TransitionBatchResult> ApplyCoreAsync(IReadOnlyList<LeaseTransition> transitions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        const int Fields = 12;
        var args = new RedisValue[5 + (transitions.Count * Fields)];
        args[0] = Ms(now);
        args[1] = Options.DeadLetter.MaxEntries;
        args[2] = (long)Options.DeadLetter.MaxAge.TotalMilliseconds;
        args[3] = _channel;
        args[4] = transitions.Count;
        for (int i = 0; i < transitions.Count; i++)
        {
            LeaseTransition t = transitions[i];
            JobTransition move = t.Transition;
            int b = 5 + (i * Fields);
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

        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            LuaScripts.Transition,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Active, _keys.Dead, _keys.Lease, _keys.Attempts],
            args).ConfigureAwait(false))!;
        return new TransitionBatchResult(Applied(reply[0]), ReadTrims((RedisResult[])reply[1]!));
    }

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<bool>> RenewCoreAsync(IReadOnlyList<JobLease> leases, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken)
    {
        var args = new RedisValue[2 + (leases.Count * 2)];
        args[0] = Ms(leaseExpiresAt);
        args[1] = leases.Count;
        for (int i = 0; i < leases.Count; i++)
        {
            args[2 + (2 * i)] = leases[i].JobId;
            args[3 + (2 * i)] = leases[i].Token;
        }

        return Applied(await EvalAsync(LuaScripts.Renew, [_keys.Meta, _keys.Active, _keys.Lease], args).ConfigureAwait(false));
    }

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<bool>> MarkStartedCoreAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken)
    {
        var args = new RedisValue[1 + (leases.Count * 2)];
        args[0] = leases.Count;
        for (int i = 0; i < leases.Count; i++)
        {
            args[1 + (2 * i)] = leases[i].JobId;
            args[2 + (2 * i)] = leases[i].Token;
        }

        return Applied(await EvalAsync(LuaScripts.Started, [_keys.Meta, _keys.Lease], args).ConfigureAwait(false));
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> SaveCheckpointCoreAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken)
    {
        RedisResult reply = await EvalAsync(LuaScripts.Checkpoint, [_keys.Meta, _keys.Lease, _keys.Attempts], [lease.JobId, lease.Token, checkpoint.ToArray()]).ConfigureAwait(false);
        return (long)reply == 1;
    }

    private static bool[] Applied(RedisResult reply) => Array.ConvertAll((long[])reply!, r => r == 1);

    /// <summary>The dead-letter trims a script reports: {id, "age"|"count", dead at (ms), dead reason} each.</summary>
    private static DeadLetterTrim[] ReadTrims(RedisResult[] trimmed)
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
}
