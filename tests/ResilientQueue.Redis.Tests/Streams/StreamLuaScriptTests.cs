using System.Globalization;
using System.Text.RegularExpressions;
using FluentAssertions;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Lists;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary>
/// The stream backend's embedded scripts, read as written: every one is used, each is named <c>x&lt;verb&gt;-&lt;keys&gt;</c>,
/// and its header documents exactly the KEYS it takes (the queue's <c>{rq:q}:…</c> or its group's
/// <c>{rq:q}:g:&lt;g&gt;:…</c>), the keys it derives, its ARGV and return values; its body uses no other KEYS.
/// </summary>
public sealed partial class StreamLuaScriptTests
{
    private const string GroupPrefix = LuaScriptHeader.PrefixPlaceholder + "g:<g>:";

    private static readonly string[] KeyTypes = ["hash", "list", "zset", "set", "string", "stream"];

    public static TheoryData<string> ScriptNames { get; } = [.. StreamScripts.All.Select(script => script.Name)];

    [Fact]
    public void EmbeddedScriptNames_EveryEmbeddedStreamScript_IsInAll_AndNoneIsAListScript()
    {
        var embedded = StreamScripts.EmbeddedScriptNames.ToList();

        embedded.Should().NotBeEmpty().And.OnlyHaveUniqueItems();
        embedded.Should().BeEquivalentTo(StreamScripts.All.Select(s => s.Name), "every embedded stream script must be loaded and every loaded one embedded");
        embedded.Should().NotIntersectWith(LuaScripts.EmbeddedScriptNames, "the stream scripts have names of their own");
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void Name_EveryScript_IsXVerbDashKeyCount(string name)
    {
        NameWithKeyCount().IsMatch(name).Should().BeTrue($"'{name}' should be named x<verb>-<number of keys>");
        StreamScripts.All.Single(s => s.Name == name).KeyCount.Should().Be(Header(name).KeyCountFromName).And.BeGreaterThan(0);
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void Header_EveryScript_DocumentsKeys1ToN_EachAsAQueueOrGroupKey(string name)
    {
        LuaScriptHeader header = Header(name);
        int n = header.KeyCountFromName;

        header.KeyIndexes.Should().Equal(Enumerable.Range(1, n), $"the header of {name}.lua must document KEYS[1] to KEYS[{n}], each once and in order");
        header.Keys.Keys.Should().BeEquivalentTo(header.KeyIndexes, $"every KEYS line of {name}.lua must read 'KEYS[i] <role> <type> {{rq:q}}:<name>'");
        foreach (DocumentedKey key in header.Keys.Values)
        {
            key.Type.Should().BeOneOf(KeyTypes);
            string rest = key.Pattern.StartsWith(GroupPrefix, StringComparison.Ordinal) ? key.Pattern[GroupPrefix.Length..] : key.Pattern[LuaScriptHeader.PrefixPlaceholder.Length..];
            rest.Should().NotContain("<", "a declared key is one fixed key of the queue or of the group").And.NotContain(":");
        }

        // _common.lua derives the per-job keys from KEYS[1] by cutting its "meta" suffix: the queue's or the group's.
        header.Keys[1].Pattern.Should().BeOneOf(LuaScriptHeader.PrefixPlaceholder + RedisKeys.MetaSuffix, GroupPrefix + RedisKeys.MetaSuffix);
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void Header_EveryScript_DocumentsArgvAndReturns(string name)
    {
        string[] lines = Header(name).Header.Split('\n');

        lines.Should().Contain(line => ArgvLine().IsMatch(line), $"the header of {name}.lua must document its arguments");
        lines.Should().Contain(line => line.TrimStart().StartsWith("Returns", StringComparison.Ordinal), $"the header of {name}.lua must document what it returns");
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void Body_EveryScript_ReferencesNoKeysIndexAboveN_AndIncludesTheSharedSteps(string name)
    {
        LuaScriptHeader header = Header(name);
        string body = StreamScripts.All.Single(s => s.Name == name).Text[header.Header.Length..];
        int n = header.KeyCountFromName;

        List<int> indexes = LuaScriptHeader.KeysIndex().Matches(body).Select(m => int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture)).ToList();
        indexes.Should().NotBeEmpty().And.OnlyContain(i => i >= 1 && i <= n, $"{name}.lua takes {n} keys");
        NonLiteralKeysIndex().IsMatch(body).Should().BeFalse($"{name}.lua must index KEYS only with literal numbers");
        header.Body.Should().Contain("--!include _common.lua").And.Contain("--!include _transitions.lua").And.Contain("--!include _streams.lua");
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void Header_EveryScriptThatDerivesGroupKeysOrQueueKeys_DocumentsThem(string name)
    {
        LuaScriptHeader header = Header(name);
        List<string> derived = header.Derived.Select(d => d.Pattern).ToList();
        string own = header.Keys[1].Pattern.StartsWith(GroupPrefix, StringComparison.Ordinal) ? GroupPrefix : LuaScriptHeader.PrefixPlaceholder;

        // What the script body calls directly (the shared steps are checked through the scripts that call them).
        var builders = new Dictionary<string, string>
        {
            ["jobkey"] = own + "job:<id>",
            ["xkey"] = own + "x:<id>",
            ["idemkey"] = own + "idem:<key>",
            ["turnkey"] = own + "turn:<name>",
            ["startedkey"] = own + "started",
            ["resultkey"] = own + "result:<id>",
            ["qjobkey"] = LuaScriptHeader.PrefixPlaceholder + "job:<id>",
        };
        foreach ((string builder, string key) in builders.Where(pair => Calls(header.Body, pair.Key)))
        {
            derived.Should().Contain(key, $"{name}.lua derives keys with {builder}(), so its header must document them");
        }

        if (Calls(header.Body, "gkey") || Calls(header.Body, "group_depth") || Calls(header.Body, "queue_depth") || Calls(header.Body, "create_group"))
        {
            derived.Should().Contain(d => d.StartsWith(GroupPrefix, StringComparison.Ordinal), $"{name}.lua derives a group's keys from the group's name, so its header must document them");
        }
    }

    private static LuaScriptHeader Header(string name) => LuaScriptHeader.Parse(name, StreamScripts.ReadRaw(name + ".lua"));

    private static bool Calls(string body, string function) =>
        Regex.IsMatch(body, @"(?<![\w.:])" + Regex.Escape(function) + @"\s*\(", RegexOptions.None, TimeSpan.FromSeconds(1));

    [GeneratedRegex(@"^x[a-z]+-[1-9][0-9]*$")]
    private static partial Regex NameWithKeyCount();

    [GeneratedRegex(@"\bARGV(\[\d+\]|\s+none\b)")]
    private static partial Regex ArgvLine();

    [GeneratedRegex(@"KEYS\[(?!\d+\])")]
    private static partial Regex NonLiteralKeysIndex();
}
