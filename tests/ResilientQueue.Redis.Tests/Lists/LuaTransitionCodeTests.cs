using System.Globalization;
using System.Text.RegularExpressions;
using FluentAssertions;
using ResilientQueue.Redis.Scripting;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// The state machine is decided in C# only (the core's JobTransitions): the scripts' transition codes are the core's
/// enum values, and no script holds a decision's text (the reasons and errors come in as arguments).
/// </summary>
public sealed partial class LuaTransitionCodeTests
{
    private static readonly string Transitions = LuaScripts.ReadRaw("_transitions.lua");

    [Fact]
    public void DestinationCodes_AreTheValuesOfJobDestination()
    {
        Codes("DEST", "READY", "DELAYED", "DEAD", "REMOVED").Should().Equal(
            (int)JobDestination.Ready, (int)JobDestination.Delayed, (int)JobDestination.Dead, (int)JobDestination.Removed);
        Enum.GetValues<JobDestination>().Should().HaveCount(4, "a new destination needs a code in _transitions.lua");
    }

    [Fact]
    public void AttemptChangeCodes_AreTheValuesOfAttemptChange()
    {
        Codes("ATTEMPTS", "KEEP", "REFUND", "RESET", "REFUND_UNSTARTED").Should().Equal((int)AttemptChange.Keep, (int)AttemptChange.Refund, (int)AttemptChange.Reset, (int)AttemptChange.RefundUnstarted);
        Enum.GetValues<AttemptChange>().Should().HaveCount(4, "a new attempt change needs a code in _transitions.lua");
    }

    [Fact]
    public void NoScript_HoldsTheTextOfADecision()
    {
        foreach (string name in LuaScripts.EmbeddedScriptNames.Append("_common").Append("_transitions"))
        {
            string text = LuaScripts.ReadRaw(name + ".lua");
            string body = text[(text.IndexOf("]]", StringComparison.Ordinal) + 2)..]; // the header may describe the texts it receives
            body.Should().NotContainAny(["exhausted", "Max attempts", "LeaseExpired", "lease ran out"], $"{name}.lua stores what the core decided and decides nothing itself");
        }
    }

    /// <summary>The values of one <c>local PREFIX_A, PREFIX_B = 0, 1</c> line, in the order of <paramref name="names"/>.</summary>
    private static int[] Codes(string prefix, params string[] names)
    {
        string pattern = $@"local {string.Join(@",\s*", names.Select(n => $"{prefix}_{n}"))}\s*=\s*(?<values>[\d,\s]+)";
        Match match = Regex.Match(Transitions, pattern);
        match.Success.Should().BeTrue($"_transitions.lua declares {string.Join(", ", names.Select(n => $"{prefix}_{n}"))} on one line");
        return match.Groups["values"].Value.Split(',', StringSplitOptions.TrimEntries).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }
}
