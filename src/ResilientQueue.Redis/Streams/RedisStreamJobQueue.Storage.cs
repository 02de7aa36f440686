using ResilientQueue.Backends;
using ResilientQueue.Backpressure;
using ResilientQueue.Leases;
using ResilientQueue.Redis.Scripting;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

public sealed partial class RedisStreamJobQueue
{
    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueCoreAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        await DeclareGroupsAsync().ConfigureAwait(false);
        RedisValue[] args = ScriptArgs.Enqueue(jobs, Options, _channel, priorities: false);
        RedisResult[] reply = (RedisResult[])(await EvalAsync(StreamScripts.Enqueue, [_keys.Meta, _keys.Stream, _keys.Entries, _keys.Delayed, _keys.Groups], args).ConfigureAwait(false))!;
        switch ((long)reply[0])
        {
            case -1:
                throw new QueueFullException(Name, Options.Capacity, (long)reply[1], (int)(long)reply[2]);
            case -2:
                throw new InvalidOperationException($"Queue '{Name}' is stored by the Redis list backend (RedisListJobQueue); it cannot be opened as a stream queue.");
        }

        return ScriptReplies.Enqueued(reply, jobs);
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

        // {n, created, lost, then the n jobs packed into one value, then (index, x hash) pairs, then the lost ids}
        int count = (int)(long)reply[0];
        ReportGroup((long)reply[1]);
        int lostCount = (int)(long)reply[2];
        int extrasEnd = reply.Length - lostCount;
        ReportLost([.. reply[extrasEnd..].Select(r => (string)r!)]);
        if (count == 0)
        {
            return [];
        }

        return ScriptReplies.Leased(Name, reply, at: 3, count, end: extrasEnd, leaseExpiresAt);
    }

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<bool>> AckCoreAsync(IReadOnlyList<JobLease> leases, DateTimeOffset now, CancellationToken cancellationToken)
    {
        RedisValue[] args = ScriptArgs.Leases(leases, Ms(now), Options.CompletedRetention, Group);
        RedisResult reply = await EvalAsync(StreamScripts.Ack, [_keys.GroupMeta, _keys.Stream, _keys.Entries, _keys.Active, _keys.Completed, _keys.Lease, _keys.Attempts], args).ConfigureAwait(false);
        MaybeHousekeep();
        return ScriptReplies.Applied(reply);
    }

    /// <inheritdoc />
    protected override async ValueTask<TransitionBatchResult> ApplyCoreAsync(IReadOnlyList<LeaseTransition> transitions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        RedisValue[] args = ScriptArgs.Transitions(transitions, Ms(now), Options.DeadLetter.MaxEntries, (long)Options.DeadLetter.MaxAge.TotalMilliseconds, _channel, Group);
        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            StreamScripts.Transition,
            [_keys.GroupMeta, _keys.Stream, _keys.Entries, _keys.Ready, _keys.GroupDelayed, _keys.Active, _keys.Dead, _keys.Lease, _keys.Attempts],
            args).ConfigureAwait(false))!;
        ReportLost(ScriptReplies.Strings(reply[2]));
        return new TransitionBatchResult(ScriptReplies.Applied(reply[0]), ScriptReplies.Trims((RedisResult[])reply[1]!));
    }

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<bool>> RenewCoreAsync(IReadOnlyList<JobLease> leases, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken) =>
        _leases.RenewAsync(leases, leaseExpiresAt);

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<bool>> MarkStartedCoreAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken) =>
        _leases.MarkStartedAsync(leases);

    /// <inheritdoc />
    protected override ValueTask<bool> SaveCheckpointCoreAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken) =>
        _leases.SaveCheckpointAsync(lease, checkpoint);

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
}
