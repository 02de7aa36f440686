using System.Globalization;
using System.Text.RegularExpressions;
using FluentAssertions;
using ResilientQueue.Redis.Scripting;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// The embedded Lua scripts, read as written: every one is used, and each header documents exactly the KEYS the
/// script takes (the number in its file name), its ARGV and its return values, and its body uses no other KEYS.
/// </summary>
public sealed partial class LuaScriptTests
{
    private static readonly string[] KeyTypes = ["hash", "list", "zset", "set", "string", "stream"];

    /// <summary>The names of every script in <see cref="LuaScripts.All"/>, e.g. <c>fetch-5</c>.</summary>
    public static TheoryData<string> ScriptNames { get; } = [.. LuaScripts.All.Select(script => script.Name)];

    [Fact]
    public void EmbeddedScriptNames_EveryEmbeddedScript_IsInAll()
    {
        var embedded = LuaScripts.EmbeddedScriptNames.ToList();

        embedded.Should().NotBeEmpty();
        embedded.Should().OnlyHaveUniqueItems();
        LuaScripts.All.Select(script => script.Name).Should().OnlyHaveUniqueItems();
        embedded.Should().BeEquivalentTo(
            LuaScripts.All.Select(script => script.Name),
            "every embedded script must be loaded (none unused) and every loaded script embedded");
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void KeyCount_EveryScript_IsTheNumberInItsFileName(string name)
    {
        var script = LuaScripts.All.Single(s => s.Name == name);

        NameWithKeyCount().IsMatch(name).Should().BeTrue($"'{name}' should be named <verb>-<number of keys>");
        script.KeyCount.Should().Be(LuaScriptHeader.Parse(name).KeyCountFromName).And.BeGreaterThan(0);
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void Header_EveryScript_DocumentsExactlyKeys1ToN(string name)
    {
        var header = LuaScriptHeader.Parse(name);
        var n = header.KeyCountFromName;

        header.KeyIndexes.Should().Equal(
            Enumerable.Range(1, n),
            $"the header of {name}.lua must document KEYS[1] to KEYS[{n}], each once and in order:{Environment.NewLine}{header.Header}");
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void Header_EveryKeysLine_GivesRoleTypeAndQueueKey(string name)
    {
        var header = LuaScriptHeader.Parse(name);

        header.Keys.Keys.Should().BeEquivalentTo(
            header.KeyIndexes,
            $"every KEYS line of {name}.lua must read 'KEYS[i] <role> <type> {{rq:q}}:<name>':{Environment.NewLine}{string.Join(Environment.NewLine, header.KeyLines)}");
        foreach (var key in header.Keys.Values)
        {
            key.Type.Should().BeOneOf(KeyTypes);
            key.Pattern.Should().StartWith(LuaScriptHeader.PrefixPlaceholder).And.NotContain("<", "a declared key is one fixed key of the queue");
        }

        if (header.Body.Contains("--!include _common.lua", StringComparison.Ordinal))
        {
            // _common.lua derives every other key from KEYS[1] by cutting its 4-character "meta" suffix.
            header.Keys[1].Pattern.Should().Be(LuaScriptHeader.PrefixPlaceholder + RedisKeys.MetaSuffix);
        }
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void Header_EveryScript_DocumentsArgvAndReturns(string name)
    {
        var header = LuaScriptHeader.Parse(name);
        var lines = header.Header.Split('\n');

        lines.Should().Contain(
            line => ArgvLine().IsMatch(line),
            $"the header of {name}.lua must document its arguments (ARGV[1] ... or 'ARGV none'):{Environment.NewLine}{header.Header}");
        lines.Should().Contain(
            line => line.TrimStart().StartsWith("Returns", StringComparison.Ordinal),
            $"the header of {name}.lua must document what it returns:{Environment.NewLine}{header.Header}");
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void Body_EveryScript_ReferencesNoKeysIndexAboveN(string name)
    {
        var header = LuaScriptHeader.Parse(name);
        var script = LuaScripts.All.Single(s => s.Name == name);
        var n = header.KeyCountFromName;

        // The expanded text (includes such as _common.lua inlined), without the header comment.
        var body = script.Text[header.Header.Length..];
        var indexes = LuaScriptHeader.KeysIndex().Matches(body)
            .Select(match => int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture))
            .ToList();

        indexes.Should().NotBeEmpty($"{name}.lua must use its KEYS");
        indexes.Should().OnlyContain(i => i >= 1 && i <= n, $"{name}.lua takes {n} keys");
        NonLiteralKeysIndex().IsMatch(body).Should().BeFalse($"{name}.lua must index KEYS only with literal numbers, so the bound can be checked");
    }

    [Theory]
    [MemberData(nameof(ScriptNames))]
    public void Header_EveryScriptThatDerivesKeys_DocumentsThem(string name)
    {
        var header = LuaScriptHeader.Parse(name);
        var derived = header.Derived.Select(d => d.Pattern).ToList();

        // The helpers of _common.lua that build a derived key, and the key each builds; a script derives a key when
        // its own body calls the helper, or calls a function of _common.lua that (transitively) calls it.
        var builders = new Dictionary<string, string>
        {
            ["jobkey"] = LuaScriptHeader.PrefixPlaceholder + "job:<id>",
            ["xkey"] = LuaScriptHeader.PrefixPlaceholder + "x:<id>",
            ["idemkey"] = LuaScriptHeader.PrefixPlaceholder + "idem:<key>",
            ["turnkey"] = LuaScriptHeader.PrefixPlaceholder + "turn:<name>",
            ["startedkey"] = LuaScriptHeader.PrefixPlaceholder + "started",
            ["resultkey"] = LuaScriptHeader.PrefixPlaceholder + "result:<id>",
        };
        var functions = CommonFunctions();
        var called = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(functions.Keys.Concat(builders.Keys).Where(function => Calls(header.Body, function)));
        while (pending.TryPop(out var function))
        {
            if (called.Add(function) && functions.TryGetValue(function, out var text))
            {
                foreach (var callee in functions.Keys.Concat(builders.Keys).Where(callee => callee != function && Calls(text, callee)))
                {
                    pending.Push(callee);
                }
            }
        }

        foreach (var (builder, key) in builders.Where(pair => called.Contains(pair.Key)))
        {
            derived.Should().Contain(key, $"{name}.lua derives keys with {builder}() (directly or through _common.lua), so its header must document them");
        }

        foreach (var key in derived)
        {
            builders.Values.Should().Contain(key, $"{name}.lua documents the derived key {key}, which no helper of _common.lua builds");
        }
    }

    /// <summary>The top-level functions of _common.lua and _transitions.lua (<c>local function f(...)</c> to the <c>end</c> in column 0), by name.</summary>
    private static Dictionary<string, string> CommonFunctions()
    {
        var functions = new Dictionary<string, string>(StringComparer.Ordinal);
        string? current = null;
        var text = new List<string>();
        foreach (var line in (LuaScripts.ReadRaw("_common.lua") + "\n" + LuaScripts.ReadRaw("_transitions.lua")).Split('\n').Select(line => line.TrimEnd('\r')))
        {
            var start = FunctionStart().Match(line);
            if (current is null && start.Success)
            {
                current = start.Groups[1].Value;
                text.Clear();
            }

            if (current is null)
            {
                continue;
            }

            text.Add(line);
            if (line == "end" || (start.Success && line.TrimEnd().EndsWith(" end", StringComparison.Ordinal)))
            {
                functions[current] = string.Join('\n', text);
                current = null;
            }
        }

        functions.Should().NotBeEmpty("_common.lua defines helper functions");
        return functions;
    }

    private static bool Calls(string body, string function) =>
        Regex.IsMatch(body, @"(?<![\w.:])" + Regex.Escape(function) + @"\s*\(", RegexOptions.None, TimeSpan.FromSeconds(1));

    [GeneratedRegex(@"^[a-z]+-[1-9][0-9]*$")]
    private static partial Regex NameWithKeyCount();

    [GeneratedRegex(@"\bARGV(\[\d+\]|\s+none\b)")]
    private static partial Regex ArgvLine();

    [GeneratedRegex(@"KEYS\[(?!\d+\])")]
    private static partial Regex NonLiteralKeysIndex();

    [GeneratedRegex(@"^local function (\w+)\s*\(")]
    private static partial Regex FunctionStart();
}
