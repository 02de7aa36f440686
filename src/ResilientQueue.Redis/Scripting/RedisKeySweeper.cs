using StackExchange.Redis;

namespace ResilientQueue.Redis.Scripting;

/// <summary>
/// Deletes the keys of a queue that no structure lists (strings with a TTL: idempotency keys, turns): found with SCAN
/// (MATCH, on the node that serves the queue's slot; queue and group names hold no glob characters) and deleted, at
/// most 1,000 per DEL.
/// </summary>
internal static class RedisKeySweeper
{
    /// <param name="multiplexer">The connection.</param>
    /// <param name="database">The database index (-1 for the multiplexer's default).</param>
    /// <param name="slotKey">A key of the queue, naming its slot.</param>
    /// <param name="patterns">The MATCH patterns.</param>
    /// <param name="cancellationToken">Cancels between pages.</param>
    public static async Task DeleteAsync(IConnectionMultiplexer multiplexer, int database, RedisKey slotKey, IEnumerable<string> patterns, CancellationToken cancellationToken)
    {
        IDatabase db = multiplexer.GetDatabase(database);
        System.Net.EndPoint? endpoint = await db.IdentifyEndpointAsync(slotKey).ConfigureAwait(false);
        IServer server = endpoint is null ? multiplexer.GetServers()[0] : multiplexer.GetServer(endpoint);
        foreach (string pattern in patterns)
        {
            var batch = new List<RedisKey>(1000);
            await foreach (RedisKey key in server.KeysAsync(db.Database, pattern, pageSize: 1000).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                batch.Add(key);
                if (batch.Count == 1000)
                {
                    await db.KeyDeleteAsync([.. batch]).ConfigureAwait(false);
                    batch.Clear();
                }
            }

            if (batch.Count > 0)
            {
                await db.KeyDeleteAsync([.. batch]).ConfigureAwait(false);
            }
        }
    }
}
