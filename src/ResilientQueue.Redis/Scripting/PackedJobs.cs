using System.Buffers.Binary;
using System.Text;

namespace ResilientQueue.Redis.Scripting;

/// <summary>
/// Reads the jobs a fetch packed into one bulk string (<c>pack_lease</c> in <c>_common.lua</c>): per job the byte
/// lengths of its header and of its envelope, 4 bytes big-endian each, then the header and the envelope, so both may
/// hold any byte. Every value read is a slice of the packed one: nothing is copied.
/// </summary>
internal struct PackedJobs(ReadOnlyMemory<byte> packed)
{
    private const int LengthsSize = 8;

    private ReadOnlyMemory<byte> _rest = packed;

    /// <summary>Whether every job was read.</summary>
    public readonly bool IsEmpty => _rest.IsEmpty;

    /// <summary>Reads the next job's header and envelope.</summary>
    /// <exception cref="FormatException">The rest is not two lengths and that many bytes.</exception>
    public void NextJob(out ReadOnlyMemory<byte> header, out ReadOnlyMemory<byte> envelope)
    {
        ReadOnlySpan<byte> span = _rest.Span;
        if (span.Length < LengthsSize)
        {
            throw Malformed($"{span.Length} bytes where the two 4-byte lengths of a job were expected");
        }

        uint headerLength = BinaryPrimitives.ReadUInt32BigEndian(span);
        uint envelopeLength = BinaryPrimitives.ReadUInt32BigEndian(span[4..]);
        if ((ulong)headerLength + envelopeLength > (ulong)(span.Length - LengthsSize))
        {
            throw Malformed($"a job of {headerLength} + {envelopeLength} bytes where {span.Length - LengthsSize} were left");
        }

        header = _rest.Slice(LengthsSize, (int)headerLength);
        envelope = _rest.Slice(LengthsSize + (int)headerLength, (int)envelopeLength);
        _rest = _rest[(LengthsSize + (int)headerLength + (int)envelopeLength)..];
    }

    /// <summary>Checks that every packed job was read.</summary>
    /// <param name="jobs">How many jobs were read before this point (for the message).</param>
    /// <exception cref="FormatException">Bytes are left after the last job.</exception>
    public readonly void End(int jobs)
    {
        if (!_rest.IsEmpty)
        {
            throw Malformed($"{_rest.Length} bytes (\"{Encoding.UTF8.GetString(_rest.Span[..Math.Min(_rest.Length, 40)])}\") after the end of its job {jobs}");
        }
    }

    /// <summary>A reply whose packed values held another number of jobs than it said (fewer, or values left over).</summary>
    /// <param name="count">How many jobs the reply said it packed.</param>
    /// <param name="read">How many were read when the values ran out, or <paramref name="count"/> when values were left.</param>
    public static FormatException CountMismatch(int count, int read) =>
        Malformed(read < count ? $"{read} jobs where the reply said {count}" : $"more values than its {count} jobs needed");

    private static FormatException Malformed(string what) =>
        new($"A fetch reply's packed jobs held {what}: the script and the library are of different versions.");
}
