using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

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
/// Otherwise the fixture starts three <c>redis-server</c> child processes in cluster mode on free loopback
/// ports (each without persistence, in its own temporary directory), joins them with
/// <c>redis-cli --cluster create</c>, waits until every node reports <c>cluster_state:ok</c> with all 16384
/// slots assigned, and kills the processes when the test run ends.
/// </para>
/// <para>
/// Only API shared by StackExchange.Redis 1.2.6 and 2.x is used here. Commands that must reach one particular
/// node (<c>CLUSTER INFO</c>, <c>CLUSTER NODES</c>, ...) go through <see cref="ExecuteOnNodeAsync"/>, a tiny RESP
/// client, because <c>IServer</c> has no <c>Execute</c> in 1.2.6.
/// </para>
/// </remarks>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    /// <summary>Environment variable naming the seed nodes of a running (loopback) cluster to use instead of starting one.</summary>
    public const string ExternalClusterVariable = "RESILIENTQUEUE_REDIS_CLUSTER";

    /// <summary>Environment variable giving the full path of the <c>redis-cli</c> executable.</summary>
    public const string CliPathVariable = "REDIS_CLI_PATH";

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

    private static readonly TimeSpan NodeStartupTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ClusterCreateTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ClusterReadyTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan MultiplexerReadyTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan NodeCommandTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private static readonly string[] UnhealthyNodeFlags = ["handshake", "noaddr", "fail", "fail?"];

    private readonly Lock _processLock = new();
    private readonly List<Process> _liveProcesses = [];
    private readonly List<OwnedNode> _ownedNodes = [];

    private string? _configuration;
    private IReadOnlyList<NodeAddress> _seeds = [];
    private IReadOnlyList<IPEndPoint> _masterEndPoints = [];
    private ConnectionMultiplexer? _multiplexer;
    private IDisposable? _killOnHostExit;
    private bool _ownsCluster;

    /// <summary>
    /// The StackExchange.Redis configuration string of the cluster, e.g.
    /// <c>127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3,abortConnect=false,allowAdmin=true</c>.
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
            _configuration = string.Join(",", _seeds.Select(seed => seed.ToString())) + ",abortConnect=false,allowAdmin=true";
            _multiplexer = await ConnectAsync();
            await WaitUntilMultiplexerReadyAsync(_multiplexer);
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

        _killOnHostExit?.Dispose();
        _killOnHostExit = null;
    }

    /// <summary>Opens a new connection to the cluster (admin commands allowed). The caller disposes it.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(Configuration);

    /// <summary>
    /// Removes every key from every master (<c>FLUSHALL</c> sent to each master through
    /// <c>IServer.FlushAllDatabasesAsync</c>). Retries for a while if the shared connection is reconnecting.
    /// </summary>
    public Task FlushAsync() => Task.WhenAll(MasterEndPoints.Select(FlushMasterAsync));

    /// <summary>
    /// Sends one command to exactly the node at <paramref name="endPoint"/> (a loopback address) over a fresh
    /// connection, bypassing StackExchange.Redis routing. Returns a simple string, bulk string or integer reply
    /// as text (<see langword="null"/> for a null reply).
    /// </summary>
    /// <exception cref="RedisNodeErrorReplyException">The node answered with an error reply (e.g. <c>CROSSSLOT ...</c>).</exception>
    /// <exception cref="InvalidOperationException">The node answered with an array.</exception>
    public static async Task<string?> ExecuteOnNodeAsync(EndPoint endPoint, params string[] command)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var address = endPoint switch
        {
            IPEndPoint ip => new NodeAddress(ip.Address.ToString(), ip.Port),
            DnsEndPoint dns => new NodeAddress(dns.Host, dns.Port),
            _ => throw new ArgumentException($"Unsupported endpoint type {endPoint.GetType().Name}.", nameof(endPoint)),
        };
        if (!address.IsLoopback)
        {
            throw new ArgumentException($"Only loopback nodes may be used, not {address}.", nameof(endPoint));
        }

        return ReplyToText(await QueryAsync(address, NodeCommandTimeout, command), command);
    }

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
        var seeds = new List<NodeAddress>();
        foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!NodeAddress.TryParse(item, out var seed))
            {
                throw new InvalidOperationException(
                    $"{ExternalClusterVariable}='{value}': '{item}' is not a host:port pair; use e.g. " +
                    $"{ExternalClusterVariable}=127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002.");
            }

            if (!seed.IsLoopback)
            {
                throw new InvalidOperationException(
                    $"{ExternalClusterVariable}='{value}' names the non-loopback node {seed}. The Redis Cluster tests " +
                    "FLUSHALL every master, so only loopback nodes (127.0.0.0/8, localhost, ::1) are allowed.");
            }

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
        var serverPath = RedisProcesses.FindExecutable(RedisServerFixture.ServerPathVariable, "redis-server", null, ServerNotFoundMessage);
        var cliPath = RedisProcesses.FindExecutable(CliPathVariable, "redis-cli", Path.GetDirectoryName(serverPath), CliNotFoundMessage);

        _ownsCluster = true;
        _killOnHostExit = RedisProcesses.KillOnHostExit(KillLiveProcesses);

        var failures = new List<string>();
        for (var attempt = 1; attempt <= MaxStartAttempts; attempt++)
        {
            var nodes = PickPorts(OwnedMasterCount).Select(port => new NodeAddress("127.0.0.1", port)).ToList();
            try
            {
                await StartNodesAsync(serverPath, nodes);
                await CreateClusterAsync(cliPath, nodes);
                await WaitUntilClusterReadyAsync(nodes, expectedKnownNodes: OwnedMasterCount);
                _seeds = nodes;
                return;
            }
            catch (ClusterStartException ex)
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
            if (!ports.Contains(port) && IsPortFree(port) && IsPortFree(port + ClusterBusPortOffset))
            {
                ports.Add(port);
            }
        }

        return ports;
    }

    private static bool IsPortFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        finally
        {
            listener.Stop();
        }
    }

    private async Task StartNodesAsync(string serverPath, IReadOnlyList<NodeAddress> nodes)
    {
        var starts = nodes.Select(node => StartNodeAsync(serverPath, node.Port)).ToArray();
        try
        {
            await Task.WhenAll(starts);
        }
        catch (ClusterStartException)
        {
            // Report every node that failed, not only the first one.
            var messages = starts
                .Where(start => start.IsFaulted)
                .SelectMany(start => start.Exception!.InnerExceptions)
                .Select(ex => ex.Message);
            throw new ClusterStartException(string.Join(Environment.NewLine, messages));
        }
    }

    private async Task StartNodeAsync(string serverPath, int port)
    {
        var node = new OwnedNode(port, Directory.CreateTempSubdirectory("resilientqueue-redis-cluster-").FullName);
        lock (_processLock)
        {
            _ownedNodes.Add(node);
        }

        var arguments = RedisProcesses.LoopbackServerArguments(
            port,
            node.DataDirectory,
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", "2000");
        node.Process = StartProcess(RedisProcesses.CreateStartInfo(serverPath, arguments, workingDirectory: node.DataDirectory), node.Output);
        await WaitUntilNodeAnswersAsync(node);
    }

    private async Task WaitUntilNodeAnswersAsync(OwnedNode node)
    {
        var process = node.Process!;
        var address = new NodeAddress("127.0.0.1", node.Port);
        var stopwatch = Stopwatch.StartNew();
        var lastError = "no connection attempt finished";
        while (true)
        {
            if (process.HasExited)
            {
                await RedisProcesses.DrainOutputAsync(process);
                throw new ClusterStartException(
                    $"redis-server exited with code {process.ExitCode} before answering on {address}.{node.Output.Format("redis-server")}");
            }

            if (stopwatch.Elapsed >= NodeStartupTimeout)
            {
                throw new ClusterStartException(
                    $"redis-server did not answer on {address} within {NodeStartupTimeout.TotalSeconds:0} s " +
                    $"(last error: {lastError}).{node.Output.Format("redis-server")}");
            }

            try
            {
                // Make sure the server answering is ours and not another process that took the port.
                var info = ReplyToText(await QueryAsync(address, NodeCommandTimeout, "INFO", "server"), ["INFO"]) ?? string.Empty;
                var processId = RedisServerFixture.ReadInfoField(info, "process_id");
                if (processId != process.Id.ToString(CultureInfo.InvariantCulture))
                {
                    throw new ClusterStartException(
                        $"port {node.Port} is served by another process (process_id {processId}, expected {process.Id}).");
                }

                return;
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                lastError = ex.Message;
            }

            await Task.Delay(PollInterval);
        }
    }

    private async Task CreateClusterAsync(string cliPath, IReadOnlyList<NodeAddress> nodes)
    {
        string[] arguments = ["--cluster", "create", .. nodes.Select(node => node.ToString()), "--cluster-replicas", "0", "--cluster-yes"];
        var startInfo = RedisProcesses.CreateStartInfo(cliPath, arguments, redirectStandardInput: true);
        var output = new OutputTail();
        var process = StartProcess(startInfo, output);
        try
        {
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
        finally
        {
            ForgetProcess(process);
            process.Dispose();
        }
    }

    /// <summary>
    /// Waits until every node in <paramref name="nodes"/> reports <c>cluster_state:ok</c> with all 16384 slots
    /// assigned (and, when given, knows exactly <paramref name="expectedKnownNodes"/> nodes), and sees every other
    /// node connected and healthy in <c>CLUSTER NODES</c>.
    /// </summary>
    private async Task WaitUntilClusterReadyAsync(IReadOnlyList<NodeAddress> nodes, int? expectedKnownNodes)
    {
        var slotCount = RedisClusterSlot.SlotCount.ToString(CultureInfo.InvariantCulture);
        var stopwatch = Stopwatch.StartNew();
        var lastProblem = "no node was asked yet";
        while (true)
        {
            ThrowIfAnyOwnedNodeExited();

            string? problem = null;
            foreach (var node in nodes)
            {
                try
                {
                    var info = ReplyToText(await QueryAsync(node, NodeCommandTimeout, "CLUSTER", "INFO"), ["CLUSTER", "INFO"]) ?? string.Empty;
                    var state = RedisServerFixture.ReadInfoField(info, "cluster_state");
                    var assigned = RedisServerFixture.ReadInfoField(info, "cluster_slots_assigned");
                    var known = RedisServerFixture.ReadInfoField(info, "cluster_known_nodes");
                    if (state != "ok")
                    {
                        problem = $"{node} reports cluster_state:{state}";
                    }
                    else if (assigned != slotCount)
                    {
                        problem = $"{node} reports cluster_slots_assigned:{assigned}";
                    }
                    else if (expectedKnownNodes is { } expected && known != expected.ToString(CultureInfo.InvariantCulture))
                    {
                        problem = $"{node} reports cluster_known_nodes:{known}, expected {expected}";
                    }
                    else
                    {
                        var clusterNodes = ReplyToText(await QueryAsync(node, NodeCommandTimeout, "CLUSTER", "NODES"), ["CLUSTER", "NODES"]) ?? string.Empty;
                        var unhealthy = RedisClusterNode.ParseAll(clusterNodes)
                            .FirstOrDefault(other => other.LinkState != "connected" || other.Flags.Intersect(UnhealthyNodeFlags).Any());
                        if (unhealthy is not null)
                        {
                            problem = $"{node} sees {unhealthy.EndPoint} with flags {string.Join(",", unhealthy.Flags)} and link {unhealthy.LinkState}";
                        }
                    }
                }
                catch (Exception ex) when (IsTransient(ex))
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

            lastProblem = problem;
            if (stopwatch.Elapsed >= ClusterReadyTimeout)
            {
                throw new ClusterStartException(
                    $"the cluster did not become ready within {ClusterReadyTimeout.TotalSeconds:0} s (last problem: {lastProblem}).{OwnedNodesOutput()}");
            }

            await Task.Delay(PollInterval);
        }
    }

    private void ThrowIfAnyOwnedNodeExited()
    {
        OwnedNode? exited;
        lock (_processLock)
        {
            exited = _ownedNodes.FirstOrDefault(node => node.Process is { HasExited: true });
        }

        if (exited is not null)
        {
            throw new ClusterStartException(
                $"redis-server on port {exited.Port} exited with code {exited.Process!.ExitCode}.{exited.Output.Format("redis-server")}");
        }
    }

    private async Task<IReadOnlyList<IPEndPoint>> DiscoverMastersAsync()
    {
        var clusterNodes = ReplyToText(await QueryAsync(_seeds[0], NodeCommandTimeout, "CLUSTER", "NODES"), ["CLUSTER", "NODES"]) ?? string.Empty;
        var masters = RedisClusterNode.ParseAll(clusterNodes)
            .Where(node => node.IsMaster)
            .Select(node => node.EndPoint)
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
            throw new InvalidOperationException($"CLUSTER NODES on {_seeds[0]} lists no master:{Environment.NewLine}{clusterNodes}");
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

    private Process StartProcess(ProcessStartInfo startInfo, OutputTail output)
    {
        var process = RedisProcesses.Start(startInfo, output.Add, output.Add);
        lock (_processLock)
        {
            _liveProcesses.Add(process);
        }

        return process;
    }

    private void ForgetProcess(Process process)
    {
        lock (_processLock)
        {
            _liveProcesses.Remove(process);
        }
    }

    private async Task StopOwnedNodesAsync()
    {
        List<OwnedNode> nodes;
        lock (_processLock)
        {
            nodes = [.. _ownedNodes];
            _ownedNodes.Clear();
        }

        // No polite SHUTDOWN: nothing is persisted, and a kill cannot reach another process that took the port.
        foreach (var node in nodes)
        {
            RedisProcesses.Kill(node.Process);
        }

        foreach (var node in nodes)
        {
            if (node.Process is { } process)
            {
                await RedisProcesses.WaitForExitAsync(process, RedisProcesses.KillTimeout);
                ForgetProcess(process);
                process.Dispose();
            }

            RedisProcesses.DeleteDirectory(node.DataDirectory);
        }
    }

    private void KillLiveProcesses()
    {
        List<Process> processes;
        lock (_processLock)
        {
            processes = [.. _liveProcesses];
        }

        foreach (var process in processes)
        {
            RedisProcesses.Kill(process);
        }
    }

    private string OwnedNodesOutput()
    {
        List<OwnedNode> nodes;
        lock (_processLock)
        {
            nodes = [.. _ownedNodes];
        }

        return string.Concat(nodes.Select(node => node.Output.Format($"redis-server (port {node.Port})")));
    }

    private static bool IsTransient(Exception ex) =>
        ex is SocketException or IOException or TimeoutException or RedisNodeErrorReplyException;

    private static string? ReplyToText(object? reply, string[] command) => reply switch
    {
        null => null,
        string text => text,
        long number => number.ToString(CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"'{string.Join(" ", command)}' answered with an array; only text replies are supported."),
    };

    /// <summary>Sends one command over a fresh connection and reads its reply (RESP2), within <paramref name="timeout"/>.</summary>
    private static async Task<object?> QueryAsync(NodeAddress node, TimeSpan timeout, params string[] command)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(node.Host, node.Port, cancellation.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(EncodeCommand(command), cancellation.Token);
            return await new RespReader(stream).ReadAsync(cancellation.Token);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"{node} did not answer '{string.Join(" ", command)}' within {timeout.TotalSeconds:0.#} s.");
        }
    }

    private static byte[] EncodeCommand(string[] command)
    {
        var builder = new StringBuilder();
        builder.Append('*').Append(command.Length).Append("\r\n");
        foreach (var argument in command)
        {
            builder.Append('$').Append(Encoding.UTF8.GetByteCount(argument)).Append("\r\n").Append(argument).Append("\r\n");
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    private static InvalidOperationException NotInitialized() =>
        new("The Redis Cluster fixture is not initialized (InitializeAsync has not completed successfully).");

    private sealed class ClusterStartException(string message) : Exception(message);

    private sealed class OwnedNode(int port, string dataDirectory)
    {
        public int Port { get; } = port;

        public string DataDirectory { get; } = dataDirectory;

        public OutputTail Output { get; } = new();

        public Process? Process { get; set; }
    }

    /// <summary>A node address as given in configuration: a host name or IP address and a port.</summary>
    private readonly record struct NodeAddress(string Host, int Port)
    {
        public bool IsLoopback => RedisProcesses.IsLoopbackHost(Host);

        public static bool TryParse(string text, out NodeAddress address)
        {
            address = default;
            var colon = text.LastIndexOf(':');
            if (colon <= 0
                || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                || port is < 1 or > 65535)
            {
                return false;
            }

            var host = text[..colon].Trim('[', ']');
            if (host.Length == 0)
            {
                return false;
            }

            address = new NodeAddress(host, port);
            return true;
        }

        public override string ToString() =>
            Host.Contains(':', StringComparison.Ordinal)
                ? FormattableString.Invariant($"[{Host}]:{Port}")
                : FormattableString.Invariant($"{Host}:{Port}");
    }

    /// <summary>Reads one RESP2 reply: simple strings, errors, integers, bulk strings and arrays.</summary>
    private sealed class RespReader(Stream stream)
    {
        private byte[] _buffer = new byte[4096];
        private int _start;
        private int _end;

        public async Task<object?> ReadAsync(CancellationToken cancellationToken)
        {
            var line = await ReadLineAsync(cancellationToken);
            if (line.Length == 0)
            {
                throw new IOException("The Redis node sent an empty reply line.");
            }

            var payload = line[1..];
            switch (line[0])
            {
                case '+':
                    return payload;
                case '-':
                    throw new RedisNodeErrorReplyException(payload);
                case ':':
                    return long.Parse(payload, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                case '$':
                    var length = int.Parse(payload, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                    if (length < 0)
                    {
                        return null;
                    }

                    var bytes = await ReadExactAsync(length + 2, cancellationToken);
                    return Encoding.UTF8.GetString(bytes, 0, length);
                case '*':
                    var count = int.Parse(payload, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                    if (count < 0)
                    {
                        return null;
                    }

                    var items = new object?[count];
                    for (var i = 0; i < count; i++)
                    {
                        items[i] = await ReadAsync(cancellationToken);
                    }

                    return items;
                default:
                    throw new IOException($"The Redis node sent an unexpected reply line '{line}'.");
            }
        }

        private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                var index = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8);
                if (index >= 0)
                {
                    var line = Encoding.UTF8.GetString(_buffer, _start, index);
                    _start += index + 2;
                    return line;
                }

                await FillAsync(cancellationToken);
            }
        }

        private async Task<byte[]> ReadExactAsync(int count, CancellationToken cancellationToken)
        {
            while (_end - _start < count)
            {
                await FillAsync(cancellationToken);
            }

            var bytes = _buffer.AsSpan(_start, count).ToArray();
            _start += count;
            return bytes;
        }

        private async Task FillAsync(CancellationToken cancellationToken)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                throw new IOException("The Redis node closed the connection before replying completely.");
            }

            _end += read;
        }
    }
}

/// <summary>An error reply (e.g. <c>CROSSSLOT ...</c>, <c>MOVED ...</c>) of <see cref="RedisClusterFixture.ExecuteOnNodeAsync"/>.</summary>
public sealed class RedisNodeErrorReplyException : Exception
{
    /// <summary>Creates the exception with the node's error reply as message.</summary>
    public RedisNodeErrorReplyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the node's error reply as message and an inner exception.</summary>
    public RedisNodeErrorReplyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public RedisNodeErrorReplyException()
    {
    }
}

/// <summary>An inclusive range of hash slots served by a cluster node.</summary>
public readonly record struct RedisSlotRange(int Start, int End)
{
    /// <summary>Whether <paramref name="slot"/> is in the range.</summary>
    public bool Contains(int slot) => slot >= Start && slot <= End;

    /// <summary>The number of slots in the range.</summary>
    public int Count => End - Start + 1;
}

/// <summary>One line of a <c>CLUSTER NODES</c> reply.</summary>
/// <param name="Id">The node id.</param>
/// <param name="EndPoint">The node's client endpoint (<c>ip:port</c>, without the <c>@cport</c> and hostname parts).</param>
/// <param name="Flags">The flags, e.g. <c>myself</c>, <c>master</c>, <c>slave</c>, <c>fail?</c>.</param>
/// <param name="MasterId">The master's id for a replica, <c>-</c> for a master.</param>
/// <param name="LinkState"><c>connected</c> or <c>disconnected</c>.</param>
/// <param name="Slots">The slot ranges served (slots being imported or migrated are not listed).</param>
public sealed record RedisClusterNode(
    string Id,
    IPEndPoint EndPoint,
    IReadOnlyList<string> Flags,
    string MasterId,
    string LinkState,
    IReadOnlyList<RedisSlotRange> Slots)
{
    /// <summary>Whether the node is a master.</summary>
    public bool IsMaster => Flags.Contains("master");

    /// <summary>Whether the node serves <paramref name="slot"/>.</summary>
    public bool Serves(int slot) => Slots.Any(range => range.Contains(slot));

    /// <summary>Parses a whole <c>CLUSTER NODES</c> reply (one node per line).</summary>
    public static IReadOnlyList<RedisClusterNode> ParseAll(string? clusterNodes)
    {
        ArgumentNullException.ThrowIfNull(clusterNodes);
        return clusterNodes
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(Parse)
            .ToList();
    }

    /// <summary>
    /// Parses one <c>CLUSTER NODES</c> line:
    /// <c>&lt;id&gt; &lt;ip:port@cport[,hostname]&gt; &lt;flags&gt; &lt;master&gt; &lt;ping-sent&gt; &lt;pong-recv&gt; &lt;config-epoch&gt; &lt;link-state&gt; &lt;slot&gt; ...</c>
    /// </summary>
    public static RedisClusterNode Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 8)
        {
            throw new FormatException($"Not a CLUSTER NODES line: '{line}'.");
        }

        var address = fields[1].Split('@', ',')[0];
        var colon = address.LastIndexOf(':');
        if (colon < 0
            || !IPAddress.TryParse(address[..colon].Trim('[', ']'), out var ip)
            || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new FormatException($"Unexpected node address '{fields[1]}' in CLUSTER NODES line '{line}'.");
        }

        var slots = new List<RedisSlotRange>();
        foreach (var field in fields.Skip(8).Where(field => !field.StartsWith('[')))
        {
            var dash = field.IndexOf('-', StringComparison.Ordinal);
            slots.Add(dash < 0
                ? new RedisSlotRange(int.Parse(field, CultureInfo.InvariantCulture), int.Parse(field, CultureInfo.InvariantCulture))
                : new RedisSlotRange(
                    int.Parse(field.AsSpan(0, dash), CultureInfo.InvariantCulture),
                    int.Parse(field.AsSpan(dash + 1), CultureInfo.InvariantCulture)));
        }

        return new RedisClusterNode(fields[0], new IPEndPoint(ip, port), fields[2].Split(','), fields[3], fields[7], slots);
    }
}
