using ResilientQueue.Backends;
using ResilientQueue.DeadLetter;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Transitions;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

/// <summary>
/// The dead-letter store of one group. A dead-lettered job holds the group's own copy of its envelope (its stream entry
/// is acknowledged), so the list backend's page and purge scripts run unchanged on the group's keys.
/// </summary>
public sealed partial class RedisStreamJobQueue
{
    /// <inheritdoc />
    protected override ValueTask<DeadLetterSlice> ListDeadLettersCoreAsync(DeadLetterRange range, CancellationToken cancellationToken) =>
        _deadLetters.ListAsync(range);

    /// <inheritdoc />
    protected override async ValueTask<DeadLetterEntry?> GetDeadLetterCoreAsync(string jobId, CancellationToken cancellationToken) =>
        await ReadJobAsync(jobId).ConfigureAwait(false) is { Job.State: JobState.Dead } dead ? RedisJobReader.ToDeadLetter(dead.Job, dead.Extra) : null;

    /// <inheritdoc />
    /// <remarks>Requeued to the group alone (at the tail of the jobs that came back to it); the capacity checked is the group's depth.</remarks>
    protected override async ValueTask<RequeueResult> RequeueDeadLetterCoreAsync(string jobId, JobTransition transition, CancellationToken cancellationToken)
    {
        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            StreamScripts.Requeue,
            [_keys.GroupMeta, _keys.Meta, _keys.Stream, _keys.Entries, _keys.Delayed, _keys.Ready, _keys.GroupDelayed, _keys.Dead, _keys.Attempts],
            [jobId, Options.Capacity, _channel, Group, (int)transition.Destination, transition.AtHead ? 1 : 0, Ms(transition.AvailableAt), (int)transition.Attempts]).ConfigureAwait(false))!;
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
