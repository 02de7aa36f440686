using System.Text;

namespace ResilientQueue.Redis.Tests.Infrastructure;

/// <summary>
/// Computes the Redis Cluster hash slot of a key, exactly as Redis does (<c>keyHashSlot</c> in
/// <c>cluster.c</c>): CRC16-XMODEM of the key's UTF-8 bytes, modulo 16384.
/// </summary>
/// <remarks>
/// Hash tags follow the Redis rule literally: only the <em>first</em> <c>{</c> of the key counts, and only
/// the first <c>}</c> after it closes the tag. When that tag is non-empty, only the bytes between the two
/// braces are hashed; when there is no <c>{</c>, no <c>}</c> after it, or the first tag is empty (<c>{}</c>),
/// the whole key is hashed. So <c>{}{a}</c> hashes the whole key, <c>{{a}}</c> hashes <c>{a</c>, and
/// <c>{a}{b}</c> hashes <c>a</c>.
/// </remarks>
public static class RedisClusterSlot
{
    /// <summary>The number of hash slots of a Redis Cluster.</summary>
    public const int SlotCount = 16384;

    private static readonly ushort[] Crc16Table = CreateCrc16Table();

    /// <summary>Returns the hash slot (0 to 16383) of <paramref name="key"/>, encoded as UTF-8 like StackExchange.Redis does.</summary>
    public static int Of(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Of(Encoding.UTF8.GetBytes(key));
    }

    /// <summary>Returns the hash slot (0 to 16383) of the raw key bytes <paramref name="key"/>.</summary>
    public static int Of(ReadOnlySpan<byte> key)
    {
        var open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            var length = key[(open + 1)..].IndexOf((byte)'}');
            if (length > 0)
            {
                return Crc16(key.Slice(open + 1, length)) & (SlotCount - 1);
            }
        }

        return Crc16(key) & (SlotCount - 1);
    }

    /// <summary>CRC16-XMODEM (CCITT polynomial 0x1021, initial value 0, no reflection, no final XOR).</summary>
    internal static ushort Crc16(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (var value in data)
        {
            crc = (ushort)((crc << 8) ^ Crc16Table[((crc >> 8) ^ value) & 0xFF]);
        }

        return crc;
    }

    private static ushort[] CreateCrc16Table()
    {
        const int Polynomial = 0x1021;
        var table = new ushort[256];
        for (var i = 0; i < table.Length; i++)
        {
            var crc = i << 8;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ Polynomial : crc << 1;
            }

            table[i] = (ushort)crc;
        }

        return table;
    }
}
