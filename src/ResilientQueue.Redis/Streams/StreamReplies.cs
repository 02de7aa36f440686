using System.Globalization;
using ResilientQueue.Backends;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

/// <summary>Reads the parts of the stream scripts' replies that several steps share.</summary>
internal static class StreamReplies
{
    /// <summary>The dead-letter trims a script reports: {id, "age"|"count", dead at (ms), dead reason} each.</summary>
    public static DeadLetterTrim[] Trims(RedisResult[] trimmed)
    {
        var trims = new DeadLetterTrim[trimmed.Length];
        for (int i = 0; i < trims.Length; i++)
        {
            RedisResult[] e = (RedisResult[])trimmed[i]!;
            DateTimeOffset? at = long.TryParse((string?)e[2], NumberStyles.None, CultureInfo.InvariantCulture, out long ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
            trims[i] = new DeadLetterTrim((string)e[0]!, (string)e[1]!, at, (string?)e[3]);
        }

        return trims;
    }

    /// <summary>The strings of an array reply.</summary>
    public static string[] Strings(RedisResult reply) => Array.ConvertAll((RedisResult[])reply!, r => (string)r!);
}
