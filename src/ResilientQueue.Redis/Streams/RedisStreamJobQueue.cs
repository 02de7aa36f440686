using System.Globalization;
using Microsoft.Extensions.Logging;
using ResilientQueue.Backends;
using ResilientQueue.Redis.Connections;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Scripting;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

/// <summary>
/// A job queue on one Redis stream read by consumer groups: every job enqueued reaches every group, and each group (a
/// pipeline) has its own leases, attempts, retries, dead letters, counts and pause. A queue object reads as one group
/// (<see cref="RedisStreamOptions.Group"/>). Fetch is <c>XREADGROUP … COUNT n</c> inside a script, never
/// <c>BLOCK</c> (idle consumers are woken by pub/sub, with the caller's poll as a fallback); every storage step is one
/// Lua script, so a job's transition is atomic; every key shares the hash tag <c>{rq:&lt;queue&gt;}</c> (Redis Cluster).
/// Leases are fenced by a per-fetch token stored with the job, and their deadlines are the caller's
/// (<see cref="TimeProvider"/>): the server's idle times decide nothing. An entry is deleted only once every group of
/// the stream has acknowledged it (see <c>docs/redis-streams.md</c>).
/// </summary>
/// <remarks>
/// The stream is one log in arrival order: there are no priorities (<see cref="Capabilities"/>). Jobs that come back
/// to a group (released, retried, reaped, requeued) are served before entries the group was not given yet. Run Redis
/// with <c>maxmemory-policy noeviction</c>.
/// </remarks>
public sealed partial class RedisStreamJobQueue : JobQueueBase
{
    private static readonly RedisValue[] NoValues = [];

    private readonly RedisScriptRunner _redis;
    private readonly RedisStreamKeys _keys;
    private readonly RedisDeadLetterStore _deadLetters;
    private readonly RedisLeaseSteps _leases;
    private readonly ResultWakeUps _resultWakeUps;
    private readonly RedisStreamOptions _stream;
    private readonly string _start;
    private readonly string _channel;
    private int _groupsDeclared;
    private int _consumerUsed;

    /// <summary>Creates a queue object on a multiplexer the caller owns (one per process), reading as one group.</summary>
    /// <param name="multiplexer">The connection; the queue does not dispose it.</param>
    /// <param name="name">The queue's name (see <see cref="QueueNames"/>).</param>
    /// <param name="options">The queue's options, copied; <see langword="null"/> for the defaults. <see cref="JobQueueOptions.Capacity"/> bounds the deepest group.</param>
    /// <param name="stream">The stream options (the group, history, housekeeping), copied; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock for delays, leases and ages; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Where dead-letter trims and group events are logged; <see langword="null"/> for none.</param>
    /// <param name="database">The Redis database; -1 (the default) for the multiplexer's default.</param>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    public RedisStreamJobQueue(IConnectionMultiplexer multiplexer, string name, JobQueueOptions? options = null, RedisStreamOptions? stream = null, TimeProvider? timeProvider = null, ILogger? logger = null, int database = -1)
        : this(RedisConnection.Share(multiplexer ?? throw new ArgumentNullException(nameof(multiplexer)), logger), disposesConnection: true, name, options, stream, timeProvider, logger, database)
    {
    }

    /// <summary>A queue object on a connection shared by several queues (the DI factory's); <paramref name="disposesConnection"/> when the queue alone uses it.</summary>
    internal RedisStreamJobQueue(RedisConnection connection, bool disposesConnection, string name, JobQueueOptions? options, RedisStreamOptions? stream, TimeProvider? timeProvider, ILogger? logger, int database)
        : base(name, options, timeProvider, logger)
    {
        _stream = (stream ?? new RedisStreamOptions()).ValidatedCopy();
        _start = _stream.NewGroupStart == StreamGroupStart.NewJobs ? "$" : "0";
        Consumer = _stream.Consumer ?? string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..8]}");
        _keys = new RedisStreamKeys(name, _stream.Group);
        _channel = _keys.NotifyChannelName;
        _redis = new RedisScriptRunner(connection, disposesConnection, database, _keys.NotifyChannel, SignalJobsMayBeReady);
        _deadLetters = new RedisDeadLetterStore(_redis, name, _keys.GroupMeta, _keys.Dead, _keys.Attempts);
        _leases = new RedisLeaseSteps(_redis, _keys.GroupMeta, _keys.Active, _keys.Lease, _keys.Attempts);
        _resultWakeUps = new ResultWakeUps(connection, _keys.DoneChannel, () => HasResultWaiters, SignalAllResultWaiters, SignalResultMayBeReady);
    }

    /// <summary>The consumer group this queue object reads as.</summary>
    public string Group => _stream.Group;

    /// <summary>The consumer name this queue object reads as (<c>XREADGROUP</c>).</summary>
    public string Consumer { get; }

    /// <summary>Everything but <see cref="JobQueueCapabilities.Priorities"/>: a stream is one log, delivered in the order it was written.</summary>
    public override JobQueueCapabilities Capabilities => JobQueueCapabilities.All & ~JobQueueCapabilities.Priorities;

    /// <inheritdoc />
    protected override ValueTask EnsureWakeUpsCoreAsync(CancellationToken cancellationToken) => _redis.EnsureSubscribedAsync();

    /// <inheritdoc />
    /// <remarks>Also removes this queue object's consumer from its group when it has nothing pending (a consumer that still holds entries stays: removing it would drop them).</remarks>
    protected override async ValueTask DisposeAsyncCore()
    {
        await StopHousekeepingAsync().ConfigureAwait(false);
        await _resultWakeUps.DisposeAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _consumerUsed) == 1 && _redis.Connection.Ready is not null)
        {
            try
            {
                await TrimAsync(leaving: true).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
            {
                // Best effort: an idle consumer left behind is removed by any later housekeeping.
            }
        }

        await _redis.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _resultWakeUps.Dispose();
        _redis.Dispose();
    }

    private Task<RedisResult> EvalAsync(RedisScript script, RedisKey[] keys, RedisValue[] args) => _redis.EvalAsync(script, keys, args);

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    /// <summary>Logs what a fetch reported about the group: created, or created again after it was lost.</summary>
    private void ReportGroup(long created)
    {
        if (created == 1)
        {
            StreamLog.GroupCreated(Logger, Name, Group, _start == "0" ? "the first retained entry" : "new entries");
        }
        else if (created == 2)
        {
            StreamLog.GroupRecreated(Logger, Name, Group);
        }
    }

    /// <summary>Logs jobs a script found lost (their stream entry deleted outside the library) and dropped.</summary>
    private void ReportLost(IReadOnlyList<string> lost)
    {
        if (lost.Count > 0)
        {
            StreamLog.JobsLost(Logger, Name, Group, lost.Count, lost[0]);
        }
    }
}
