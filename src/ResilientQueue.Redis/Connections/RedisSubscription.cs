using StackExchange.Redis;

namespace ResilientQueue.Redis.Connections;

/// <summary>
/// One pub/sub subscription of a queue, made when first needed and kept for the queue's life: made again when it failed
/// or the connection replaced its multiplexer, and ended when the queue is disposed. StackExchange.Redis carries every
/// subscription of a multiplexer on its one subscriber connection, so however many waiters share it, it costs no
/// connection of its own.
/// </summary>
internal sealed class RedisSubscription(RedisConnection connection, RedisChannel channel, Action<RedisChannel, RedisValue> handler)
{
    private readonly object _gate = new();
    private Task? _subscription;
    private IConnectionMultiplexer? _subscribedOn;

    /// <summary>Subscribes unless subscribed on the connection's current multiplexer; waits for the subscription.</summary>
    public async ValueTask EnsureAsync()
    {
        IConnectionMultiplexer multiplexer = await connection.GetAsync().ConfigureAwait(false);
        Task subscription;
        lock (_gate)
        {
            if (_subscription is null || _subscription.IsFaulted || _subscription.IsCanceled || !ReferenceEquals(_subscribedOn, multiplexer))
            {
                _subscription = multiplexer.GetSubscriber().SubscribeAsync(channel, handler);
                _subscribedOn = multiplexer;
            }

            subscription = _subscription;
        }

        try
        {
            await subscription.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && connection.CredentialsRejected(ex) is { } rejected)
        {
            throw rejected;
        }
    }

    /// <summary>Ends the subscription, if one was made.</summary>
    public async ValueTask UnsubscribeAsync()
    {
        if (_subscription is not null && _subscribedOn is { } multiplexer)
        {
            try
            {
                await multiplexer.GetSubscriber().UnsubscribeAsync(channel, handler).ConfigureAwait(false);
            }
            catch (RedisException)
            {
                // The connection is gone; so is the subscription.
            }
        }
    }

    /// <summary>Ends the subscription, if one was made, synchronously.</summary>
    public void Unsubscribe()
    {
        if (_subscription is not null && _subscribedOn is { } multiplexer)
        {
            try
            {
                multiplexer.GetSubscriber().Unsubscribe(channel, handler);
            }
            catch (RedisException)
            {
                // The connection is gone; so is the subscription.
            }
        }
    }
}
