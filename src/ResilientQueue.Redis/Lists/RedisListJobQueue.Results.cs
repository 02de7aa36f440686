using ResilientQueue.Redis.Scripting;
using ResilientQueue.Results;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

public sealed partial class RedisListJobQueue
{
    /// <inheritdoc />
    /// <remarks>One <c>complete-5.lua</c> call: the acknowledgements and the results (<c>{rq:q}:result:&lt;id&gt;</c>) in one atomic step, then a publish of the ids on <c>{rq:q}:done</c>.</remarks>
    protected override async ValueTask<IReadOnlyList<bool>> CompleteCoreAsync(IReadOnlyList<JobCompletion> completions, DateTimeOffset now, DateTimeOffset resultExpiresAt, CancellationToken cancellationToken)
    {
        RedisValue[] args = ScriptArgs.Completions(completions, now, resultExpiresAt, Ms(now), Options.CompletedRetention, ScriptArgs.ResultTtlMs(now, resultExpiresAt));
        RedisResult reply = await EvalAsync(LuaScripts.Complete, [_keys.Meta, _keys.Active, _keys.Completed, _keys.Lease, _keys.Attempts], args).ConfigureAwait(false);
        return ScriptReplies.Applied(reply);
    }

    /// <inheritdoc />
    protected override async ValueTask<JobResult?> GetResultCoreAsync(string jobId, CancellationToken cancellationToken)
    {
        RedisValue stored = await RunAsync((db, keys) => db.StringGetAsync(keys.Result(jobId))).ConfigureAwait(false);
        return stored.IsNull ? null : RedisResultCodec.Decode(Name, jobId, (byte[])stored!);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Subscribes the queue to <c>{rq:q}:done</c> once, for every waiter of this process (a restored connection makes
    /// every waiter look again, since messages published meanwhile are lost).
    /// </remarks>
    protected override ValueTask EnsureResultWakeUpsCoreAsync(CancellationToken cancellationToken) => _resultWakeUps.EnsureAsync();

    /// <summary>Tells waiters in other processes to look again (their jobs' results may be gone: the queue was cleared).</summary>
    private Task PublishLookAgainAsync() => RunAsync(static (db, keys) => db.PublishAsync(keys.DoneChannel, "*"));
}
