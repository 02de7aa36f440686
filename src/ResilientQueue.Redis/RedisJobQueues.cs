using Microsoft.Extensions.Logging;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Redis.Streams;
using StackExchange.Redis;

namespace ResilientQueue.Redis;

/// <summary>
/// The queues a Redis deployment holds, whatever backend of this package stores each: list them and open one as an
/// <see cref="IJobQueue"/>. Operator tools (the <c>resq</c> CLI, dashboards) use this, so a backend added to the package
/// needs no change in them.
/// </summary>
public static class RedisJobQueues
{
    private const string MetaPattern = "{rq:*}:" + RedisKeys.MetaSuffix;
    private const string MetaPrefix = "{rq:";
    private const string MetaSuffix = "}:" + RedisKeys.MetaSuffix;

    /// <summary>
    /// Lists the queues on every primary of the multiplexer (found by their <c>{rq:&lt;queue&gt;}:meta</c> hash, SCAN,
    /// 1,000 keys a page), sorted by name, at most <paramref name="maxQueues"/>.
    /// </summary>
    /// <param name="multiplexer">The connection.</param>
    /// <param name="database">The database; -1 (the default) for the multiplexer's default.</param>
    /// <param name="maxQueues">The most names to return; 1 to 1,000,000.</param>
    /// <param name="cancellationToken">Cancels the scan.</param>
    /// <returns>The names.</returns>
    public static async Task<IReadOnlyList<string>> ListAsync(IConnectionMultiplexer multiplexer, int database = -1, int maxQueues = 100_000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueues, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxQueues, 1_000_000);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        int db = multiplexer.GetDatabase(database).Database;
        foreach (IServer server in multiplexer.GetServers())
        {
            if (!server.IsConnected || server.IsReplica)
            {
                continue;
            }

            await foreach (RedisKey key in server.KeysAsync(db, MetaPattern, pageSize: 1000).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                string text = key.ToString();
                if (text.Length > MetaPrefix.Length + MetaSuffix.Length && text.StartsWith(MetaPrefix, StringComparison.Ordinal) && text.EndsWith(MetaSuffix, StringComparison.Ordinal)
                    && QueueNames.IsValid(text[MetaPrefix.Length..^MetaSuffix.Length]))
                {
                    names.Add(text[MetaPrefix.Length..^MetaSuffix.Length]);
                    if (names.Count == maxQueues)
                    {
                        return [.. names];
                    }
                }
            }
        }

        return [.. names];
    }

    /// <summary>Whether the queue exists (has its meta hash: it was used, and not cleared since).</summary>
    /// <param name="multiplexer">The connection.</param>
    /// <param name="queueName">The queue.</param>
    /// <param name="database">The database; -1 (the default) for the multiplexer's default.</param>
    /// <returns><see langword="true"/> when it exists.</returns>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    public static Task<bool> ExistsAsync(IConnectionMultiplexer multiplexer, string queueName, int database = -1)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        QueueNames.ThrowIfInvalid(queueName);
        return multiplexer.GetDatabase(database).KeyExistsAsync(new RedisKeys(queueName).Meta);
    }

    /// <summary>
    /// Opens a queue on the multiplexer as a list queue (<see cref="RedisListJobQueue"/>; a queue that does not exist yet
    /// is opened as one). The queue does not dispose the multiplexer. <see cref="OpenAsync"/> opens a queue with the
    /// backend that stores it, stream queues included.
    /// </summary>
    /// <param name="multiplexer">The connection.</param>
    /// <param name="queueName">The queue.</param>
    /// <param name="options">The queue's options; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Where dead-letter trims are logged; <see langword="null"/> for none.</param>
    /// <param name="database">The database; -1 (the default) for the multiplexer's default.</param>
    /// <returns>The queue; dispose it when done (it implements <see cref="IAsyncDisposable"/>).</returns>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    public static IJobQueue Open(IConnectionMultiplexer multiplexer, string queueName, JobQueueOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null, int database = -1) =>
        new RedisListJobQueue(multiplexer, queueName, options, timeProvider, logger, database);

    /// <summary>
    /// Opens a queue with the backend that stores it: a stream queue (its meta hash says <c>kind = stream</c>) as a
    /// <see cref="RedisStreamJobQueue"/> reading as <paramref name="group"/>, any other (or one that does not exist yet)
    /// as a <see cref="RedisListJobQueue"/>. The queue does not dispose the multiplexer.
    /// </summary>
    /// <param name="multiplexer">The connection.</param>
    /// <param name="queueName">The queue.</param>
    /// <param name="group">
    /// For a stream queue, the consumer group to act as; <see langword="null"/> for its only group (or
    /// <see cref="RedisStreamOptions.DefaultGroup"/> when it has none yet). Must be <see langword="null"/> for a list queue.
    /// </param>
    /// <param name="options">The queue's options; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Where dead-letter trims are logged; <see langword="null"/> for none.</param>
    /// <param name="database">The database; -1 (the default) for the multiplexer's default.</param>
    /// <returns>The queue; dispose it when done.</returns>
    /// <exception cref="ArgumentException">The name or the group name is invalid, or a group was given for a list queue.</exception>
    /// <exception cref="InvalidOperationException">The stream queue has several groups and none was given (the message names them).</exception>
    public static async Task<IJobQueue> OpenAsync(IConnectionMultiplexer multiplexer, string queueName, string? group = null, JobQueueOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null, int database = -1)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        QueueNames.ThrowIfInvalid(queueName);
        if (group is not null && !RedisStreamOptions.IsValidGroupName(group))
        {
            throw new ArgumentException($"'{group}' is not a group name: 1 to {RedisStreamOptions.MaxGroupNameLength} ASCII letters, digits, '-', '_' or '.'.", nameof(group));
        }

        IDatabase db = multiplexer.GetDatabase(database);
        if ((string?)await db.HashGetAsync(new RedisKeys(queueName).Meta, "kind").ConfigureAwait(false) != "stream")
        {
            if (group is not null)
            {
                throw new ArgumentException($"Queue '{queueName}' is not a stream queue: it has no consumer groups.", nameof(group));
            }

            return new RedisListJobQueue(multiplexer, queueName, options, timeProvider, logger, database);
        }

        if (group is null)
        {
            IReadOnlyList<string> groups = await ListGroupsAsync(multiplexer, queueName, database).ConfigureAwait(false);
            group = groups.Count switch
            {
                0 => RedisStreamOptions.DefaultGroup,
                1 => groups[0],
                _ => throw new InvalidOperationException($"Queue '{queueName}' is a stream queue read by the groups {string.Join(", ", groups)}: name one."),
            };
        }

        return new RedisStreamJobQueue(multiplexer, queueName, options, new RedisStreamOptions { Group = group }, timeProvider, logger, database);
    }

    /// <summary>The consumer groups of a stream queue that this library created, sorted; none for a list queue.</summary>
    /// <param name="multiplexer">The connection.</param>
    /// <param name="queueName">The queue.</param>
    /// <param name="database">The database; -1 (the default) for the multiplexer's default.</param>
    /// <returns>The group names.</returns>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    public static async Task<IReadOnlyList<string>> ListGroupsAsync(IConnectionMultiplexer multiplexer, string queueName, int database = -1)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        QueueNames.ThrowIfInvalid(queueName);
        RedisValue[] names = await multiplexer.GetDatabase(database).HashKeysAsync(new RedisStreamKeys(queueName, RedisStreamOptions.DefaultGroup).Groups).ConfigureAwait(false);
        return [.. names.Select(n => n.ToString()).Order(StringComparer.Ordinal)];
    }
}
