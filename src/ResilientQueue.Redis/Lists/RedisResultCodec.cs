using System.Buffers.Binary;
using ResilientQueue.Results;

namespace ResilientQueue.Redis.Lists;

/// <summary>
/// The stored result of a job, one binary string <c>{rq:q}:result:&lt;id&gt;</c> written by <c>complete-5.lua</c>:
/// byte 0 format version (1); bytes 1–8 completed at and 9–16 expires at (Unix ms, big-endian; the caller's clock decides
/// expiry from it, the key's TTL only collects it); then the value to the end.
/// </summary>
internal static class RedisResultCodec
{
    private const byte Version = 1;
    private const int HeaderLength = 17;

    public static byte[] Encode(DateTimeOffset completedAt, DateTimeOffset expiresAt, ReadOnlySpan<byte> value)
    {
        byte[] bytes = new byte[HeaderLength + value.Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1), completedAt.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(9), expiresAt.ToUnixTimeMilliseconds());
        value.CopyTo(bytes.AsSpan(HeaderLength));
        return bytes;
    }

    public static JobResult Decode(string queue, string jobId, byte[] bytes)
    {
        if (bytes.Length < HeaderLength || bytes[0] != Version)
        {
            throw new FormatException($"The stored result of job '{jobId}' of queue '{queue}' has an unknown format (length {bytes.Length}, version {(bytes.Length > 0 ? bytes[0] : -1)}).");
        }

        return new JobResult
        {
            JobId = jobId,
            Queue = queue,
            CompletedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(1))),
            ExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(9))),
            Value = bytes.AsMemory(HeaderLength),
        };
    }
}
