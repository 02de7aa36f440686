using System.Buffers.Binary;
using System.Text;
using ResilientQueue.Backends;

namespace ResilientQueue.Redis.Lists;

/// <summary>
/// The immutable envelope of a job as one binary string, written once at enqueue:
/// byte 0 format version (1); byte 1 priority; bytes 2–3 max attempts (big-endian); bytes 4–11 enqueued at (Unix ms,
/// big-endian); then traceparent, correlation id and idempotency key, each a big-endian uint16 of (UTF-8 length + 1,
/// 0 for none) and the bytes; then the payload to the end. Scripts read bytes 1–3 with GETRANGE.
/// </summary>
internal static class RedisJobCodec
{
    private const byte Version = 1;
    private const int HeaderLength = 12;

    public static byte[] Encode(in NewJob job)
    {
        long enqueuedAtMs = job.EnqueuedAt.ToUnixTimeMilliseconds();
        int length = HeaderLength + TextLength(job.TraceParent) + TextLength(job.CorrelationId) + TextLength(job.IdempotencyKey) + job.Payload.Length;
        byte[] bytes = new byte[length];
        Span<byte> span = bytes;
        span[0] = Version;
        span[1] = (byte)job.Priority;
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)job.MaxAttempts);
        BinaryPrimitives.WriteInt64BigEndian(span[4..], enqueuedAtMs);
        int at = HeaderLength;
        at += WriteText(span[at..], job.TraceParent);
        at += WriteText(span[at..], job.CorrelationId);
        at += WriteText(span[at..], job.IdempotencyKey);
        job.Payload.CopyTo(span[at..]);
        return bytes;
    }

    public static Envelope Decode(ReadOnlyMemory<byte> bytes)
    {
        ReadOnlySpan<byte> span = bytes.Span;
        if (span.Length < HeaderLength || span[0] != Version)
        {
            throw new FormatException($"A job envelope has an unknown format (length {span.Length}, version {(span.Length > 0 ? span[0] : -1)}).");
        }

        int at = HeaderLength;
        string? traceParent = ReadText(span, ref at);
        string? correlationId = ReadText(span, ref at);
        string? idempotencyKey = ReadText(span, ref at);
        return new Envelope(
            span[1],
            BinaryPrimitives.ReadUInt16BigEndian(span[2..]),
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(span[4..])),
            traceParent,
            correlationId,
            idempotencyKey,
            bytes[at..]);
    }

    private static int TextLength(string? text) => 2 + (text is null ? 0 : Encoding.UTF8.GetByteCount(text));

    private static int WriteText(Span<byte> span, string? text)
    {
        if (text is null)
        {
            BinaryPrimitives.WriteUInt16BigEndian(span, 0);
            return 2;
        }

        int written = Encoding.UTF8.GetBytes(text, span[2..]);
        BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)(written + 1));
        return 2 + written;
    }

    private static string? ReadText(ReadOnlySpan<byte> span, ref int at)
    {
        int lengthPlusOne = BinaryPrimitives.ReadUInt16BigEndian(span[at..]);
        at += 2;
        if (lengthPlusOne == 0)
        {
            return null;
        }

        string text = Encoding.UTF8.GetString(span.Slice(at, lengthPlusOne - 1));
        at += lengthPlusOne - 1;
        return text;
    }

    /// <summary>A decoded envelope; <see cref="Payload"/> shares the bytes it was decoded from.</summary>
    public readonly record struct Envelope(int Priority, int MaxAttempts, DateTimeOffset EnqueuedAt, string? TraceParent, string? CorrelationId, string? IdempotencyKey, ReadOnlyMemory<byte> Payload);
}
