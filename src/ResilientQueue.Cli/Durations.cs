using System.Globalization;
using System.CommandLine.Parsing;

namespace ResilientQueue.Cli;

/// <summary>Durations as operators type them: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>2h</c>, <c>1d</c>, <c>1h30m</c>.</summary>
internal static class Durations
{
    public const string Help = "A duration is whole numbers with units, largest first: ms, s, m, h, d (e.g. 500ms, 30s, 5m, 2h, 1d, 1h30m).";

    // Units largest first; a duration names each at most once, in this order.
    private static readonly (string Unit, TimeSpan Size)[] Units =
    [
        ("d", TimeSpan.FromDays(1)),
        ("h", TimeSpan.FromHours(1)),
        ("m", TimeSpan.FromMinutes(1)),
        ("s", TimeSpan.FromSeconds(1)),
        ("ms", TimeSpan.FromMilliseconds(1)),
    ];

    /// <summary>Parses a duration; <see langword="null"/> when the text is not one.</summary>
    public static TimeSpan? TryParse(string text)
    {
        string s = text.Trim().ToLowerInvariant();
        TimeSpan total = TimeSpan.Zero;
        int lastUnit = -1;
        int i = 0;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            int unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }

            int unit = Array.FindIndex(Units, u => s.AsSpan(unitStart, i - unitStart).SequenceEqual(u.Unit));
            if (unitStart == start || unitStart - start > 9 || unit <= lastUnit)
            {
                return null;
            }

            lastUnit = unit;
            long value = long.Parse(s.AsSpan(start, unitStart - start), NumberStyles.None, CultureInfo.InvariantCulture);
            try
            {
                total = checked(total + TimeSpan.FromTicks(checked(value * Units[unit].Size.Ticks)));
            }
            catch (OverflowException)
            {
                return null;
            }
        }

        return lastUnit < 0 ? null : total;
    }

    /// <summary>A custom parser for a duration option that names the bad value.</summary>
    public static TimeSpan? ParseOption(ArgumentResult result, string optionName)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        TimeSpan? duration = TryParse(text);
        if (duration is null)
        {
            result.AddError($"invalid duration '{text}' for {optionName}: use e.g. 30s, 5m, 2h, 1d, 1h30m or 500ms");
        }

        return duration;
    }

    /// <summary>The two largest units of a duration, e.g. <c>1h 30m</c>, <c>45s</c>, <c>850ms</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            duration = TimeSpan.Zero;
        }

        var parts = new List<string>(2);
        void Add(long value, string unit)
        {
            if ((value > 0 || parts.Count > 0) && parts.Count < 2)
            {
                parts.Add(value.ToString(CultureInfo.InvariantCulture) + unit);
            }
        }

        Add((long)duration.TotalDays, "d");
        Add(duration.Hours, "h");
        Add(duration.Minutes, "m");
        Add(duration.Seconds, "s");
        if (parts.Count == 0)
        {
            return duration.Milliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
        }

        return string.Join(' ', parts.Where(p => !p.StartsWith('0') || parts.Count == 1));
    }

    /// <summary>The exact duration in the form <see cref="TryParse"/> reads, e.g. <c>1h30m</c>.</summary>
    public static string Compact(TimeSpan duration)
    {
        var text = new System.Text.StringBuilder();
        long rest = Math.Max(0, (long)duration.TotalMilliseconds);
        foreach ((string unit, TimeSpan size) in Units)
        {
            long ms = (long)size.TotalMilliseconds;
            if (rest >= ms)
            {
                text.Append(CultureInfo.InvariantCulture, $"{rest / ms}{unit}");
                rest %= ms;
            }
        }

        return text.Length == 0 ? "0s" : text.ToString();
    }

    /// <summary>Seconds with millisecond precision, for JSON.</summary>
    public static double Seconds(TimeSpan duration) => Math.Round(duration.TotalSeconds, 3);
}
