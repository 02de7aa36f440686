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

    private readonly RedisConnection _connection;
    private readonly bool _disposesConnection;
    private readonly int _database;
    private readonly RedisKeys _keys;
    private readonly string _channel;
    private readonly Action<RedisChannel, RedisValue> _onNotify;
    private readonly object _subscriptionGate = new();
    private Database? _db;
    private Task? _subscription;
    private IConnectionMultiplexer? _subscribedOn;

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
        _connection = connection;
        _disposesConnection = disposesConnection;
        _database = database;
        _keys = new RedisKeys(name);
        _channel = _keys.NotifyChannelName;
        _onNotify = (_, _) => SignalJobsMayBeReady();

        // Nudges published while the connection was down are lost: a restored connection wakes idle consumers, and
        // makes producers waiting for results look again.
        _connection.Restored += SignalJobsMayBeReady;
        _connection.Restored += SignalAllResultWaiters;
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
    protected override async ValueTask EnsureWakeUpsCoreAsync(CancellationToken cancellationToken)
    {
        IConnectionMultiplexer multiplexer = await _connection.GetAsync().ConfigureAwait(false);
        Task subscription;
        lock (_subscriptionGate)
        {
            // A failed subscription is retried by the next wait, and one made on a replaced multiplexer is made again.
            if (_subscription is null || _subscription.IsFaulted || _subscription.IsCanceled || !ReferenceEquals(_subscribedOn, multiplexer))
            {
                _subscription = multiplexer.GetSubscriber().SubscribeAsync(_keys.NotifyChannel, _onNotify);
                _subscribedOn = multiplexer;
            }

            subscription = _subscription;
        }

        try
        {
            await subscription.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && _connection.CredentialsRejected(ex) is { } rejected)
        {
            throw rejected;
        }
    }

    /// <inheritdoc />
    protected override async ValueTask DisposeAsyncCore()
    {
        _connection.Restored -= SignalJobsMayBeReady;
        _connection.Restored -= SignalAllResultWaiters;
        if (_done is not null)
        {
            await _done.UnsubscribeAsync().ConfigureAwait(false);
        }

        if (_subscription is not null && _subscribedOn is { } multiplexer)
        {
            try
            {
                await multiplexer.GetSubscriber().UnsubscribeAsync(_keys.NotifyChannel, _onNotify).ConfigureAwait(false);
            }
            catch (RedisException)
            {
                // The connection is gone; so is the subscription.
            }
        }

        if (_disposesConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _connection.Restored -= SignalJobsMayBeReady;
        _connection.Restored -= SignalAllResultWaiters;
        _done?.Unsubscribe();
        if (_subscription is not null && _subscribedOn is { } multiplexer)
        {
            try
            {
                multiplexer.GetSubscriber().Unsubscribe(_keys.NotifyChannel, _onNotify);
            }
            catch (RedisException)
            {
                // The connection is gone; so is the subscription.
            }
        }

        if (_disposesConnection)
        {
            _connection.Dispose();
        }
    }

    /// <summary>
    /// Runs a script by its SHA-1 (EVALSHA, the script text is not sent); when the server does not have it yet (a new
    /// or restarted server, or its script cache was flushed) the NOSCRIPT reply is answered by sending the text once
    /// more, which the client loads on that server (SCRIPT LOAD) and then runs by hash.
    /// </summary>
    private async Task<RedisResult> EvalAsync(RedisScript script, RedisKey[] keys, RedisValue[] args)
    {
        System.Diagnostics.Debug.Assert(keys.Length == script.KeyCount, $"{script.Name} takes {script.KeyCount} keys, got {keys.Length}");
        IDatabase db = CurrentDatabase() ?? await ConnectDatabaseAsync().ConfigureAwait(false);
        try
        {
            try
            {
                return await db.ScriptEvaluateAsync(script.Sha1, keys, args).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
            {
                // EVALSHA answered NOSCRIPT without running anything, so running the script now is safe.
                return await db.ScriptEvaluateAsync(script.Text, keys, args).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && _connection.CredentialsRejected(ex) is { } rejected)
        {
            throw rejected;
        }
    }

    /// <summary>Runs one plain command, with the same connection handling as <see cref="EvalAsync"/>.</summary>
    private async Task<T> RunAsync<T>(Func<IDatabase, RedisKeys, Task<T>> command)
    {
        IDatabase db = CurrentDatabase() ?? await ConnectDatabaseAsync().ConfigureAwait(false);
        try
        {
            return await command(db, _keys).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && _connection.CredentialsRejected(ex) is { } rejected)
        {
            throw rejected;
        }
    }

    /// <summary>The database of the connection's current multiplexer when it may be used now (the hot path: two reads), else <see langword="null"/>.</summary>
    private IDatabase? CurrentDatabase()
    {
        Database? db = _db;
        return db is not null && ReferenceEquals(db.Owner, _connection.Ready) ? db.Value : null;
    }

    /// <summary>Waits for the connection (or throws its refused-credentials error) and caches the database of its multiplexer.</summary>
    private async Task<IDatabase> ConnectDatabaseAsync()
    {
        IConnectionMultiplexer multiplexer = await _connection.GetAsync().ConfigureAwait(false);
        var db = new Database(multiplexer, multiplexer.GetDatabase(_database));
        _db = db;
        return db.Value;
    }

    private static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    /// <summary>A database and the multiplexer it belongs to (an opened connection may replace its multiplexer).</summary>
    private sealed record Database(IConnectionMultiplexer Owner, IDatabase Value);
}
