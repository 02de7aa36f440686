using System.Globalization;
using StackExchange.Redis;

namespace ResilientQueue.LoadTest;

/// <summary>
/// What the server says about its own work (<c>INFO commandstats</c>, <c>cpu</c>, <c>memory</c>), read with
/// StackExchange.Redis's typed <see cref="IServer.InfoAsync"/>. Commands count every call the server ran, including
/// those a script ran; the INFO calls of the load test itself are left out.
/// </summary>
internal readonly record struct RedisStats(long Commands, double CpuSeconds, long UsedMemory, IReadOnlyDictionary<string, long> CommandCalls)
{
    public static async Task<RedisStats> ReadAsync(IServer server)
    {
        IGrouping<string, KeyValuePair<string, string>>[] commandStats = await server.InfoAsync("commandstats").ConfigureAwait(false);
        IGrouping<string, KeyValuePair<string, string>>[] cpu = await server.InfoAsync("cpu").ConfigureAwait(false);
        IGrouping<string, KeyValuePair<string, string>>[] memory = await server.InfoAsync("memory").ConfigureAwait(false);
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (KeyValuePair<string, string> stat in commandStats.SelectMany(g => g))
        {
            // cmdstat_hset -> calls=10,usec=...
            if (!stat.Key.StartsWith("cmdstat_", StringComparison.Ordinal) || stat.Key == "cmdstat_info")
            {
                continue;
            }

            string value = stat.Value;
            int at = value.IndexOf("calls=", StringComparison.Ordinal) + 6;
            int end = value.IndexOf(',', at);
            calls[stat.Key[8..]] = long.Parse(value.AsSpan(at, (end < 0 ? value.Length : end) - at), CultureInfo.InvariantCulture);
        }

        Dictionary<string, string> cpuFields = cpu.SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);

        // The main thread's CPU where the server reports it (Redis 6.2+), else the whole process's.
        double cpuSeconds = cpuFields.ContainsKey("used_cpu_sys_main_thread")
            ? Number(cpuFields, "used_cpu_sys_main_thread") + Number(cpuFields, "used_cpu_user_main_thread")
            : Number(cpuFields, "used_cpu_sys") + Number(cpuFields, "used_cpu_user");
        long usedMemory = (long)Number(memory.SelectMany(g => g).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), "used_memory");
        return new RedisStats(calls.Values.Sum(), cpuSeconds, usedMemory, calls);
    }

    public static RedisStats operator -(RedisStats after, RedisStats before) => new(
        after.Commands - before.Commands,
        after.CpuSeconds - before.CpuSeconds,
        after.UsedMemory - before.UsedMemory,
        after.CommandCalls.ToDictionary(kv => kv.Key, kv => kv.Value - before.CommandCalls.GetValueOrDefault(kv.Key), StringComparer.Ordinal));

    /// <summary>The kinds of command that made up at least 0.005 per job, most first: <c>evalsha 0.01, hset 0.01</c>.</summary>
    public string Breakdown(long jobs) =>
        string.Join(", ", CommandCalls.Where(kv => kv.Value / (double)jobs >= 0.005).OrderByDescending(kv => kv.Value)
            .Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value / (double)jobs:0.##}")));

    private static double Number(Dictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out string? text) ? double.Parse(text, CultureInfo.InvariantCulture) : 0;
}
