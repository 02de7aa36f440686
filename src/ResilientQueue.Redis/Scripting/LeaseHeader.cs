using System.Buffers.Text;
using System.Text;

namespace ResilientQueue.Redis.Scripting;

/// <summary>
/// A leased job's header in a fetch reply (<c>lease_header</c> in <c>_common.lua</c>):
/// <c>"&lt;attempts&gt; &lt;t&gt; &lt;token&gt; &lt;id&gt;"</c>. One reply value instead of four per job: the client parses
/// one bulk string and allocates only the id and the token.
/// </summary>
/// <param name="Attempts">The job's attempts with this fetch counted.</param>
/// <param name="EnteredMs">When the job's stream entry was added (ms), or -1 when the header has no time.</param>
/// <param name="Token">The lease's fencing token.</param>
/// <param name="Id">The job's id (the rest of the header: it may hold any character).</param>
internal readonly record struct LeaseHeader(long Attempts, long EnteredMs, string Token, string Id)
{
    /// <summary>Reads a header.</summary>
    /// <exception cref="FormatException">The value is not a lease header.</exception>
    public static LeaseHeader Parse(ReadOnlyMemory<byte> value)
    {
        ReadOnlySpan<byte> rest = value.Span;
        ReadOnlySpan<byte> attempts = Next(ref rest, value);
        ReadOnlySpan<byte> entered = Next(ref rest, value);
        ReadOnlySpan<byte> token = Next(ref rest, value);
        if (!Utf8Parser.TryParse(attempts, out long a, out int used) || used != attempts.Length || token.IsEmpty || rest.IsEmpty)
        {
            throw Malformed(value);
        }

        long t = -1;
        if (!entered.IsEmpty && (!Utf8Parser.TryParse(entered, out t, out used) || used != entered.Length))
        {
            throw Malformed(value);
        }

        return new LeaseHeader(a, t, Encoding.UTF8.GetString(token), Encoding.UTF8.GetString(rest));
    }

    private static ReadOnlySpan<byte> Next(ref ReadOnlySpan<byte> rest, ReadOnlyMemory<byte> value)
    {
        int space = rest.IndexOf((byte)' ');
        if (space < 0)
        {
            throw Malformed(value);
        }

        ReadOnlySpan<byte> part = rest[..space];
        rest = rest[(space + 1)..];
        return part;
    }

    private static FormatException Malformed(ReadOnlyMemory<byte> value) =>
        new($"A fetch reply held \"{Encoding.UTF8.GetString(value.Span)}\" where a lease header \"<attempts> <t> <token> <id>\" was expected: the script and the library are of different versions.");
}
