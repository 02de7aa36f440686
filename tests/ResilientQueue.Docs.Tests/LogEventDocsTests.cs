using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace ResilientQueue.Docs.Tests;

/// <summary>The log events the packages write are the ones docs/telemetry.md lists: unique ids, the same level and message.</summary>
public sealed partial class LogEventDocsTests
{
    private static readonly Assembly[] Packages = [typeof(IJobQueue).Assembly, typeof(ResilientQueue.Redis.Lists.RedisListJobQueue).Assembly, typeof(ResilientQueue.AspNetCore.Dashboard.DashboardOptions).Assembly];

    [Fact]
    public void LogEvents_HaveUniqueIds()
    {
        IEnumerable<IGrouping<int, string>> clashes = Events().GroupBy(e => e.Attribute.EventId, e => e.Where).Where(g => g.Count() > 1);

        clashes.Should().BeEmpty("an event id names one event across every package");
    }

    [Fact]
    public void LogEvents_AreEachDocumentedWithTheirLevelAndMessage()
    {
        Dictionary<int, (string Level, string Message)> documented = DocumentedEvents();

        foreach ((LoggerMessageAttribute attribute, string where) in Events())
        {
            documented.Should().ContainKey(attribute.EventId, $"event {attribute.EventId} ({where}) is listed in docs/telemetry.md");
            documented[attribute.EventId].Should().Be((attribute.Level.ToString(), attribute.Message), $"docs/telemetry.md says what event {attribute.EventId} ({where}) writes");
        }

        documented.Keys.Should().BeSubsetOf(Events().Select(e => e.Attribute.EventId), "docs/telemetry.md lists no event that is not written");
    }

    private static IEnumerable<(LoggerMessageAttribute Attribute, string Where)> Events() =>
        Packages.SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Attribute: m.GetCustomAttribute<LoggerMessageAttribute>(), Where: $"{m.DeclaringType!.Name}.{m.Name}"))
            .Where(e => e.Attribute is not null)
            .Select(e => (e.Attribute!, e.Where));

    private static Dictionary<int, (string Level, string Message)> DocumentedEvents()
    {
        var events = new Dictionary<int, (string, string)>();
        foreach (string line in File.ReadLines(Path.Combine(MarkdownSnippet.RepositoryRoot, "docs", "telemetry.md")))
        {
            Match row = Row().Match(line);
            if (row.Success)
            {
                events.Add(int.Parse(row.Groups["id"].Value, System.Globalization.CultureInfo.InvariantCulture), (row.Groups["level"].Value, row.Groups["message"].Value));
            }
        }

        return events;
    }

    [GeneratedRegex(@"^\| (?<id>\d{4}) \| (?<level>\w+) \| `(?<message>[^`]+)`")]
    private static partial Regex Row();
}
