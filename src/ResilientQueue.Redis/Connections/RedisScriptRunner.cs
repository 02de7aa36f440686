using ResilientQueue.Redis.Scripting;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Connections;

/// <summary>
/// How a queue talks to Redis: its scripts run by SHA-1 (the text sent once more on NOSCRIPT), plain commands, and a
/// pub/sub subscription that wakes its idle consumers, all on one <see cref="RedisConnection"/>, with the connection's
/// refused-credentials error in place of a bare "no connection". No blocking command is ever sent.
/// </summary>
internal sealed class RedisScriptRunner : IAsyncDisposable, IDisposable
{
    private readonly RedisConnection _connection;
    private readonly bool _disposesConnection;
    private readonly int _database;
    private readonly RedisSubscription _notify;
    private readonly Action _wake;
    private Database? _db;

    /// <param name="connection">The connection.</param>
    /// <param name="disposesConnection">Whether disposing this disposes the connection (the queue alone uses it).</param>
    /// <param name="database">The database; -1 for the multiplexer's default.</param>
    /// <param name="channel">The channel whose messages call <paramref name="wake"/>.</param>
    /// <param name="wake">Wakes the queue's waiting consumers: on a message, and when a lost connection is restored (nudges published meanwhile are lost).</param>
    public RedisScriptRunner(RedisConnection connection, bool disposesConnection, int database, RedisChannel channel, Action wake)
    {
        _connection = connection;
        _disposesConnection = disposesConnection;
        _database = database;
        _wake = wake;
        _notify = new RedisSubscription(connection, channel, (_, _) => wake());
        _connection.Restored += _wake;
    }

    /// <summary>The connection.</summary>
    public RedisConnection Connection => _connection;

    /// <summary>The database index given (-1 for the multiplexer's default).</summary>
    public int DatabaseIndex => _database;

    /// <summary>
    /// Runs a script by its SHA-1 (EVALSHA, the script text is not sent); when the server does not have it yet (a new
    /// or restarted server, or its script cache was flushed) the NOSCRIPT reply is answered by sending the text once
    /// more, which the client loads on that server and then runs by hash.
    /// </summary>
    public async Task<RedisResult> EvalAsync(RedisScript script, RedisKey[] keys, RedisValue[] args)
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
    public async Task<T> RunAsync<T>(Func<IDatabase, Task<T>> command)
    {
        IDatabase db = CurrentDatabase() ?? await ConnectDatabaseAsync().ConfigureAwait(false);
        try
        {
            return await command(db).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && _connection.CredentialsRejected(ex) is { } rejected)
        {
            throw rejected;
        }
    }

    /// <summary>Subscribes to the channel if this multiplexer is not subscribed yet (a failed subscription is made again by the next call).</summary>
    public ValueTask EnsureSubscribedAsync() => _notify.EnsureAsync();

    /// <summary>Unsubscribes, and disposes the connection when this owns it.</summary>
    public async ValueTask DisposeAsync()
    {
        _connection.Restored -= _wake;
        await _notify.UnsubscribeAsync().ConfigureAwait(false);
        if (_disposesConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Unsubscribes, and disposes the connection when this owns it, synchronously.</summary>
    public void Dispose()
    {
        _connection.Restored -= _wake;
        _notify.Unsubscribe();
        if (_disposesConnection)
        {
            _connection.Dispose();
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

    /// <summary>A database and the multiplexer it belongs to (an opened connection may replace its multiplexer).</summary>
    private sealed record Database(IConnectionMultiplexer Owner, IDatabase Value);
}
