using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

/// <summary>
/// The stream's housekeeping (<c>xtrim-4.lua</c>): deleting entries every group has acknowledged, beyond the kept
/// history, and removing consumers with nothing pending. Run in the background after acknowledgements and reaps, at
/// most every <see cref="RedisStreamOptions.HousekeepingInterval"/> per queue object, a step of at most 1,000 entries
/// at a time (more steps at once while full ones are deleted).
/// </summary>
public sealed partial class RedisStreamJobQueue
{
    private const int TrimBudget = JobQueueOptions.MaxStepWork;
    private const int MaxStepsInARow = 20;

    private readonly object _housekeepingGate = new();
    private Task? _housekeeping;
    private long _lastHousekeeping = long.MinValue;
    private bool _stopped;
    private string? _reportedMissingGroup;

    /// <summary>Whether this queue object starts housekeeping runs on its own (tests that call <see cref="TrimAsync"/> themselves turn it off).</summary>
    internal bool RunsHousekeeping { get; set; } = true;

    /// <summary>What one housekeeping step did.</summary>
    /// <param name="EntriesDeleted">Stream entries deleted (every group had acknowledged them, and they were beyond the kept history).</param>
    /// <param name="ConsumersRemoved">Consumers removed (nothing pending, idle past the bound, or this one leaving).</param>
    /// <param name="Watermark">The first entry some group has not acknowledged, or <see langword="null"/> when nothing may be deleted (no group, or one missing).</param>
    /// <param name="MissingGroup">A group this library created that the server does not have (deleted by hand): nothing is deleted until it is back.</param>
    internal readonly record struct HousekeepingStep(long EntriesDeleted, long ConsumersRemoved, string? Watermark, string? MissingGroup = null);

    /// <summary>Runs one housekeeping step now (tests and operators; the queue runs them on its own).</summary>
    /// <param name="leaving">Also removes this queue object's consumer when it has nothing pending.</param>
    /// <returns>What it did.</returns>
    internal async Task<HousekeepingStep> TrimAsync(bool leaving = false)
    {
        RedisResult[] r = (RedisResult[])(await EvalAsync(
            StreamScripts.Trim,
            [_keys.Meta, _keys.Stream, _keys.Entries, _keys.Groups],
            [
                Ms(Now()),
                _stream.HistoryMaxCount,
                _stream.HistoryMaxAge is { } age ? (long)age.TotalMilliseconds : -1,
                TrimBudget,
                (long)_stream.IdleConsumerRemoval.TotalMilliseconds,
                Group,
                Consumer,
                leaving ? 1 : 0,
            ]).ConfigureAwait(false))!;
        string watermark = (string)r[2]!;
        string missing = (string)r[3]!;
        if (missing.Length > 0 && !string.Equals(Interlocked.Exchange(ref _reportedMissingGroup, missing), missing, StringComparison.Ordinal))
        {
            StreamLog.GroupMissing(Logger, Name, missing, _keys.Groups.ToString());
        }

        return new HousekeepingStep((long)r[0], (long)r[1], watermark.Length == 0 ? null : watermark, missing.Length == 0 ? null : missing);
    }

    /// <summary>Starts a housekeeping run in the background when one is due and none is running.</summary>
    private void MaybeHousekeep()
    {
        lock (_housekeepingGate)
        {
            if (_stopped || !RunsHousekeeping || _housekeeping is { IsCompleted: false }
                || (_lastHousekeeping != long.MinValue && TimeProvider.GetElapsedTime(_lastHousekeeping) < _stream.HousekeepingInterval))
            {
                return;
            }

            _lastHousekeeping = TimeProvider.GetTimestamp();
            _housekeeping = Task.Run(HousekeepAsync);
        }
    }

    private async Task HousekeepAsync()
    {
        try
        {
            long entries = 0;
            long consumers = 0;
            for (int step = 0; step < MaxStepsInARow && !Volatile.Read(ref _stopped); step++)
            {
                HousekeepingStep done = await TrimAsync().ConfigureAwait(false);
                entries += done.EntriesDeleted;
                consumers += done.ConsumersRemoved;
                if (done.EntriesDeleted < TrimBudget)
                {
                    break;
                }
            }

            if (entries > 0 || consumers > 0)
            {
                StreamLog.HousekeepingDone(Logger, Name, entries, consumers);
            }
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException or InvalidOperationException)
        {
            StreamLog.HousekeepingFailed(Logger, Name, ex);
        }
    }

    /// <summary>Stops starting runs and waits for the one running, if any.</summary>
    private async Task StopHousekeepingAsync()
    {
        Task? running;
        lock (_housekeepingGate)
        {
            _stopped = true;
            running = _housekeeping;
        }

        if (running is not null)
        {
            await running.ConfigureAwait(false);
        }
    }
}
