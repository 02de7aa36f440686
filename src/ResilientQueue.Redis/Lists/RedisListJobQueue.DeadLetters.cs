using ResilientQueue.Backends;
using ResilientQueue.DeadLetter;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Transitions;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

public sealed partial class RedisListJobQueue
{
    /// <inheritdoc />
    protected override ValueTask<DeadLetterSlice> ListDeadLettersCoreAsync(DeadLetterRange range, CancellationToken cancellationToken) =>
        _deadLetters.ListAsync(range);

    /// <inheritdoc />
    protected override async ValueTask<DeadLetterEntry?> GetDeadLetterCoreAsync(string jobId, CancellationToken cancellationToken)
    {
        (Job Job, RedisResult[] Extra)? read = await ReadJobAsync(jobId).ConfigureAwait(false);
        return read is { Job.State: JobState.Dead } dead ? RedisJobReader.ToDeadLetter(dead.Job, dead.Extra) : null;
    }

    /// <inheritdoc />
    protected override async ValueTask<RequeueResult> RequeueDeadLetterCoreAsync(string jobId, JobTransition transition, CancellationToken cancellationToken)
    {
        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            LuaScripts.Requeue,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Dead, _keys.Attempts],
            [jobId, Options.Capacity, Ms(transition.AvailableAt), _channel, (int)transition.Destination, transition.AtHead ? 1 : 0, Ms(transition.AvailableAt), (int)transition.Attempts]).ConfigureAwait(false))!;
        return ScriptReplies.Requeued(reply, Name, Options.Capacity);
    }

    /// <inheritdoc />
    protected override ValueTask<bool> PurgeDeadLetterCoreAsync(string jobId, CancellationToken cancellationToken) => _deadLetters.PurgeAsync(jobId);

    /// <inheritdoc />
    protected override ValueTask<int> PurgeDeadLettersCoreAsync(DateTimeOffset deadAtOrBefore, int maxCount, CancellationToken cancellationToken) =>
        _deadLetters.PurgeAsync(deadAtOrBefore, maxCount);

    /// <inheritdoc />
    protected override ValueTask<long> CountDeadLettersCoreAsync(CancellationToken cancellationToken) => _deadLetters.CountAsync();
}
