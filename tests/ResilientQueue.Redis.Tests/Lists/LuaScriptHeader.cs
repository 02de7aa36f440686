using System.Globalization;
using System.Text.RegularExpressions;
using ResilientQueue.Redis.Scripting;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// The header comment (<c>--[[ ... ]]</c>) of one embedded script, as written (includes not expanded), and what it
/// documents: its KEYS (index, role, type, key), the keys it derives from KEYS[1]'s prefix, ARGV and return values.
/// </summary>
internal sealed partial class LuaScriptHeader
{
    /// <summary>How headers write a queue's key prefix: <c>{rq:q}:</c>.</summary>
    public const string PrefixPlaceholder = "{rq:q}:";

    private LuaScriptHeader(string name, string header, string body)
    {
        Name = name;
        Header = header;
        Body = body;
        var lines = header.Split('\n').Select(line => line.TrimEnd('\r')).ToList();
        KeyLines = lines.Where(line => KeysIndex().IsMatch(line)).ToList();
        KeyIndexes = KeyLines.Select(line => int.Parse(KeysIndex().Match(line).Groups[1].ValueSpan, CultureInfo.InvariantCulture)).ToList();
        Keys = KeyLines
            .Select(line => KeyLine().Match(line))
            .Where(match => match.Success)
            .Select(match => new DocumentedKey(
                int.Parse(match.Groups["index"].ValueSpan, CultureInfo.InvariantCulture),
                match.Groups["role"].Value,
                match.Groups["type"].Value,
                match.Groups["key"].Value))
            .GroupBy(key => key.Index)
            .ToDictionary(group => group.Key, group => group.First());
        Derived = lines
            .Where(line => !KeysIndex().IsMatch(line))
            .SelectMany(line => DerivedKeyText().Matches(line))
            .Select(match => new DerivedKey(match.Groups["type"].Value, match.Groups["key"].Value))
            .Distinct()
            .ToList();
    }

    /// <summary>The script's name, e.g. <c>fetch-5</c>.</summary>
    public string Name { get; }

    /// <summary>The header comment, from <c>--[[</c> to <c>]]</c>.</summary>
    public string Header { get; }

    /// <summary>Everything after the header, as written (a <c>--!include</c> line is not expanded).</summary>
    public string Body { get; }

    /// <summary>The header lines that mention <c>KEYS[i]</c>.</summary>
    public IReadOnlyList<string> KeyLines { get; }

    /// <summary>The i of every <c>KEYS[i]</c> line, in order.</summary>
    public IReadOnlyList<int> KeyIndexes { get; }

    /// <summary>The KEYS lines in the documented form <c>KEYS[i] role type {rq:q}:name</c>, by index.</summary>
    public IReadOnlyDictionary<int, DocumentedKey> Keys { get; }

    /// <summary>The keys the header says the script derives from the prefix (on its non-KEYS lines), e.g. <c>hash {rq:q}:x:&lt;id&gt;</c>.</summary>
    public IReadOnlyList<DerivedKey> Derived { get; }

    /// <summary>The number in the script's name: how many KEYS it takes.</summary>
    public int KeyCountFromName => int.Parse(Name.AsSpan(Name.LastIndexOf('-') + 1), NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>Reads and parses the header of the embedded script <paramref name="name"/> (e.g. <c>fetch-5</c>).</summary>
    public static LuaScriptHeader Parse(string name) => Parse(name, LuaScripts.ReadRaw(name + ".lua"));

    /// <summary>Parses the header of the script <paramref name="name"/> whose text, as written, is <paramref name="raw"/>.</summary>
    public static LuaScriptHeader Parse(string name, string raw)
    {
        if (!raw.StartsWith("--[[", StringComparison.Ordinal))
        {
            throw new FormatException($"{name}.lua does not start with a --[[ header comment.");
        }

        var end = raw.IndexOf("]]", StringComparison.Ordinal);
        if (end < 0)
        {
            throw new FormatException($"{name}.lua has no end (]]) to its header comment.");
        }

        return new LuaScriptHeader(name, raw[..(end + 2)], raw[(end + 2)..]);
    }

    [GeneratedRegex(@"KEYS\[(\d+)\]")]
    internal static partial Regex KeysIndex();

    [GeneratedRegex(@"^\s*KEYS\[(?<index>\d+)\]\s+(?<role>\w+)\s+(?<type>hash|list|zset|set|string|stream)\s+(?<key>\{rq:q\}:\S+)")]
    private static partial Regex KeyLine();

    // "derived  string {rq:q}:job:<id>;  hash {rq:q}:x:<id> (v)": every "<type> {rq:q}:<name>" on a line that is not a KEYS line.
    [GeneratedRegex(@"\b(?<type>hash|list|zset|set|string|stream)\s+(?<key>\{rq:q\}:[^\s;,()]+)")]
    private static partial Regex DerivedKeyText();
}

/// <summary>One documented KEYS entry, e.g. <c>KEYS[2] ready list {rq:q}:ready</c>.</summary>
internal sealed record DocumentedKey(int Index, string Role, string Type, string Pattern);

/// <summary>One documented derived key, e.g. <c>hash {rq:q}:job:&lt;id&gt;</c>: a fixed key or a prefix then a variable part.</summary>
internal sealed record DerivedKey(string Type, string Pattern)
{
    /// <summary>Whether <paramref name="key"/> is this derived key of the queue whose prefix is <paramref name="prefix"/>.</summary>
    public bool Matches(string key, string prefix)
    {
        var pattern = Pattern.Replace(LuaScriptHeader.PrefixPlaceholder, prefix, StringComparison.Ordinal);
        var variable = pattern.IndexOf('<', StringComparison.Ordinal);
        return variable < 0
            ? key == pattern
            : key.Length > variable && key.StartsWith(pattern[..variable], StringComparison.Ordinal);
    }
}
