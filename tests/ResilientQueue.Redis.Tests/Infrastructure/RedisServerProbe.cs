using System.Diagnostics;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Infrastructure;

/// <summary>Small reads of a server's state for tests (API shared by StackExchange.Redis 1.2.6 and 2.x only).</summary>
public static class RedisServerProbe
{
    /// <summary>PINGs until the connection answers (it reconnects on its own after a restart), for at most <paramref name="timeout"/>.</summary>
    public static async Task PingUntilReconnectedAsync(IDatabase database, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(database);
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await database.PingAsync();
                return;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or RedisServerException && stopwatch.Elapsed < timeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    /// <summary>One configuration parameter (<c>CONFIG GET name</c>), e.g. <c>save</c> or <c>dir</c>.</summary>
    public static async Task<string> ConfigGetAsync(IDatabase database, string name)
    {
        ArgumentNullException.ThrowIfNull(database);
        var reply = (RedisResult[]?)await database.ExecuteAsync("CONFIG", "GET", name);
        if (reply is not { Length: 2 })
        {
            throw new InvalidOperationException($"CONFIG GET {name} did not answer with one name and one value.");
        }

        return (string?)reply[1] ?? string.Empty;
    }

    /// <summary>One field of <c>INFO section</c>, or <see langword="null"/> when the server does not report it.</summary>
    public static async Task<string?> InfoFieldAsync(IDatabase database, string section, string field)
    {
        ArgumentNullException.ThrowIfNull(database);
        var info = (string?)await database.ExecuteAsync("INFO", section) ?? string.Empty;
        return RedisServerFixture.ReadInfoField(info, field);
    }

    /// <summary>
    /// Whether the server runs as the fixture starts it: no persistence configured (<c>save ""</c>,
    /// <c>appendonly no</c>) and no snapshot file in its directory. Returns what differs, or an empty list.
    /// </summary>
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
}
