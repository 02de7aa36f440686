using ResilientQueue.Leases;
using ResilientQueue.Redis.Connections;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Scripting;

/// <summary>
/// The steps on a held lease that both Redis backends run with the same scripts (<c>renew-3</c>, <c>started-2</c>,
/// <c>checkpoint-3</c>) on the same kind of keys: a list queue's, or a stream group's own (a lease is the same there).
/// Each checks the lease's token first.
/// </summary>
/// <param name="redis">The queue's runner.</param>
/// <param name="meta">The meta hash (the queue's, or the group's).</param>
/// <param name="active">The active set (ids by lease deadline).</param>
/// <param name="lease">The lease hash (id to token).</param>
/// <param name="attempts">The attempts hash.</param>
internal sealed class RedisLeaseSteps(RedisScriptRunner redis, RedisKey meta, RedisKey active, RedisKey lease, RedisKey attempts)
{
    /// <summary>Moves the deadlines of the leases still current to <paramref name="leaseExpiresAt"/>; applied or not, per lease.</summary>
    public async ValueTask<IReadOnlyList<bool>> RenewAsync(IReadOnlyList<JobLease> leases, DateTimeOffset leaseExpiresAt) =>
        ScriptReplies.Applied(await redis.EvalAsync(LuaScripts.Renew, [meta, active, lease], ScriptArgs.Leases(leases, leaseExpiresAt.ToUnixTimeMilliseconds())).ConfigureAwait(false));

    /// <summary>Marks the handlers of the leases still current as started; applied or not, per lease.</summary>
    public async ValueTask<IReadOnlyList<bool>> MarkStartedAsync(IReadOnlyList<JobLease> leases) =>
        ScriptReplies.Applied(await redis.EvalAsync(LuaScripts.Started, [meta, lease], ScriptArgs.Leases(leases)).ConfigureAwait(false));

    /// <summary>Stores a checkpoint of the job while its lease is current; <see langword="false"/> when the lease was lost.</summary>
    public async ValueTask<bool> SaveCheckpointAsync(JobLease held, ReadOnlyMemory<byte> checkpoint) =>
        (long)await redis.EvalAsync(LuaScripts.Checkpoint, [meta, lease, attempts], [held.JobId, held.Token, checkpoint.ToArray()]).ConfigureAwait(false) == 1;
}
