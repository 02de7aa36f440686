using BenchmarkDotNet.Attributes;
using ResilientQueue.Backends;
using ResilientQueue.Redis.Lists;

namespace ResilientQueue.Benchmarks;

/// <summary>
/// The Redis list backend's job envelope (<c>RedisJobCodec</c>, internal): written once per job at enqueue, read once
/// per fetched job. The job carries a traceparent and a correlation id, as a job enqueued under an active trace does.
/// </summary>
[MemoryDiagnoser]
public class RedisJobCodecBenchmarks
{
    private static readonly NewJob Job = new(
        "0193a1b2c3d4e5f60718293a4b5c6d7e",
        BenchmarkPayload.Bytes,
        Priority: 2,
        MaxAttempts: 5,
        EnqueuedAt: DateTimeOffset.FromUnixTimeMilliseconds(1_795_000_000_000),
        AvailableAt: DateTimeOffset.FromUnixTimeMilliseconds(1_795_000_000_000),
        IdempotencyKey: null,
        CorrelationId: "order-42",
        TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

    private static readonly byte[] Encoded = RedisJobCodec.Encode(Job);

    /// <summary>A job to its envelope bytes (enqueue).</summary>
    /// <returns>The envelope.</returns>
    [Benchmark]
    public byte[] Encode() => RedisJobCodec.Encode(Job);

    /// <summary>Envelope bytes to the job's fields (fetch); the payload stays a slice of the bytes read.</summary>
    /// <returns>The payload's length.</returns>
    [Benchmark]
    public int Decode() => RedisJobCodec.Decode(Encoded).Payload.Length;
}
