using ResilientQueue.Redis.Scripting;
using ResilientQueue.Results;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

public sealed partial class RedisListJobQueue
{
    /// <summary>How much longer than a result's retention its key lives on the server: the caller's clock decides expiry, the TTL only collects the key.</summary>
    private const long ResultCollectionGraceMs = 60_000;

    /// <summary>The queue's subscription to <c>{rq:q}:done</c>, shared by every producer of this process waiting for a result of the queue.</summary>
    private RedisSubscription? _done;

    /// <inheritdoc />
    /// <remarks>One <c>complete-5.lua</c> call: the acknowledgements and the results (<c>{rq:q}:result:&lt;id&gt;</c>) in one atomic step, then a publish of the ids on <c>{rq:q}:done</c>.</remarks>
    protected override async ValueTask<IReadOnlyList<bool>> CompleteCoreAsync(IReadOnlyList<JobCompletion> completions, DateTimeOffset now, DateTimeOffset resultExpiresAt, CancellationToken cancellationToken)
    {
        int n = completions.Count;
        var args = new RedisValue[4 + (3 * n)];
        args[0] = Ms(now);
        args[1] = Options.CompletedRetention;
        args[2] = Ms(resultExpiresAt) - Ms(now) + ResultCollectionGraceMs;
        args[3] = n;
        for (int i = 0; i < n; i++)
        {
            JobCompletion completion = completions[i];
            args[4 + (2 * i)] = completion.Lease.JobId;
            args[5 + (2 * i)] = completion.Lease.Token;
            args[4 + (2 * n) + i] = RedisResultCodec.Encode(now, resultExpiresAt, completion.Result.Span);
        }

        RedisResult reply = await EvalAsync(LuaScripts.Complete, [_keys.Meta, _keys.Active, _keys.Completed, _keys.Lease, _keys.Attempts], args).ConfigureAwait(false);
        return Applied(reply);
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
    protected override ValueTask EnsureResultWakeUpsCoreAsync(CancellationToken cancellationToken)
    {
        RedisSubscription done = Volatile.Read(ref _done)
            ?? Interlocked.CompareExchange(ref _done, new RedisSubscription(_connection, _keys.DoneChannel, OnDone), null)
            ?? _done!;
        return done.EnsureAsync();
    }

    /// <summary>A message on <c>{rq:q}:done</c>: the ids of jobs that completed or failed for good, or <c>*</c> (look again, all).</summary>
    private void OnDone(RedisChannel channel, RedisValue message)
    {
        if (!HasResultWaiters)
        {
            return;
        }

        string text = message.ToString();
        if (text == "*")
        {
            SignalAllResultWaiters();
            return;
        }

        foreach (Range id in text.AsSpan().Split(' '))
        {
            SignalResultMayBeReady(text[id]);
        }
    }

    /// <summary>Tells waiters in other processes to look again (their jobs' results may be gone: the queue was cleared).</summary>
    private Task PublishLookAgainAsync() => RunAsync(static (db, keys) => db.PublishAsync(keys.DoneChannel, "*"));
}
