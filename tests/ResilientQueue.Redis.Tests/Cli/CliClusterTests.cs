using System.Text;
using System.Text.Json;
using FluentAssertions;
using ResilientQueue.Cli;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Cli;

/// <summary><c>resq</c> against a three-master Redis Cluster: queues on every master are found and opened.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class CliClusterTests(RedisClusterFixture cluster)
{
    [Fact]
    public async Task Queues_OnACluster_FindsTheQueuesOfEveryMaster()
    {
        // The collection's other tests leave their queues behind, so these get names of their own.
        string prefix = "cli-" + Guid.NewGuid().ToString("N")[..8] + "-";
        string[] names = [.. Enumerable.Range(0, 12).Select(i => prefix + i)];
        names.Select(n => RedisClusterSlot.Of("{rq:" + n + "}:meta") * 3 / RedisClusterSlot.SlotCount).Distinct().Should().HaveCountGreaterThan(1, "the queues should spread over the masters");
        foreach (string name in names)
        {
            using var queue = new RedisListJobQueue(cluster.Multiplexer, name);
            await queue.EnqueueAsync(Encoding.UTF8.GetBytes("{}"));
        }

        (int code, string stdout, string stderr) = await RunAsync("queues", "--json");
        (int statusCode, string status, _) = await RunAsync("status", names[^1], "--json");

        code.Should().Be(0, stderr);
        JsonDocument.Parse(stdout).RootElement.GetProperty("queues").EnumerateArray()
            .Select(q => q.GetProperty("name").GetString()).Where(n => n!.StartsWith(prefix, StringComparison.Ordinal))
            .Should().BeEquivalentTo(names);
        statusCode.Should().Be(0);
        JsonDocument.Parse(status).RootElement.GetProperty("ready").GetInt64().Should().Be(1);
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = await CliApplication.RunAsync([.. args, "--redis", cluster.Configuration], stdout, stderr, new StringReader(string.Empty), stdinIsTerminal: false, _ => null);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
