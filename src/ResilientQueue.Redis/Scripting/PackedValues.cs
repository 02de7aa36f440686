using System.Buffers.Text;
using System.Text;

namespace ResilientQueue.Redis.Scripting;

/// <summary>
/// Reads the values a script packed into one bulk string (<c>pack_lease</c> in <c>_common.lua</c>): each value is
/// <c>"&lt;byte length&gt;:&lt;bytes&gt;"</c>, so a value may hold any byte. Every value read is a slice of the packed
/// one: nothing is copied.
/// </summary>
internal struct PackedValues(ReadOnlyMemory<byte> packed)
{
    // The longest length prefix read: 10 digits is more than any reply Redis sends (its bulk strings stop at 512 MB).
    private const int MaxDigits = 10;

    private ReadOnlyMemory<byte> _rest = packed;

    /// <summary>The next value.</summary>
    /// <exception cref="FormatException">The rest is not a length, a colon and that many bytes.</exception>
    public ReadOnlyMemory<byte> Next()
    {
        ReadOnlySpan<byte> span = _rest.Span;
        int colon = span[..Math.Min(span.Length, MaxDigits + 1)].IndexOf((byte)':');
        if (colon <= 0 || !Utf8Parser.TryParse(span[..colon], out int length, out int used) || used != colon || length < 0 || length > span.Length - colon - 1)
        {
            throw Malformed($"\"{Preview(span)}\" where \"<length>:<bytes>\" was expected");
        }

        ReadOnlyMemory<byte> value = _rest.Slice(colon + 1, length);
        _rest = _rest[(colon + 1 + length)..];
        return value;
    }

    /// <summary>Whether every value was read.</summary>
    public readonly bool IsEmpty => _rest.IsEmpty;

    /// <summary>Checks that every packed value was read.</summary>
    /// <param name="jobs">How many jobs were read before this point (for the message).</param>
    /// <exception cref="FormatException">Bytes are left after the last value.</exception>
    public readonly void End(int jobs)
    {
        if (!_rest.IsEmpty)
        {
            throw Malformed($"{_rest.Length} bytes (\"{Preview(_rest.Span)}\") after the end of its job {jobs}");
        }
    }

    /// <summary>A reply whose packed values held another number of jobs than it said.</summary>
    /// <param name="count">How many jobs the reply said it packed.</param>
    /// <param name="read">How many were read when the values ran out, or <paramref name="count"/> when values were left.</param>
    public static FormatException TooFew(int count, int read) =>
        Malformed(read < count ? $"{read} jobs where the reply said {count}" : $"more values than its {count} jobs needed");

    private static string Preview(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 40)]);

    private static FormatException Malformed(string what) =>
        new($"A fetch reply's packed jobs held {what}: the script and the library are of different versions.");
}
