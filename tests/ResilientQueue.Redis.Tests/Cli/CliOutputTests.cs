using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using FluentAssertions;
using ResilientQueue.Cli;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Cli;

/// <summary>What every command's output shares: tables that keep ids whole, one spelling of enum values, the guide's URL, the core contracts.</summary>
[Collection(RedisCollection.Name)]
public sealed class CliOutputTests(RedisServerFixture redis) : CliTestBase(redis)
{
    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    public async Task Tables_OfAnyWidthFrom80_KeepEveryJobIdOnOneLineAndFitTheWidth(int width)
    {
        (string old, string recent) = await SeedDeadLettersAsync("orders");
        (string requeue, string deadLetter) = await SeedStaleAsync("leases");
        string[][] commands = [["dlq", "list", "orders"], ["dlq", "show", "orders", recent], ["stale", "leases"], ["reap", "leases", "--dry-run"]];

        foreach (string[] command in commands)
        {
            CliResult result = await RunAsync(command, string.Empty, stdinIsTerminal: false, redis: Redis.Configuration, environment: Columns(width));

            result.ExitCode.Should().Be(0, result.ToString());
            string[] lines = result.Stdout.Split(Environment.NewLine);
            lines.Where(IsTableLine).Should().NotBeEmpty().And.OnlyContain(l => l.Length <= width, $"the tables of '{string.Join(' ', command)}' fit {width} columns:\n{result.Stdout}");
            string[] ids = command[0] == "dlq" ? (command[1] == "show" ? [recent] : [old, recent]) : [requeue, deadLetter];
            foreach (string id in ids)
            {
                id.Should().HaveLength(32);
                lines.Should().Contain(l => l.Contains(id, StringComparison.Ordinal), $"the id {id} stays on one line in '{string.Join(' ', command)}' at {width} columns:\n{result.Stdout}");
            }
        }
    }

    [Fact]
    public async Task Json_EnumValues_AreSpelledAsTablesAndCategoryOptionSpellThem()
    {
        await SeedDeadLettersAsync("orders");
        await SeedStaleAsync("leases");

        CliResult table = await ResqAsync("dlq", "list", "orders");
        CliResult json = await ResqAsync("dlq", "list", "orders", "--json");
        CliResult filtered = await ResqAsync("dlq", "list", "orders", "--category", "Transient", "--json");
        CliResult stale = await ResqAsync("stale", "leases", "--json");
        CliResult purge = await ResqAsync("dlq", "purge", "orders", "--all", "--yes", "--json");

        string[] categories = [.. json.Json.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("category").GetString()!)];
        categories.Should().Equal("Transient", "Validation");
        table.Stdout.Should().ContainAll(categories);
        filtered.Json.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("category").GetString()).Should().Equal("Transient");
        stale.Json.GetProperty("jobs").EnumerateArray().Select(j => j.GetProperty("action").GetString()).Should().Equal("Requeued", "DeadLettered");
        purge.Json.GetProperty("mode").GetString().Should().Be("All");
        json.Json.GetProperty("entries")[0].TryGetProperty("maxAttempts", out _).Should().BeTrue("property names stay camelCase");
    }

    [Fact]
    public async Task Help_LinksTheOperationsGuideByItsAbsoluteUrl()
    {
        CliResult root = await RunAsync(["--help"], string.Empty, stdinIsTerminal: false, environment: _ => null);
        CliResult command = await RunAsync(["dlq", "list", "--help"], string.Empty, stdinIsTerminal: false, environment: _ => null);

        const string Url = "https://github.com/resilientqueue/resilientqueue/blob/main/docs/operations.md";
        CliApplication.GuideUrl.Should().Be(Url);
        root.Stdout.Should().Contain("Guide, JSON schemas and runbooks: " + Url);
        command.Stdout.Should().Contain(Url + "#json-output", "--json names where the schemas are");
        foreach (CliResult result in new[] { root, command })
        {
            result.Stdout.Replace(Url, string.Empty, StringComparison.Ordinal).Should().NotContain("operations.md", "every mention of the guide is its URL");
        }
    }

    [Fact]
    public void Cli_BindsToTheCoreContracts_NotToABackendOfTheRedisPackage()
    {
        using var pe = new PEReader(File.OpenRead(typeof(CliApplication).Assembly.Location));
        MetadataReader metadata = pe.GetMetadataReader();

        string[] referenced = [.. metadata.TypeReferences.Select(h => metadata.GetTypeReference(h)).Select(t => metadata.GetString(t.Namespace) + "." + metadata.GetString(t.Name))];

        referenced.Should().Contain("ResilientQueue.Redis.RedisJobQueues").And.Contain("ResilientQueue.IJobQueueAdmin");
        referenced.Where(name => name.StartsWith("ResilientQueue.Redis.", StringComparison.Ordinal))
            .Should().Equal(["ResilientQueue.Redis.RedisJobQueues"], "queues are listed, tested and opened through RedisJobQueues, so a new backend needs no CLI change");
    }

    private static bool IsTableLine(string line) => line.Length > 0 && line[0] is '│' or '╭' or '├' or '╰';

    private static Func<string, string?> Columns(int width) => name => name == "COLUMNS" ? width.ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
}
