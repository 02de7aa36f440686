using System.Diagnostics;

namespace ResilientQueue.LoadTest;

/// <summary>What this process spent: CPU time (all threads) and bytes allocated (all threads, precise).</summary>
internal readonly record struct ClientStats(TimeSpan Cpu, long AllocatedBytes)
{
    public static ClientStats Read()
    {
        using var process = Process.GetCurrentProcess();
        return new ClientStats(process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: true));
    }

    public static ClientStats operator -(ClientStats after, ClientStats before) =>
        new(after.Cpu - before.Cpu, after.AllocatedBytes - before.AllocatedBytes);
}
