using System.Diagnostics;
using System.Globalization;
using System.Net;
using ResilientQueue.Testing.Redis;
using StackExchange.Redis;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ResilientQueue.Redis.Tests.Infrastructure;

/// <summary>
/// The xunit collection that shares one <see cref="RedisClusterFixture"/> (one Redis Cluster) between
/// every Redis Cluster test class. Test classes join it with <c>[Collection(RedisClusterCollection.Name)]</c>.
/// </summary>
[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisClusterFixture>
{
    /// <summary>The collection name used by <c>[Collection(...)]</c>.</summary>
    public const string Name = "redis-cluster";
}

/// <summary>
/// Provides a real Redis Cluster (three masters, no replicas) for the tests of the <see cref="RedisClusterCollection"/>.
/// </summary>
/// <remarks>
/// <para>
/// When the environment variable <c>RESILIENTQUEUE_REDIS_CLUSTER</c> holds a comma-separated list of
/// <c>host:port</c> seed nodes of a running cluster (for example <c>127.0.0.1:7000,127.0.0.1:7001</c>), that
/// cluster is used; every seed and every master must be a loopback address, because the tests FLUSHALL them.
/// Otherwise the fixture starts three local <c>redis-server</c> processes (<see cref="RedisServerProcess"/>) in cluster
/// mode on free loopback ports, joins them with <c>redis-cli --cluster create</c>, waits until every node reports
/// <c>cluster_state:ok</c> with all 16384 slots assigned and sees every other node healthy (<c>CLUSTER NODES</c> through
/// <see cref="IServer.ClusterNodesAsync"/>), and kills the processes when the test run ends. The cluster always runs as
/// local processes: a container's nodes would announce addresses that only the container network can reach.
/// </para>
/// <para>
/// Every connection uses the protocol of <c>RESILIENTQUEUE_REDIS_PROTOCOL</c>, as for <see cref="RedisServerFixture"/>.
/// A command for one particular node goes through <c>Multiplexer.GetServer(endPoint).ExecuteAsync(...)</c>.
/// </para>
/// </remarks>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    /// <summary>Environment variable naming the seed nodes of a running (loopback) cluster to use instead of starting one.</summary>
    public const string ExternalClusterVariable = "RESILIENTQUEUE_REDIS_CLUSTER";

    /// <summary>Environment variable giving the full path of the <c>redis-cli</c> executable.</summary>
    public const string CliPathVariable = RedisProcesses.CliPathVariable;

    /// <summary>The number of masters of the cluster started by the fixture.</summary>
    public const int OwnedMasterCount = 3;

    /// <summary>The message of the exception thrown when no <c>redis-server</c> executable can be found.</summary>
    public const string ServerNotFoundMessage =
        "redis-server was not found. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server) " +
        "or set RESILIENTQUEUE_REDIS_CLUSTER=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 to use a running loopback cluster.";

    /// <summary>The message of the exception thrown when no <c>redis-cli</c> executable can be found.</summary>
    public const string CliNotFoundMessage =
        "redis-cli was not found. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server, which brings redis-tools) " +
        "or set RESILIENTQUEUE_REDIS_CLUSTER=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 to use a running loopback cluster.";

    private const int MaxStartAttempts = 3;
    private const int MaxPortPicks = 1000;
    private const int ClusterBusPortOffset = 10000;

    // Client ports come from [12000, 22000), so the cluster bus ports (client port + 10000) are in [22000, 32000):
    // both stay below the usual Linux ephemeral range (32768-60999), where outgoing connections and the
    // OS-assigned ports of other test fixtures live, and always below 65536.
    private const int MinClientPort = 12000;
    private const int MaxClientPortExclusive = 22000;

    private static readonly TimeSpan ClusterCreateTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ClusterReadyTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan MultiplexerReadyTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly IMessageSink _diagnostics;
    private readonly List<RedisServerProcess> _ownedNodes = [];

    private string? _configuration;
    private IReadOnlyList<IPEndPoint> _seeds = [];
    private IReadOnlyList<IPEndPoint> _masterEndPoints = [];
    private ConnectionMultiplexer? _multiplexer;
    private bool _ownsCluster;

    /// <summary>Creates the fixture; xunit passes its diagnostic message sink, where the fixture says which cluster runs.</summary>
    public RedisClusterFixture(IMessageSink diagnostics) => _diagnostics = diagnostics;

    /// <summary>
    /// The StackExchange.Redis configuration string of the cluster, e.g.
    /// <c>127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3,abortConnect=false,allowAdmin=true</c> (then <c>,protocol=resp3</c> when the switch asks).
    /// </summary>
    public string Configuration => _configuration ?? throw NotInitialized();

    /// <summary>The ports of the seed nodes (for an owned cluster: of its three masters).</summary>
    public IReadOnlyList<int> Ports => _configuration is null ? throw NotInitialized() : _seeds.Select(seed => seed.Port).ToList();

    /// <summary>The endpoints of every master of the cluster, as the cluster itself reports them (<c>CLUSTER NODES</c>).</summary>
    public IReadOnlyList<IPEndPoint> MasterEndPoints => _configuration is null ? throw NotInitialized() : _masterEndPoints;

    /// <summary>The connection shared by the tests (admin commands allowed). Do not dispose it.</summary>
    public ConnectionMultiplexer Multiplexer => _multiplexer ?? throw NotInitialized();

    /// <summary>
    /// <see langword="true"/> when the fixture started the cluster; <see langword="false"/> when
    /// <c>RESILIENTQUEUE_REDIS_CLUSTER</c> points at an external cluster.
    /// </summary>
    public bool OwnsCluster => _ownsCluster;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        try
        {
            var external = Environment.GetEnvironmentVariable(ExternalClusterVariable);
            if (!string.IsNullOrWhiteSpace(external))
            {
                await UseExternalClusterAsync(external);
            }
            else
            {
                await StartOwnedClusterAsync();
            }

            _masterEndPoints = await DiscoverMastersAsync();
            var protocol = RedisTestSettings.Protocol is { } asked ? ",protocol=" + asked.ToString().ToLowerInvariant() : string.Empty;
            _configuration = string.Join(",", _seeds.Select(seed => seed.ToString())) + ",abortConnect=false,allowAdmin=true" + protocol;
            _multiplexer = await ConnectAsync();
            await WaitUntilMultiplexerReadyAsync(_multiplexer);

            var line = $"Redis cluster tests: {(_ownsCluster ? "local redis-server processes" : "external cluster")} " +
                $"{string.Join(", ", _masterEndPoints)}; StackExchange.Redis {RedisTestSettings.ClientPackageVersion}, " +
                $"{_multiplexer.GetServer(_masterEndPoints[0]).Protocol.ToString().ToUpperInvariant()}";
            Console.Error.WriteLine(line);
            _diagnostics.OnMessage(new DiagnosticMessage(line));
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        _multiplexer?.Dispose();
        _multiplexer = null;

        await StopOwnedNodesAsync();
    }

    /// <summary>Opens a new connection to the cluster (admin commands allowed). The caller disposes it.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(Configuration);

    /// <summary>
    /// Removes every key from every master (<c>FLUSHALL</c> sent to each master through
    /// <c>IServer.FlushAllDatabasesAsync</c>). Retries for a while if the shared connection is reconnecting.
    /// </summary>
    public Task FlushAsync() => Task.WhenAll(MasterEndPoints.Select(FlushMasterAsync));

    private async Task FlushMasterAsync(IPEndPoint endPoint)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await Multiplexer.GetServer(endPoint).FlushAllDatabasesAsync();
                return;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && stopwatch.Elapsed < FlushTimeout)
            {
                await Task.Delay(PollInterval);
            }
        }
    }

    private async Task UseExternalClusterAsync(string value)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(value);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException(
                $"{ExternalClusterVariable}='{value}' is not a list of host:port seeds ({ex.Message}); use e.g. " +
                $"{ExternalClusterVariable}=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002.", ex);
        }

        options.SetDefaultPorts();
        var seeds = new List<IPEndPoint>();
        foreach (var endPoint in options.EndPoints)
        {
            var seed = endPoint switch
            {
                IPEndPoint ip when IPAddress.IsLoopback(ip.Address) => ip,
                DnsEndPoint dns when RedisProcesses.IsLoopbackHost(dns.Host) => new IPEndPoint(IPAddress.Loopback, dns.Port),
                _ => throw new InvalidOperationException(
                    $"{ExternalClusterVariable}='{value}' names the non-loopback node {endPoint}. The Redis Cluster tests " +
                    "FLUSHALL every master, so only loopback nodes (127.0.0.0/8, localhost, ::1) are allowed."),
            };
            seeds.Add(seed);
        }

        if (seeds.Count == 0)
        {
            throw new InvalidOperationException(
                $"{ExternalClusterVariable}='{value}' names no node; use e.g. {ExternalClusterVariable}=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002.");
        }

        _seeds = seeds;
        try
        {
            await WaitUntilClusterReadyAsync(seeds, expectedKnownNodes: null);
        }
        catch (ClusterStartException ex)
        {
            throw new InvalidOperationException($"The cluster named by {ExternalClusterVariable}='{value}' is not usable: {ex.Message}", ex);
        }
    }

    private async Task StartOwnedClusterAsync()
    {
        var serverPath = RedisProcesses.FindExecutable(RedisProcesses.ServerPathVariable, "redis-server", null, ServerNotFoundMessage);
        var cliPath = RedisProcesses.FindExecutable(CliPathVariable, "redis-cli", Path.GetDirectoryName(serverPath), CliNotFoundMessage);

        _ownsCluster = true;
        var failures = new List<string>();
        for (var attempt = 1; attempt <= MaxStartAttempts; attempt++)
        {
            var nodes = PickPorts(OwnedMasterCount).Select(port => new IPEndPoint(IPAddress.Loopback, port)).ToList();
            try
            {
                await StartNodesAsync(serverPath, nodes);
                await CreateClusterAsync(cliPath, nodes);
                await WaitUntilClusterReadyAsync(nodes, expectedKnownNodes: OwnedMasterCount);
                _seeds = nodes;
                return;
            }
            catch (Exception ex) when (ex is ClusterStartException or InvalidOperationException)
            {
                failures.Add($"Attempt {attempt} (ports {string.Join(", ", nodes.Select(node => node.Port))}): {ex.Message}");
                await StopOwnedNodesAsync();
            }
        }

        throw new InvalidOperationException(
            $"A Redis Cluster ('{serverPath}', '{cliPath}') could not be started after {MaxStartAttempts} attempts:" +
            $"{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
    }

    /// <summary>Picks distinct client ports P (loopback) such that both P and the cluster bus port P + 10000 are free.</summary>
    private static List<int> PickPorts(int count)
    {
        var ports = new List<int>();
        for (var pick = 0; ports.Count < count; pick++)
        {
            if (pick >= MaxPortPicks)
            {
                throw new InvalidOperationException(
                    $"Could not find {count} free loopback port pairs (P, P + {ClusterBusPortOffset}) with P in " +
                    $"[{MinClientPort}, {MaxClientPortExclusive}) after {MaxPortPicks} tries.");
            }

            var port = Random.Shared.Next(MinClientPort, MaxClientPortExclusive);
            if (!ports.Contains(port) && RedisProcesses.IsLoopbackPortFree(port) && RedisProcesses.IsLoopbackPortFree(port + ClusterBusPortOffset))
            {
                ports.Add(port);
            }
        }

        return ports;
    }

    private async Task StartNodesAsync(string serverPath, IReadOnlyList<IPEndPoint> nodes)
    {
        var starts = nodes.Select(node => RedisServerProcess.StartAsync(new RedisServerProcessOptions
        {
            ServerPath = serverPath,
            Port = node.Port,
            ExtraArguments = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"],
        })).ToArray();
        try
        {
            await Task.WhenAll(starts);
        }
        catch (InvalidOperationException)
        {
            // Report every node that failed, not only the first one.
            var messages = starts
                .Where(start => start.IsFaulted)
                .SelectMany(start => start.Exception!.InnerExceptions)
                .Select(ex => ex.Message);
            throw new ClusterStartException(string.Join(Environment.NewLine, messages));
        }
        finally
        {
            _ownedNodes.AddRange(starts.Where(start => start.IsCompletedSuccessfully).Select(start => start.Result));
        }
    }

    private static async Task CreateClusterAsync(string cliPath, IReadOnlyList<IPEndPoint> nodes)
    {
        string[] arguments = ["--cluster", "create", .. nodes.Select(node => node.ToString()), "--cluster-replicas", "0", "--cluster-yes"];
        var output = new OutputTail();
        using var process = RedisProcesses.Start(RedisProcesses.CreateStartInfo(cliPath, arguments, redirectStandardInput: true), output.Add, output.Add);
        using var killOnHostExit = RedisProcesses.KillOnHostExit(() => RedisProcesses.Kill(process));

        // --cluster-yes answers the only question; never leave redis-cli waiting for input.
        process.StandardInput.Close();

        await RedisProcesses.WaitForExitAsync(process, ClusterCreateTimeout);
        if (!process.HasExited)
        {
            await RedisProcesses.KillAndWaitAsync(process);
            throw new ClusterStartException(
                $"redis-cli --cluster create did not finish within {ClusterCreateTimeout.TotalSeconds:0} s.{output.Format("redis-cli")}");
        }

        await RedisProcesses.DrainOutputAsync(process);
        if (process.ExitCode != 0)
        {
            throw new ClusterStartException(
                $"redis-cli --cluster create exited with code {process.ExitCode}.{output.Format("redis-cli")}");
        }
    }

    /// <summary>
    /// Waits until every node in <paramref name="nodes"/> reports <c>cluster_state:ok</c> with all 16384 slots
    /// assigned (and, when given, knows exactly <paramref name="expectedKnownNodes"/> nodes), and sees every other
    /// node connected and healthy in <c>CLUSTER NODES</c>.
    /// </summary>
    private async Task WaitUntilClusterReadyAsync(IReadOnlyList<IPEndPoint> nodes, int? expectedKnownNodes)
    {
        var slotCount = RedisClusterSlot.SlotCount.ToString(CultureInfo.InvariantCulture);
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            ThrowIfAnyOwnedNodeExited();

            string? problem = null;
            foreach (var node in nodes)
            {
                try
                {
                    problem = await NodeProblemAsync(node, slotCount, expectedKnownNodes);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    problem = $"{node}: {ex.Message}";
                }

                if (problem is not null)
                {
                    break;
                }
            }

            if (problem is null)
            {
                return;
            }

            if (stopwatch.Elapsed >= ClusterReadyTimeout)
            {
                throw new ClusterStartException(
                    $"the cluster did not become ready within {ClusterReadyTimeout.TotalSeconds:0} s (last problem: {problem}).{OwnedNodesOutput()}");
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>What keeps <paramref name="node"/> from being ready, or <see langword="null"/> when it is.</summary>
    private static async Task<string?> NodeProblemAsync(IPEndPoint node, string slotCount, int? expectedKnownNodes)
    {
        using var probe = await ConnectionMultiplexer.ConnectAsync(RedisServerProcess.ProbeOptions(node.Port));
        var server = probe.GetServer(node);
        var info = await RedisServerInfo.ClusterInfoAsync(server);
        var state = info.GetValueOrDefault("cluster_state");
        var assigned = info.GetValueOrDefault("cluster_slots_assigned");
        var known = info.GetValueOrDefault("cluster_known_nodes");
        if (state != "ok")
        {
            return $"{node} reports cluster_state:{state}";
        }

        if (assigned != slotCount)
        {
            return $"{node} reports cluster_slots_assigned:{assigned}";
        }

        if (expectedKnownNodes is { } expected && known != expected.ToString(CultureInfo.InvariantCulture))
        {
            return $"{node} reports cluster_known_nodes:{known}, expected {expected}";
        }

        var configuration = await server.ClusterNodesAsync()
            ?? throw new ClusterStartException($"{node} answered CLUSTER NODES with nothing.");
        var unhealthy = configuration.Nodes.FirstOrDefault(other =>
            !other.IsConnected || other.IsHandshake || other.IsNoAddr || other.IsFail || other.IsPossiblyFail);
        return unhealthy is null ? null : $"{node} sees an unhealthy node: {unhealthy.Raw}";
    }

    private void ThrowIfAnyOwnedNodeExited()
    {
        var exited = _ownedNodes.FirstOrDefault(node => node.HasExited);
        if (exited is not null)
        {
            throw new ClusterStartException(
                string.Create(CultureInfo.InvariantCulture, $"redis-server on port {exited.Port} exited with code {exited.ExitCode}.") + exited.Output.Format("redis-server"));
        }
    }

    private async Task<IReadOnlyList<IPEndPoint>> DiscoverMastersAsync()
    {
        using var probe = await ConnectionMultiplexer.ConnectAsync(RedisServerProcess.ProbeOptions(_seeds[0].Port));
        var configuration = await probe.GetServer(_seeds[0]).ClusterNodesAsync()
            ?? throw new InvalidOperationException($"CLUSTER NODES on {_seeds[0]} answered nothing.");
        var masters = configuration.Nodes
            .Where(node => !node.IsReplica)
            .Select(node => node.EndPoint as IPEndPoint ?? throw new InvalidOperationException($"The cluster lists the master {node.Raw} without an IP endpoint."))
            .OrderBy(endPoint => endPoint.Port)
            .ToList();
        var nonLoopback = masters.Where(endPoint => !IPAddress.IsLoopback(endPoint.Address)).ToList();
        if (nonLoopback.Count > 0)
        {
            throw new InvalidOperationException(
                $"The cluster has non-loopback master(s) {string.Join(", ", nonLoopback)}. The Redis Cluster tests FLUSHALL " +
                "every master, so only clusters whose nodes are all on loopback addresses are allowed.");
        }

        if (masters.Count == 0)
        {
            throw new InvalidOperationException(
                $"CLUSTER NODES on {_seeds[0]} lists no master:{Environment.NewLine}{string.Join(Environment.NewLine, configuration.Nodes.Select(node => node.Raw))}");
        }

        return masters;
    }

    private async Task WaitUntilMultiplexerReadyAsync(ConnectionMultiplexer multiplexer)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            string? problem;
            try
            {
                problem = await MultiplexerProblemAsync(multiplexer);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or ArgumentException)
            {
                // ArgumentException: the multiplexer has not discovered that endpoint yet.
                problem = ex.Message;
            }

            if (problem is null)
            {
                return;
            }

            if (stopwatch.Elapsed >= MultiplexerReadyTimeout)
            {
                throw new InvalidOperationException(
                    $"StackExchange.Redis could not reach every master of the cluster '{_configuration}' within " +
                    $"{MultiplexerReadyTimeout.TotalSeconds:0} s (last problem: {problem}).{OwnedNodesOutput()}");
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Returns why the multiplexer cannot serve every master yet, or <see langword="null"/> when it can.</summary>
    private async Task<string?> MultiplexerProblemAsync(ConnectionMultiplexer multiplexer)
    {
        foreach (var endPoint in _masterEndPoints)
        {
            var server = multiplexer.GetServer(endPoint);
            if (!server.IsConnected)
            {
                return $"{endPoint} is not connected yet";
            }

            if (server.ServerType != ServerType.Cluster)
            {
                return $"{endPoint} is seen as {server.ServerType}, not Cluster";
            }

            await server.PingAsync();
        }

        return null;
    }

    private async Task StopOwnedNodesAsync()
    {
        // No polite SHUTDOWN: nothing is persisted, and a kill cannot reach another process that took the port.
        var nodes = _ownedNodes.ToList();
        _ownedNodes.Clear();
        await Task.WhenAll(nodes.Select(node => node.DisposeAsync().AsTask()));
    }

    private string OwnedNodesOutput() =>
        string.Concat(_ownedNodes.Select(node => node.Output.Format(string.Create(CultureInfo.InvariantCulture, $"redis-server (port {node.Port})"))));

    private static InvalidOperationException NotInitialized() =>
        new("The Redis Cluster fixture is not initialized (InitializeAsync has not completed successfully).");

    private sealed class ClusterStartException(string message) : Exception(message);
}
