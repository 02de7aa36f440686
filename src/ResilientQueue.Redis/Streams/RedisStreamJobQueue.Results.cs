using ResilientQueue.Redis.Lists;
using ResilientQueue.Results;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

public sealed partial class RedisStreamJobQueue
{
    /// <summary>How much longer than a result's retention its key lives on the server: the caller's clock decides expiry, the TTL only collects it.</summary>
    private const long ResultCollectionGraceMs = 60_000;

    /// <summary>The group's subscription to <c>{rq:q}:g:&lt;group&gt;:done</c>, shared by every producer of this process waiting for a result of the group.</summary>
    private RedisSubscription? _done;

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
        int n = completions.Count;
        var args = new RedisValue[5 + (3 * n)];
        args[0] = Ms(now);
        args[1] = Options.CompletedRetention;
        args[2] = Group;
        args[3] = Ms(resultExpiresAt) - Ms(now) + ResultCollectionGraceMs;
        args[4] = n;
        for (int i = 0; i < n; i++)
        {
            JobCompletion completion = completions[i];
            args[5 + (2 * i)] = completion.Lease.JobId;
            args[6 + (2 * i)] = completion.Lease.Token;
            args[5 + (2 * n) + i] = RedisResultCodec.Encode(now, resultExpiresAt, completion.Result.Span);
        }

        RedisResult reply = await EvalAsync(StreamScripts.Complete, [_keys.GroupMeta, _keys.Stream, _keys.Entries, _keys.Active, _keys.Completed, _keys.Lease, _keys.Attempts], args).ConfigureAwait(false);
        MaybeHousekeep();
        return Applied(reply);
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
        RedisSubscription done = Volatile.Read(ref _done)
            ?? Interlocked.CompareExchange(ref _done, new RedisSubscription(_redis.Connection, _keys.DoneChannel, OnDone), null)
            ?? _done!;
        await done.EnsureAsync().ConfigureAwait(false);
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

    /// <summary>A message on the group's done channel: the ids of jobs that completed or failed for good, or <c>*</c> (look again, all).</summary>
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

    /// <summary>Tells waiters in other processes, of every group named, to look again (their jobs' results may be gone: the queue was cleared).</summary>
    private async Task PublishLookAgainAsync(IEnumerable<string> groups)
    {
        foreach (string group in groups)
        {
            await _redis.RunAsync(db => db.PublishAsync(RedisStreamKeys.DoneChannelOf(_keys.Prefix, group), "*")).ConfigureAwait(false);
        }
    }

    /// <summary>Ends the group's done subscription, if one was made.</summary>
    private ValueTask UnsubscribeDoneAsync() => _done?.UnsubscribeAsync() ?? ValueTask.CompletedTask;
}
