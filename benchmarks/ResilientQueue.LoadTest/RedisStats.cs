using System.Globalization;
using StackExchange.Redis;

namespace ResilientQueue.LoadTest;

/// <summary>What the server says about its own work: commands executed, main-thread CPU, memory.</summary>
internal readonly record struct RedisStats(long Commands, double CpuSeconds, long UsedMemory, IReadOnlyDictionary<string, long> CommandCalls)
{
    public static async Task<RedisStats> ReadAsync(IDatabase db)
    {
        string commandStats = (string)(await db.ExecuteAsync("INFO", "commandstats").ConfigureAwait(false))!;
        string cpu = (string)(await db.ExecuteAsync("INFO", "cpu").ConfigureAwait(false))!;
        string memory = (string)(await db.ExecuteAsync("INFO", "memory").ConfigureAwait(false))!;
        var calls = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in commandStats.Split('\n'))
        {
            // cmdstat_hset:calls=10,usec=...; the load test's own INFO calls are left out.
            if (!line.StartsWith("cmdstat_", StringComparison.Ordinal) || line.StartsWith("cmdstat_info:", StringComparison.Ordinal))
            {
                continue;
            }

            string name = line[8..line.IndexOf(':', StringComparison.Ordinal)];
            int at = line.IndexOf("calls=", StringComparison.Ordinal) + 6;
            calls[name] = long.Parse(line[at..line.IndexOf(',', at)], CultureInfo.InvariantCulture);
        }

        return new RedisStats(
            calls.Values.Sum(),
            Field(cpu, "used_cpu_sys_main_thread") + Field(cpu, "used_cpu_user_main_thread"),
            (long)Field(memory, "used_memory"),
            calls);
    }

    public static RedisStats operator -(RedisStats after, RedisStats before) => new(
        after.Commands - before.Commands,
        after.CpuSeconds - before.CpuSeconds,
        after.UsedMemory - before.UsedMemory,
        after.CommandCalls.ToDictionary(kv => kv.Key, kv => kv.Value - before.CommandCalls.GetValueOrDefault(kv.Key)));

    private static double Field(string info, string name)
    {
        foreach (string line in info.Split('\n'))
        {
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
            {
                return double.Parse(line[(name.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
