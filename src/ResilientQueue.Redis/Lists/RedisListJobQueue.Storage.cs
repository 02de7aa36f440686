using ResilientQueue.Backends;
using ResilientQueue.Backpressure;
using ResilientQueue.Leases;
using ResilientQueue.Redis.Scripting;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

public sealed partial class RedisListJobQueue
{
    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueCoreAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken)
    {
        RedisValue[] args = ScriptArgs.Enqueue(jobs, Options, _channel, priorities: true);
        RedisResult[] reply = (RedisResult[])(await EvalAsync(LuaScripts.Enqueue, [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Attempts], args).ConfigureAwait(false))!;
        if ((long)reply[0] == -1)
        {
            throw new QueueFullException(Name, Options.Capacity, (long)reply[1], (int)(long)reply[2]);
        }

        return ScriptReplies.Enqueued(reply, jobs);
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

        // {n, the n jobs packed into one value, then (index, x hash) for the jobs that have one}
        return ScriptReplies.Leased(Name, reply, at: 1, count: (int)(long)reply[0], end: reply.Length, leaseExpiresAt);
    }

    /// <inheritdoc />
    protected override async ValueTask<IReadOnlyList<bool>> AckCoreAsync(IReadOnlyList<JobLease> leases, DateTimeOffset now, CancellationToken cancellationToken)
    {
        RedisValue[] args = ScriptArgs.Leases(leases, Ms(now), Options.CompletedRetention);
        RedisResult reply = await EvalAsync(LuaScripts.Ack, [_keys.Meta, _keys.Active, _keys.Completed, _keys.Lease, _keys.Attempts], args).ConfigureAwait(false);
        return ScriptReplies.Applied(reply);
    }

    /// <inheritdoc />
    protected override async ValueTask<TransitionBatchResult> ApplyCoreAsync(IReadOnlyList<LeaseTransition> transitions, DateTimeOffset now, CancellationToken cancellationToken)
    {
        RedisValue[] args = ScriptArgs.Transitions(transitions, Ms(now), Options.DeadLetter.MaxEntries, (long)Options.DeadLetter.MaxAge.TotalMilliseconds, _channel);
        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            LuaScripts.Transition,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Active, _keys.Dead, _keys.Lease, _keys.Attempts],
            args).ConfigureAwait(false))!;
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
}
