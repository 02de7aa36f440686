using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Results;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

public sealed partial class RedisStreamJobQueue
{
    /// <summary>1 once the group was found among the stream's groups on the server (a producer then waits without looking again).</summary>
    private int _resultGroupFound;

    /// <inheritdoc />
    /// <remarks>
    /// One <c>xcomplete-7.lua</c> call: the acknowledgements and the results in one atomic step, then a publish of the
    /// ids on the group's channel. Each group is its own pipeline: its result is its own, stored under
    /// <c>{rq:q}:g:&lt;group&gt;:result:&lt;id&gt;</c>, so a job consumed by several groups has one result per group.
    /// </remarks>
    protected override async ValueTask<IReadOnlyList<bool>> CompleteCoreAsync(IReadOnlyList<JobCompletion> completions, DateTimeOffset now, DateTimeOffset resultExpiresAt, CancellationToken cancellationToken)
    {
        RedisValue[] args = ScriptArgs.Completions(completions, now, resultExpiresAt, Ms(now), Options.CompletedRetention, Group, ScriptArgs.ResultTtlMs(now, resultExpiresAt));
        RedisResult reply = await EvalAsync(StreamScripts.Complete, [_keys.GroupMeta, _keys.Stream, _keys.Entries, _keys.Active, _keys.Completed, _keys.Lease, _keys.Attempts], args).ConfigureAwait(false);
        MaybeHousekeep();
        return ScriptReplies.Applied(reply);
    }

    /// <inheritdoc />
    /// <remarks>The result this queue object's group stored (<see cref="Group"/>); another group's result of the same job is that group's.</remarks>
    protected override async ValueTask<JobResult?> GetResultCoreAsync(string jobId, CancellationToken cancellationToken)
    {
        RedisValue stored = await _redis.RunAsync(db => db.StringGetAsync(_keys.Result(jobId))).ConfigureAwait(false);
        return stored.IsNull ? null : RedisResultCodec.Decode(Name, jobId, (byte[])stored!);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Checks first that the results waited for can come: a producer waits for the result of its own group
    /// (<see cref="RedisStreamOptions.Group"/>), so when the queue's groups (declared in
    /// <see cref="RedisStreamOptions.Groups"/>, or else found on the server) do not include it, the wait throws an
    /// <see cref="InvalidOperationException"/> naming them instead of waiting for a result no consumer will store. Then
    /// subscribes the group's channel once, for every waiter of this process (a restored connection makes every waiter
    /// look again, since messages published meanwhile are lost).
    /// </remarks>
    protected override async ValueTask EnsureResultWakeUpsCoreAsync(CancellationToken cancellationToken)
    {
        await CheckResultGroupAsync().ConfigureAwait(false);
        await _resultWakeUps.EnsureAsync().ConfigureAwait(false);
    }

    /// <summary>Throws when this queue object's group is not one of the queue's groups, which alone store its results.</summary>
    private async ValueTask CheckResultGroupAsync()
    {
        if (_stream.Groups.Count > 0)
        {
            if (!_stream.Groups.Contains(Group, StringComparer.Ordinal))
            {
                throw WrongResultGroup(_stream.Groups, "declared in RedisStreamOptions.Groups");
            }

            return;
        }

        if (Volatile.Read(ref _resultGroupFound) == 1)
        {
            return;
        }

        RedisValue[] names = await _redis.RunAsync(db => db.HashKeysAsync(_keys.Groups)).ConfigureAwait(false);
        if (names.Length == 0)
        {
            return; // no group yet: the first fetch of this group creates it from the retained history, this job in it
        }

        string[] groups = [.. names.Select(n => n.ToString()).Order(StringComparer.Ordinal)];
        if (!groups.Contains(Group, StringComparer.Ordinal))
        {
            throw WrongResultGroup(groups, "on the server");
        }

        Volatile.Write(ref _resultGroupFound, 1);
    }

    private InvalidOperationException WrongResultGroup(IEnumerable<string> groups, string where) => new(
        $"Queue '{Name}' is read by the consumer groups {string.Join(", ", groups.Select(g => "'" + g + "'"))} ({where}); each group is its own pipeline " +
        $"and stores its own results, and this queue object waits for those of group '{Group}', which is not one of them. " +
        "Set RedisStreamOptions.Group to the group whose result to wait for.");

    /// <summary>Tells waiters in other processes, of every group named, to look again (their jobs' results may be gone: the queue was cleared).</summary>
    private async Task PublishLookAgainAsync(IEnumerable<string> groups)
    {
        foreach (string group in groups)
        {
            await _redis.RunAsync(db => db.PublishAsync(RedisStreamKeys.DoneChannelOf(_keys.Prefix, group), "*")).ConfigureAwait(false);
        }
    }
}
