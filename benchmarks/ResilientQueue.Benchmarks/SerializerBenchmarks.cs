using BenchmarkDotNet.Attributes;
using ResilientQueue.Serialization;

namespace ResilientQueue.Benchmarks;

/// <summary>The default serializer (<see cref="SystemTextJsonJobSerializer"/>) on the load test's ~100-byte payload.</summary>
[MemoryDiagnoser]
public class SerializerBenchmarks
{
    private readonly SystemTextJsonJobSerializer _serializer = SystemTextJsonJobSerializer.Default;

    /// <summary>Payload to UTF-8 JSON bytes (what <c>EnqueueObjectAsync</c> does).</summary>
    /// <returns>The bytes.</returns>
    [Benchmark]
    public byte[] Serialize() => _serializer.Serialize(BenchmarkPayload.Value);

    /// <summary>UTF-8 JSON bytes to the payload (what the worker does before each handler call), strict reads.</summary>
    /// <returns>The payload.</returns>
    [Benchmark]
    public BenchmarkPayload Deserialize() => _serializer.Deserialize<BenchmarkPayload>(BenchmarkPayload.Bytes);
}

/// <summary>The load test's payload (benchmarks/ResilientQueue.LoadTest/Payload.cs): about 100 bytes of JSON.</summary>
/// <param name="Url">A URL.</param>
/// <param name="Depth">A small number.</param>
/// <param name="Tenant">A short string.</param>
/// <param name="N">A sample number.</param>
/// <param name="Stamp">A time stamp.</param>
public sealed record BenchmarkPayload(string Url, int Depth, string Tenant, long N, long Stamp)
{
    /// <summary>The payload.</summary>
    public static BenchmarkPayload Value { get; } = new("https://example.org/articles/2026/11/22/some-article", 2, "acme", 12345, 0);

    /// <summary>The payload as the default serializer writes it.</summary>
    public static byte[] Bytes { get; } = SystemTextJsonJobSerializer.Default.Serialize(Value);
}
