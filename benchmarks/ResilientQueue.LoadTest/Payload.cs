using ResilientQueue.Serialization;

namespace ResilientQueue.LoadTest;

/// <summary>
/// The job payload of every scenario: about 100 bytes of JSON (the peers' scripts in benchmarks/peers send the same text).
/// <see cref="N"/> numbers a latency sample and <see cref="Stamp"/> holds its enqueue time (Stopwatch ticks since the run's start).
/// </summary>
/// <param name="Url">A URL, as a crawler's job would carry.</param>
/// <param name="Depth">A small number.</param>
/// <param name="Tenant">A short string.</param>
/// <param name="N">The sample number (latency mode); 12345 otherwise.</param>
/// <param name="Stamp">The enqueue time of a latency sample; 0 otherwise.</param>
internal sealed record Payload(string Url, int Depth, string Tenant, long N, long Stamp)
{
    /// <summary>The throughput scenarios' payload.</summary>
    public static Payload Standard { get; } = new("https://example.org/articles/2026/11/22/some-article", 2, "acme", 12345, 0);

    /// <summary><see cref="Standard"/> as the default serializer writes it.</summary>
    public static byte[] StandardBytes { get; } = SystemTextJsonJobSerializer.Default.Serialize(Standard);

    /// <summary>A latency sample's payload.</summary>
    public static byte[] Sample(long n, long stamp) => SystemTextJsonJobSerializer.Default.Serialize(Standard with { N = n, Stamp = stamp });
}
