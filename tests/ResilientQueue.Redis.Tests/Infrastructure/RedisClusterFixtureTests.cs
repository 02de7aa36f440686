using System.Globalization;
using System.Net;
using System.Text;
using FluentAssertions;
using ResilientQueue.Testing.Redis;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Infrastructure;

[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterFixtureTests(RedisClusterFixture cluster) : IAsyncLifetime
{
    private static readonly string[] HashTags =
        [.. Enumerable.Range(0, 20).Select(i => ((char)('a' + i)).ToString())];

    private IDatabase Database => cluster.Multiplexer.GetDatabase();

    public Task InitializeAsync() => cluster.FlushAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Cluster_ClusterInfoOnEveryMaster_ReportsStateOkWithAllSlotsAssigned()
    {
        var expectedMasters = cluster.OwnsCluster ? RedisClusterFixture.OwnedMasterCount : cluster.MasterEndPoints.Count;
        cluster.MasterEndPoints.Should().HaveCount(expectedMasters);

        foreach (var master in cluster.MasterEndPoints)
        {
            // Sent to exactly this node (IServer.ExecuteAsync), read as text on RESP2 (bulk string) and RESP3 (verbatim string).
            var info = await RedisServerInfo.ClusterInfoAsync(cluster.Multiplexer.GetServer(master));

            info.GetValueOrDefault("cluster_state").Should().Be("ok", $"{master} should be in a healthy cluster");
            info.GetValueOrDefault("cluster_slots_assigned").Should().Be("16384");
            info.GetValueOrDefault("cluster_slots_ok").Should().Be("16384");
            info.GetValueOrDefault("cluster_size").Should().Be(expectedMasters.ToString(CultureInfo.InvariantCulture));
        }

        // The same through the shared connection's database (any node answers).
        var viaDatabase = RedisServerInfo.ParseFields(RedisServerInfo.Text(await Database.ExecuteAsync("CLUSTER", "INFO")));
        viaDatabase.GetValueOrDefault("cluster_state").Should().Be("ok");
    }

    [Fact]
    public async Task Cluster_ClusterNodesOnEveryMaster_ListsConnectedMastersCoveringAllSlots()
    {
        foreach (var master in cluster.MasterEndPoints)
        {
            var configuration = await cluster.Multiplexer.GetServer(master).ClusterNodesAsync();
            configuration.Should().NotBeNull();
            var nodes = configuration!.Nodes.ToList();
            var masters = nodes.Where(node => !node.IsReplica).ToList();

            if (cluster.OwnsCluster)
            {
                masters.Should().HaveCount(RedisClusterFixture.OwnedMasterCount);
                nodes.Should().HaveCount(RedisClusterFixture.OwnedMasterCount, "the owned cluster has no replicas");
            }

            masters.Select(node => node.EndPoint).Should().BeEquivalentTo(cluster.MasterEndPoints);
            masters.Should().OnlyContain(node => node.IsConnected && !node.IsFail && !node.IsPossiblyFail && node.Slots.Count > 0);
            masters.Sum(node => node.Slots.Sum(range => range.To - range.From + 1)).Should().Be(RedisClusterSlot.SlotCount);
            Enumerable.Range(0, RedisClusterSlot.SlotCount)
                .Should().OnlyContain(slot => masters.Count(node => Serves(node, slot)) == 1, "every slot has exactly one master");
            nodes.Single(node => node.IsMyself).EndPoint.Should().Be(master);
        }
    }

    [Fact]
    public void Ports_OfOwnedCluster_AreThreeLoopbackPortsWithRoomForTheBusPort()
    {
        cluster.Ports.Should().NotBeEmpty().And.OnlyHaveUniqueItems();
        cluster.Configuration.Should().EndWith(",abortConnect=false,allowAdmin=true" + ProtocolSuffix);
        ConfigurationOptions.Parse(cluster.Configuration).EndPoints.Should().HaveCount(cluster.Ports.Count);
        if (!cluster.OwnsCluster)
        {
            return;
        }

        cluster.Ports.Should().HaveCount(RedisClusterFixture.OwnedMasterCount)
            .And.OnlyContain(port => port + 10000 <= IPEndPoint.MaxPort);
        cluster.MasterEndPoints.Select(endPoint => endPoint.Port).Should().BeEquivalentTo(cluster.Ports);
        cluster.MasterEndPoints.Should().OnlyContain(endPoint => endPoint.Address.Equals(IPAddress.Loopback));
        cluster.Configuration.Should().Be(
            string.Join(",", cluster.Ports.Select(port => FormattableString.Invariant($"127.0.0.1:{port}"))) +
            ",abortConnect=false,allowAdmin=true" + ProtocolSuffix);
    }

    [Fact]
    public async Task Cluster_KeysWithTwentyHashTags_SpreadOverAtLeastTwoMasters()
    {
        var keys = HashTags.Select(tag => $"{{rq:{tag}}}:x").ToList();
        foreach (var key in keys)
        {
            (await Database.StringSetAsync(key, key)).Should().BeTrue();
        }

        var sizes = new Dictionary<IPEndPoint, long>();
        foreach (var master in cluster.MasterEndPoints)
        {
            sizes[master] = await cluster.Multiplexer.GetServer(master).DatabaseSizeAsync();
        }

        sizes.Values.Sum().Should().Be(keys.Count, "every key lives on exactly one master");
        sizes.Values.Count(size => size > 0).Should().BeGreaterThanOrEqualTo(2, "keys with different hash tags should be spread");

        // Each key is on the master that CLUSTER NODES says owns its CLUSTER KEYSLOT, and only there.
        var nodes = await ClusterNodesAsync();
        foreach (var key in keys)
        {
            var slot = (int)(long)await Database.ExecuteAsync("CLUSTER", "KEYSLOT", key);
            slot.Should().Be(RedisClusterSlot.Of(key));
            var owner = nodes.Single(node => !node.IsReplica && Serves(node, slot));

            // IServer.ExecuteAsync sends to exactly that node; NoRedirect keeps the client from following a MOVED reply.
            RedisServerInfo.Text(await cluster.Multiplexer.GetServer(owner.EndPoint!).ExecuteAsync("GET", [key], CommandFlags.NoRedirect))
                .Should().Be(key, $"{owner.EndPoint} owns slot {slot}");
            foreach (var other in nodes.Where(node => !node.IsReplica && node != owner))
            {
                var get = () => cluster.Multiplexer.GetServer(other.EndPoint!).ExecuteAsync("GET", [key], CommandFlags.NoRedirect);
                (await get.Should().ThrowAsync<RedisServerException>()).Which.Message.Should().Contain(
                    $"MOVED to Endpoint {owner.EndPoint} and hashslot {slot}", $"{other.EndPoint} does not own slot {slot}");
            }
        }
    }

    [Fact]
    public async Task ScriptEvaluateAsync_KeysSharingOneHashTag_WritesAreReadable()
    {
        const string Script = """
            redis.call('SET', KEYS[1], ARGV[1])
            redis.call('HSET', KEYS[2], 'field', ARGV[2])
            redis.call('RPUSH', KEYS[3], ARGV[3], ARGV[4])
            return redis.call('LLEN', KEYS[3])
            """;
        string[] names = ["{rq:q}:a", "{rq:q}:b", "{rq:q}:c"];
        RedisKey[] keys = [.. names.Select(name => (RedisKey)name)];

        var result = await Database.ScriptEvaluateAsync(Script, keys, ["one", "two", "three", "four"]);

        ((long)result).Should().Be(2);
        ((string?)await Database.StringGetAsync(keys[0])).Should().Be("one");
        ((string?)await Database.HashGetAsync(keys[1], "field")).Should().Be("two");
        (await Database.ListRangeAsync(keys[2])).Select(value => (string?)value).Should().Equal("three", "four");

        // All three keys live together on the master owning the slot of "rq:q".
        var slot = RedisClusterSlot.Of("rq:q");
        names.Select(RedisClusterSlot.Of).Should().OnlyContain(keySlot => keySlot == slot);
        var nodes = await ClusterNodesAsync();
        foreach (var master in cluster.MasterEndPoints)
        {
            var owns = Serves(nodes.Single(node => master.Equals(node.EndPoint)), slot);
            (await cluster.Multiplexer.GetServer(master).DatabaseSizeAsync()).Should().Be(owns ? 3 : 0);
        }
    }

    [Fact]
    public async Task Eval_KeysOfTwoHashTags_FailsWithCrossSlot()
    {
        const string Script = "redis.call('SET', KEYS[1], 'x') return redis.call('SET', KEYS[2], 'y')";
        string[] names = ["{rq:a}:x", "{rq:b}:x"];
        RedisClusterSlot.Of(names[0]).Should().NotBe(RedisClusterSlot.Of(names[1]));

        // Passed as plain arguments, the keys are not seen by StackExchange.Redis, so the server itself judges them.
        var evaluate = () => Database.ExecuteAsync("EVAL", Script, "2", names[0], names[1]);

        (await evaluate.Should().ThrowAsync<RedisServerException>()).Which.Message.Should().Contain("CROSSSLOT");
        (await Database.KeyExistsAsync(names[0])).Should().BeFalse();
        (await Database.KeyExistsAsync(names[1])).Should().BeFalse();
    }

    [Fact]
    public async Task ScriptEvaluateAsync_KeysOfTwoHashTags_IsRejectedByTheClientBeforeReachingTheServer()
    {
        // StackExchange.Redis (2.x and 3.x) refuses multi-slot key lists itself, with its own message
        // ("Multi-key operations must involve a single slot; ..."), never sending EVAL to a node.
        const string Script = "redis.call('SET', KEYS[1], 'x') return redis.call('SET', KEYS[2], 'y')";
        RedisKey[] keys = ["{rq:a}:x", "{rq:b}:x"];

        var evaluate = () => Database.ScriptEvaluateAsync(Script, keys);

        (await evaluate.Should().ThrowAsync<RedisCommandException>()).Which.Message.Should().Contain("single slot");
        (await Database.KeyExistsAsync(keys[0])).Should().BeFalse();
        (await Database.KeyExistsAsync(keys[1])).Should().BeFalse();
    }

    [Fact]
    public async Task ServerExecuteAsync_EvalWithKeysOfTwoHashTags_EveryNodeRepliesCrossSlot()
    {
        foreach (var master in cluster.MasterEndPoints)
        {
            var evaluate = () => cluster.Multiplexer.GetServer(master).ExecuteAsync("EVAL", "return 1", "2", "{rq:a}:x", "{rq:b}:x");

            (await evaluate.Should().ThrowAsync<RedisServerException>()).Which.Message.Should().StartWith("CROSSSLOT");
        }
    }

    [Fact]
    public async Task FlushAsync_KeysOnEveryMaster_LeavesEveryMasterEmpty()
    {
        // Write until every master holds at least one key.
        var nodes = await ClusterNodesAsync();
        var written = 0;
        foreach (var master in nodes.Where(node => !node.IsReplica))
        {
            var key = Enumerable.Range(0, 10_000).Select(i => $"flush:{i}").First(candidate => Serves(master, RedisClusterSlot.Of(candidate)));
            await Database.StringSetAsync(key, "value");
            written++;
        }

        var before = 0L;
        foreach (var master in cluster.MasterEndPoints)
        {
            var size = await cluster.Multiplexer.GetServer(master).DatabaseSizeAsync();
            size.Should().BeGreaterThan(0, $"{master} should hold a key before the flush");
            before += size;
        }

        before.Should().Be(written);

        await cluster.FlushAsync();

        foreach (var master in cluster.MasterEndPoints)
        {
            (await cluster.Multiplexer.GetServer(master).DatabaseSizeAsync()).Should().Be(0, $"{master} should be empty after the flush");
        }
    }

    [Fact]
    public async Task RedisClusterSlot_Of_AgreesWithClusterKeySlot()
    {
        string[] keys =
        [
            "", "a", "foo", "bar", "somekey", "123456789", "rq:queue:jobs", "rq:queue:jobs:dead",
            "{rq:q}:a", "{rq:q}:b", "{rq:a}:x", "{user1000}.following", "{user1000}.followers",
            "foo{hash_tag}", "bar{hash_tag}", "{}", "{}x", "x{}", "{}{a}", "a{}{b}", "{a}{b}", "x{a}{b}y",
            "{", "}", "}{", "{a", "a}", "}a{b}", "a}b{c}", "{{a}}", "foo{{bar}}zap", "{{}}", "{a}}", "{}}",
            "foo{bar}{zap}", "{ }", "{\t}", "key with spaces", "{日本}語", "日本{語}", "ключ", "{é}x", "é{}",
            "emoji 🚀 {🚀}", "{rq}", "rq", "{{", "}}", "a{b}c{d}e", "{" + new string('x', 300) + "}",
            new string('k', 1000), "tab\tkey", "new\nline", "{new\nline}",
        ];
        keys.Should().HaveCountGreaterThanOrEqualTo(50);

        foreach (var key in keys)
        {
            var expected = (long)await Database.ExecuteAsync("CLUSTER", "KEYSLOT", key);

            RedisClusterSlot.Of(key).Should().Be((int)expected, $"'{key}' hashes to slot {expected} on the server");
        }
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("123456789", 0x31C3)]
    [InlineData("somekey", 11058)]
    [InlineData("foo{hash_tag}", 2515)]
    [InlineData("bar{hash_tag}", 2515)]
    public void RedisClusterSlot_Of_KnownKeys_ReturnsKnownSlots(string key, int slot)
    {
        RedisClusterSlot.Of(key).Should().Be(slot);
        RedisClusterSlot.Of(Encoding.UTF8.GetBytes(key)).Should().Be(slot);
    }

    [Theory]
    [InlineData("{user1000}.following", "user1000")]
    [InlineData("foo{bar}{zap}", "bar")]
    [InlineData("foo{{bar}}zap", "{bar")]
    [InlineData("{a}}", "a")]
    public void RedisClusterSlot_Of_KeyWithHashTag_HashesOnlyTheFirstTag(string key, string hashed)
    {
        RedisClusterSlot.Of(key).Should().Be(RedisClusterSlot.Crc16(Encoding.UTF8.GetBytes(hashed)) % RedisClusterSlot.SlotCount);
    }

    [Theory]
    [InlineData("foo{}{bar}")]
    [InlineData("{}")]
    [InlineData("no tag")]
    [InlineData("open{only")]
    [InlineData("close}{")]
    public void RedisClusterSlot_Of_KeyWithoutUsableTag_HashesTheWholeKey(string key)
    {
        RedisClusterSlot.Of(key).Should().Be(RedisClusterSlot.Crc16(Encoding.UTF8.GetBytes(key)) % RedisClusterSlot.SlotCount);
    }

    private static string ProtocolSuffix =>
        RedisTestSettings.Protocol is { } protocol ? ",protocol=" + protocol.ToString().ToLowerInvariant() : string.Empty;

    private static bool Serves(ClusterNode node, int slot) => node.Slots.Any(range => range.From <= slot && slot <= range.To);

    private async Task<IReadOnlyList<ClusterNode>> ClusterNodesAsync()
    {
        var configuration = await cluster.Multiplexer.GetServer(cluster.MasterEndPoints[0]).ClusterNodesAsync();
        return configuration?.Nodes.ToList() ?? throw new InvalidOperationException("CLUSTER NODES answered nothing.");
    }
}
