using System.Diagnostics;

namespace ResilientQueue.LoadTest;

/// <summary>What this process spent: CPU time (all threads). Allocations are counted by <see cref="AllocationWatch"/>.</summary>
internal readonly record struct ClientStats(TimeSpan Cpu)
{
    public static ClientStats Read()
    {
        using var process = Process.GetCurrentProcess();
        return new ClientStats(process.TotalProcessorTime);
    }

    public static ClientStats operator -(ClientStats after, ClientStats before) => new(after.Cpu - before.Cpu);
}
