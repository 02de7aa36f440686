using ResilientQueue.Redis.Connections;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

/// <summary>
/// Wakes a queue's producers waiting for results: its subscription to a done channel (<c>{rq:q}:done</c>, or a stream
/// group's), made once for every waiter of the process, whose messages are the ids of jobs that completed or failed for
/// good, separated by spaces, or <c>*</c> (look again, all: results may be gone); and, since messages published while
/// the connection was down are lost, a look-again for every waiter when a lost connection is restored.
/// </summary>
internal sealed class ResultWakeUps : IAsyncDisposable, IDisposable
{
    private readonly RedisConnection _connection;
    private readonly RedisChannel _channel;
    private readonly Func<bool> _hasWaiters;
    private readonly Action _lookAgain;
    private readonly Action<string> _mayBeReady;
    private RedisSubscription? _done;

    /// <param name="connection">The queue's connection.</param>
    /// <param name="channel">The done channel.</param>
    /// <param name="hasWaiters">Whether any producer of this process waits (messages are skipped otherwise).</param>
    /// <param name="lookAgain">Makes every waiter look again.</param>
    /// <param name="mayBeReady">Wakes the waiters of one job.</param>
    public ResultWakeUps(RedisConnection connection, RedisChannel channel, Func<bool> hasWaiters, Action lookAgain, Action<string> mayBeReady)
    {
        _connection = connection;
        _channel = channel;
        _hasWaiters = hasWaiters;
        _lookAgain = lookAgain;
        _mayBeReady = mayBeReady;
        _connection.Restored += _lookAgain;
    }

    /// <summary>Subscribes the done channel once (made again when it failed or the multiplexer was replaced); waits for it.</summary>
    public ValueTask EnsureAsync()
    {
        RedisSubscription done = Volatile.Read(ref _done)
            ?? Interlocked.CompareExchange(ref _done, new RedisSubscription(_connection, _channel, OnDone), null)
            ?? _done!;
        return done.EnsureAsync();
    }

    /// <summary>Stops the look-agains and ends the subscription, if one was made.</summary>
    public async ValueTask DisposeAsync()
    {
        _connection.Restored -= _lookAgain;
        if (_done is not null)
        {
            await _done.UnsubscribeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops the look-agains and ends the subscription, if one was made, synchronously.</summary>
    public void Dispose()
    {
        _connection.Restored -= _lookAgain;
        _done?.Unsubscribe();
    }

    private void OnDone(RedisChannel channel, RedisValue message)
    {
        if (!_hasWaiters())
        {
            return;
        }

        string text = message.ToString();
        if (text == "*")
        {
            _lookAgain();
            return;
        }

        foreach (Range id in text.AsSpan().Split(' '))
        {
            _mayBeReady(text[id]);
        }
    }
}
