using ResilientQueue.Backends;
using ResilientQueue.Backpressure;
using ResilientQueue.Leases;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Transitions;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

public sealed partial class RedisStreamJobQueue
{
    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueCoreAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        await DeclareGroupsAsync().ConfigureAwait(false);
        const int Fields = 4;
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
            args[b + 2] = Ms(job.AvailableAt) - now;
            args[b + 3] = job.IdempotencyKey ?? string.Empty;
        }

        RedisResult[] reply = (RedisResult[])(await EvalAsync(StreamScripts.Enqueue, [_keys.Meta, _keys.Stream, _keys.Entries, _keys.Delayed, _keys.Groups], args).ConfigureAwait(false))!;
        switch ((long)reply[0])
        {
            case -1:
                throw new QueueFullException(Name, Options.Capacity, (long)reply[1], (int)(long)reply[2]);
            case -2:
                throw new InvalidOperationException($"Queue '{Name}' is stored by the Redis list backend (RedisListJobQueue); it cannot be opened as a stream queue.");
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
    /// <remarks>The depth of the deepest group (what the capacity check of an enqueue uses).</remarks>
    protected override async ValueTask<long> GetDepthCoreAsync(CancellationToken cancellationToken) =>
        (long)await EvalAsync(StreamScripts.Depth, [_keys.Meta, _keys.Stream, _keys.Delayed, _keys.Groups], NoValues).ConfigureAwait(false);

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<LeasedJob>> FetchCoreAsync(int maxCount, DateTimeOffset now, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _consumerUsed, 1);
        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            StreamScripts.Fetch,
            [_keys.GroupMeta, _keys.Meta, _keys.Stream, _keys.Entries, _keys.Delayed, _keys.Ready, _keys.GroupDelayed, _keys.Active, _keys.Lease, _keys.Attempts, _keys.Groups],
            [Ms(now), maxCount, Ms(leaseExpiresAt), Group, Consumer, _start]).ConfigureAwait(false))!;

        // {n, created, lost, then id, token, attempts, envelope, t per job, then (index, x hash) pairs, then the lost ids}
        const int Fields = 5;
        int count = (int)(long)reply[0];
        ReportGroup((long)reply[1]);
        int lostCount = (int)(long)reply[2];
        int extrasEnd = reply.Length - lostCount;
        ReportLost([.. reply[extrasEnd..].Select(r => (string)r!)]);
        if (count == 0)
        {
            return [];
        }

        Dictionary<int, RedisResult[]>? extras = null;
        for (int i = 3 + (count * Fields); i + 1 < extrasEnd; i += 2)
        {
            (extras ??= [])[(int)(long)reply[i]] = (RedisResult[])reply[i + 1]!;
        }

        var leased = new LeasedJob[count];
        long deadline = Ms(leaseExpiresAt);
        for (int j = 0; j < count; j++)
        {
            int i = 3 + (j * Fields);
            string id = (string)reply[i]!;
            RedisResult[] extra = extras is not null && extras.TryGetValue(j + 1, out RedisResult[]? x) ? x : [];
            Job job = RedisJobReader.Read(Name, id, JobState.Active, (byte[])reply[i + 3]!, (long)reply[i + 2], WithAvailableAt(extra, reply[i + 4]), deadline);
            leased[j] = new LeasedJob(job, new JobLease(id, (string)reply[i + 1]!, leaseExpiresAt, job.Attempts, job.MaxAttempts));
        }

        return leased;
    }

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<bool>> AckCoreAsync(IReadOnlyList<JobLease> leases, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var args = new RedisValue[4 + (leases.Count * 2)];
        args[0] = Ms(now);
        args[1] = Options.CompletedRetention;
        args[2] = Group;
        args[3] = leases.Count;
        for (int i = 0; i < leases.Count; i++)
        {
            args[4 + (2 * i)] = leases[i].JobId;
            args[5 + (2 * i)] = leases[i].Token;
        }

        RedisResult reply = await EvalAsync(StreamScripts.Ack, [_keys.GroupMeta, _keys.Stream, _keys.Entries, _keys.Active, _keys.Completed, _keys.Lease, _keys.Attempts], args).ConfigureAwait(false);
        MaybeHousekeep();
        return Applied(reply);
    }

    /// <inheritdoc />
    protected override async ValueTask<TransitionBatchResult> ApplyCoreAsync(IReadOnlyList<LeaseTransition> transitions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        const int Fields = 12;
        var args = new RedisValue[6 + (transitions.Count * Fields)];
        args[0] = Ms(now);
        args[1] = Options.DeadLetter.MaxEntries;
        args[2] = (long)Options.DeadLetter.MaxAge.TotalMilliseconds;
        args[3] = _channel;
        args[4] = Group;
        args[5] = transitions.Count;
        for (int i = 0; i < transitions.Count; i++)
        {
            LeaseTransition t = transitions[i];
            JobTransition move = t.Transition;
            int b = 6 + (i * Fields);
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
            StreamScripts.Transition,
            [_keys.GroupMeta, _keys.Stream, _keys.Entries, _keys.Ready, _keys.GroupDelayed, _keys.Active, _keys.Dead, _keys.Lease, _keys.Attempts],
            args).ConfigureAwait(false))!;
        ReportLost([.. ((RedisResult[])reply[2]!).Select(r => (string)r!)]);
        return new TransitionBatchResult(Applied(reply[0]), StreamReplies.Trims((RedisResult[])reply[1]!));
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

        // The list backend's renew-3 on the group's keys: a lease is the same there.
        return Applied(await EvalAsync(LuaScripts.Renew, [_keys.GroupMeta, _keys.Active, _keys.Lease], args).ConfigureAwait(false));
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

        return Applied(await EvalAsync(LuaScripts.Started, [_keys.GroupMeta, _keys.Lease], args).ConfigureAwait(false));
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> SaveCheckpointCoreAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken)
    {
        RedisResult reply = await EvalAsync(LuaScripts.Checkpoint, [_keys.GroupMeta, _keys.Lease, _keys.Attempts], [lease.JobId, lease.Token, checkpoint.ToArray()]).ConfigureAwait(false);
        return (long)reply == 1;
    }

    /// <summary>Creates the declared groups (<see cref="RedisStreamOptions.Groups"/>) once, before this queue object's first enqueue.</summary>
    private async ValueTask DeclareGroupsAsync()
    {
        if (_stream.Groups.Count == 0 || Volatile.Read(ref _groupsDeclared) == 1)
        {
            return;
        }

        var args = new RedisValue[1 + _stream.Groups.Count];
        args[0] = _start;
        for (int i = 0; i < _stream.Groups.Count; i++)
        {
            args[i + 1] = _stream.Groups[i];
        }

        RedisResult[] created = (RedisResult[])(await EvalAsync(StreamScripts.Groups, [_keys.Meta, _keys.Stream, _keys.Groups], args).ConfigureAwait(false))!;
        foreach (RedisResult group in created)
        {
            StreamLog.GroupCreated(Logger, Name, (string)group!, _start == "0" ? "the first retained entry" : "new entries");
        }

        Volatile.Write(ref _groupsDeclared, 1);
    }

    private static bool[] Applied(RedisResult reply) => Array.ConvertAll((long[])reply!, r => r == 1);

    /// <summary>The x hash of a job, with <c>v</c> (available at) from its stream entry's <c>t</c> when the hash has none.</summary>
    private static RedisResult[] WithAvailableAt(RedisResult[] x, RedisResult t)
    {
        string? at = (string?)t;
        if (string.IsNullOrEmpty(at))
        {
            return x;
        }

        for (int i = 0; i + 1 < x.Length; i += 2)
        {
            if ((string?)x[i] == "v")
            {
                return x;
            }
        }

        return [.. x, RedisResult.Create((RedisValue)"v"), RedisResult.Create((RedisValue)at)];
    }
}
