using Microsoft.Extensions.Logging;
using ResilientQueue.Backends;
using ResilientQueue.Redis.Connections;
using ResilientQueue.Redis.Scripting;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

/// <summary>
/// A reliable job queue on Redis lists and sorted sets. Every storage step is one Lua script, so a job's transition is
/// atomic with any number of producers, consumers and operators in any number of processes; every key of the queue
/// shares the hash tag <c>{rq:&lt;queue&gt;}</c>, so it works on Redis Cluster. Fetch, ack, fail, renew and release take
/// batches. Idle consumers are woken through pub/sub (and when a lost connection is restored); no blocking command is
/// ever sent on the shared multiplexer. "Now" comes from the <see cref="TimeProvider"/>, never from the server.
/// </summary>
/// <remarks>
/// Use one <see cref="IConnectionMultiplexer"/> per process. Run Redis with <c>maxmemory-policy noeviction</c>: an
/// evicted key is a lost job.
/// </remarks>
public sealed partial class RedisListJobQueue : JobQueueBase
{
    private static readonly RedisValue[] NoValues = [];

    private readonly RedisScriptRunner _redis;
    private readonly RedisKeys _keys;
    private readonly RedisDeadLetterStore _deadLetters;
    private readonly RedisLeaseSteps _leases;
    private readonly ResultWakeUps _resultWakeUps;
    private readonly string _channel;

    /// <summary>Creates a queue on a multiplexer the caller owns (one per process).</summary>
    /// <param name="multiplexer">The connection; the queue does not dispose it.</param>
    /// <param name="name">The queue's name (see <see cref="QueueNames"/>).</param>
    /// <param name="options">The queue's options, copied; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock for delays, leases and ages; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Where dead-letter trims are logged; <see langword="null"/> for none.</param>
    /// <param name="database">The Redis database; -1 (the default) for the multiplexer's default.</param>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    public RedisListJobQueue(IConnectionMultiplexer multiplexer, string name, JobQueueOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null, int database = -1)
        : this(RedisConnection.Share(multiplexer ?? throw new ArgumentNullException(nameof(multiplexer)), logger), disposesConnection: true, name, options, timeProvider, logger, database)
    {
    }

    /// <summary>A queue on a connection shared by several queues (the DI factory's); <paramref name="disposesConnection"/> when the queue alone uses it.</summary>
    internal RedisListJobQueue(RedisConnection connection, bool disposesConnection, string name, JobQueueOptions? options, TimeProvider? timeProvider, ILogger? logger, int database)
        : base(name, options, timeProvider, logger)
    {
        _keys = new RedisKeys(name);
        _channel = _keys.NotifyChannelName;

        _redis = new RedisScriptRunner(connection, disposesConnection, database, _keys.NotifyChannel, SignalJobsMayBeReady);
        _resultWakeUps = new ResultWakeUps(connection, _keys.DoneChannel, () => HasResultWaiters, SignalAllResultWaiters, SignalResultMayBeReady);
        _deadLetters = new RedisDeadLetterStore(_redis, name, _keys.Meta, _keys.Dead, _keys.Attempts);
        _leases = new RedisLeaseSteps(_redis, _keys.Meta, _keys.Active, _keys.Lease, _keys.Attempts);
    }

    /// <summary>
    /// Creates a queue that opens its own connection to Redis and closes it when disposed. The connection is made in
    /// the background and never fails this call because Redis is down or refuses the credentials: operations wait for
    /// it (up to the client's timeout) and then throw <see cref="RedisConnectionException"/> (for refused credentials,
    /// one that says so, naming the endpoint and the user, never the password), and it keeps trying about every half
    /// second, so the queue works as soon as Redis answers.
    /// </summary>
    /// <param name="configuration">A StackExchange.Redis configuration string, e.g. <c>localhost:6379</c> or <c>redis1:6379,user=app,password=…</c>; <c>abortConnect</c> is always off.</param>
    /// <param name="name">The queue's name.</param>
    /// <param name="options">The queue's options; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Where dead-letter trims and connection events are logged; <see langword="null"/> for none.</param>
    /// <returns>The queue, once the first connection attempt has ended (at most the connect timeout, 5 s by default).</returns>
    /// <exception cref="ArgumentException">The configuration string is invalid or names no endpoint, or the name is invalid.</exception>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    /// <remarks>Prefer one shared multiplexer per process and the public constructor when the process has several queues.</remarks>
    public static async Task<RedisListJobQueue> ConnectAsync(string configuration, string name, JobQueueOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        QueueNames.ThrowIfInvalid(name);
        (options ?? new JobQueueOptions()).Validate();
        RedisConnection connection = RedisConnection.Open(configuration, logger, timeProvider);
        await connection.GetAsync().ConfigureAwait(false);
        return new RedisListJobQueue(connection, disposesConnection: true, name, options, timeProvider, logger, database: -1);
    }

    /// <inheritdoc />
    /// <remarks>A failed subscription is retried by the next wait, and one made on a replaced multiplexer is made again.</remarks>
    protected override ValueTask EnsureWakeUpsCoreAsync(CancellationToken cancellationToken) => _redis.EnsureSubscribedAsync();

    /// <inheritdoc />
    protected override async ValueTask DisposeAsyncCore()
    {
        await _resultWakeUps.DisposeAsync().ConfigureAwait(false);
        await _redis.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _resultWakeUps.Dispose();
        _redis.Dispose();
    }

    private Task<RedisResult> EvalAsync(RedisScript script, RedisKey[] keys, RedisValue[] args) => _redis.EvalAsync(script, keys, args);

    /// <summary>Runs one plain command on the queue's keys, with the connection handling of <see cref="RedisScriptRunner.RunAsync"/>.</summary>
    private Task<T> RunAsync<T>(Func<IDatabase, RedisKeys, Task<T>> command) => _redis.RunAsync(db => command(db, _keys));

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();
}
