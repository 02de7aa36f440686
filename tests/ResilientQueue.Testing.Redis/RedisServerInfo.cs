using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace ResilientQueue.Testing.Redis;

/// <summary>Small reads of one server's state through the typed StackExchange.Redis API (RESP2 and RESP3 alike).</summary>
public static class RedisServerInfo
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>One field of <c>INFO <paramref name="section"/></c> (<see cref="IServer.InfoAsync"/>), or <see langword="null"/> when the server does not report it.</summary>
    public static async Task<string?> InfoFieldAsync(IServer server, string section, string field)
    {
        ArgumentNullException.ThrowIfNull(server);
        var info = await server.InfoAsync(section).ConfigureAwait(false);
        return info.SelectMany(group => group).Where(pair => pair.Key == field).Select(pair => pair.Value).FirstOrDefault();
    }

    /// <summary>One configuration parameter (<c>CONFIG GET name</c> through <see cref="IServer.ConfigGetAsync"/>), e.g. <c>save</c> or <c>dir</c>.</summary>
    /// <exception cref="InvalidOperationException">The server has no such parameter.</exception>
    public static async Task<string> ConfigGetAsync(IServer server, string name)
    {
        ArgumentNullException.ThrowIfNull(server);
        var pairs = await server.ConfigGetAsync(name).ConfigureAwait(false);
        foreach (var pair in pairs)
        {
            if (string.Equals(pair.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return pair.Value;
            }
        }

        throw new InvalidOperationException($"CONFIG GET {name} on {server.EndPoint} returned no such parameter.");
    }

    /// <summary>
    /// The server's <c>run_id</c> (<c>INFO server</c>): a random id the server draws at every start, so it tells two runs
    /// apart even when both have the same process id (a container's redis-server is always process 1).
    /// </summary>
    public static async Task<string> RunIdAsync(IServer server) =>
        await InfoFieldAsync(server, "server", "run_id").ConfigureAwait(false)
        ?? throw new InvalidOperationException($"INFO server on {server.EndPoint} reports no run_id.");

    /// <summary>
    /// The text of a reply: a simple, bulk or (RESP3) verbatim string, whose <c>txt:</c>/<c>mkd:</c> format prefix is
    /// dropped (<see cref="RedisResult.ToString(out string?)"/>), so <c>CLUSTER INFO</c> or <c>LATENCY DOCTOR</c> read the
    /// same on both protocols.
    /// </summary>
    public static string? Text(RedisResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.IsNull ? null : result.ToString(out _);
    }

    /// <summary>
    /// The <c>name:value</c> fields of an INFO-style text reply that StackExchange.Redis has no typed call for
    /// (<c>CLUSTER INFO</c>); <c>#</c> headings and blank lines are skipped.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ParseFields(string? text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in (text ?? string.Empty).Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[0] != '#')
            {
                fields[line[..colon]] = line[(colon + 1)..];
            }
        }

        return fields;
    }

    /// <summary><c>CLUSTER INFO</c> of exactly <paramref name="server"/>, as fields (<c>cluster_state</c>, <c>cluster_slots_assigned</c>, ...).</summary>
    public static async Task<IReadOnlyDictionary<string, string>> ClusterInfoAsync(IServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        return ParseFields(Text(await server.ExecuteAsync("CLUSTER", "INFO").ConfigureAwait(false)));
    }

    /// <summary>
    /// PINGs until the connection answers (it reconnects on its own after a restart), for at most <paramref name="timeout"/>;
    /// the last failure is thrown when it never does.
    /// </summary>
    public static async Task PingUntilReconnectedAsync(IDatabase database, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(database);
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await database.PingAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or RedisServerException && stopwatch.Elapsed < timeout)
            {
                await Task.Delay(PollInterval).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The one server behind a connection to a single (non-cluster) server.</summary>
    /// <exception cref="InvalidOperationException">The connection has more than one endpoint.</exception>
    public static IServer SingleServer(IConnectionMultiplexer multiplexer)
    {
        ArgumentNullException.ThrowIfNull(multiplexer);
        var endPoints = multiplexer.GetEndPoints(configuredOnly: true);
        return endPoints.Length == 1
            ? multiplexer.GetServer(endPoints[0])
            : throw new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"Expected a connection to one server, not {endPoints.Length} ({string.Join(", ", endPoints.Select(e => e.ToString()))})."));
    }
}
