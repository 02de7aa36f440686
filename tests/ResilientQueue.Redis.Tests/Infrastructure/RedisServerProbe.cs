using ResilientQueue.Testing.Redis;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Infrastructure;

/// <summary>
/// Small reads of the state of the server behind a test's <see cref="IDatabase"/> (a connection to one server), through
/// the typed StackExchange.Redis calls of <see cref="RedisServerInfo"/>.
/// </summary>
public static class RedisServerProbe
{
    /// <summary>PINGs until the connection answers (it reconnects on its own after a restart), for at most <paramref name="timeout"/>.</summary>
    public static Task PingUntilReconnectedAsync(IDatabase database, TimeSpan timeout) => RedisServerInfo.PingUntilReconnectedAsync(database, timeout);

    /// <summary>One configuration parameter (<c>CONFIG GET name</c>), e.g. <c>save</c> or <c>dir</c>.</summary>
    public static Task<string> ConfigGetAsync(IDatabase database, string name) => RedisServerInfo.ConfigGetAsync(ServerOf(database), name);

    /// <summary>One field of <c>INFO section</c>, or <see langword="null"/> when the server does not report it.</summary>
    public static Task<string?> InfoFieldAsync(IDatabase database, string section, string field) =>
        RedisServerInfo.InfoFieldAsync(ServerOf(database), section, field);

    /// <summary>
    /// Whether the server runs as the fixture starts it: no persistence configured (<c>save ""</c>,
    /// <c>appendonly no</c>) and no snapshot file in its directory. Returns what differs, or an empty list.
    /// </summary>
    /// <remarks>The snapshot file is looked for on this machine: a container's directory is mounted at the same path.</remarks>
    public static async Task<IReadOnlyList<string>> PersistenceProblemsAsync(IDatabase database)
    {
        var problems = new List<string>();
        var save = await ConfigGetAsync(database, "save");
        if (save.Length != 0)
        {
            problems.Add($"save is '{save}', not empty");
        }

        var appendOnly = await ConfigGetAsync(database, "appendonly");
        if (appendOnly != "no")
        {
            problems.Add($"appendonly is '{appendOnly}', not 'no'");
        }

        var snapshot = Path.Combine(await ConfigGetAsync(database, "dir"), await ConfigGetAsync(database, "dbfilename"));
        if (File.Exists(snapshot))
        {
            problems.Add($"the snapshot file {snapshot} exists");
        }

        return problems;
    }

    private static IServer ServerOf(IDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        return RedisServerInfo.SingleServer(database.Multiplexer);
    }
}
