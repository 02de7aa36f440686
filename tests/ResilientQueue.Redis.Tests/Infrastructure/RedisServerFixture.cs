using System.Diagnostics;
using System.Globalization;
using System.Net;
using ResilientQueue.Testing.Redis;
using StackExchange.Redis;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ResilientQueue.Redis.Tests.Infrastructure;

/// <summary>
/// The xunit collection that shares one <see cref="RedisServerFixture"/> (one Redis server) between
/// every Redis test class. Test classes join it with <c>[Collection(RedisCollection.Name)]</c>
/// (or by deriving from <see cref="RedisTestBase"/>).
/// </summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>
{
    /// <summary>The collection name used by <c>[Collection(...)]</c>.</summary>
    public const string Name = "redis";
}

/// <summary>Where the server of a <see cref="RedisServerFixture"/> came from.</summary>
public enum RedisServerSource
{
    /// <summary>A running server named by <c>RESILIENTQUEUE_REDIS</c>.</summary>
    External,

    /// <summary>A Docker container started through Testcontainers.</summary>
    Container,

    /// <summary>A local <c>redis-server</c> child process.</summary>
    Process,
}

/// <summary>
/// Provides a Redis server for the tests of the <see cref="RedisCollection"/>.
/// </summary>
/// <remarks>
/// <para>
/// The server is resolved in this order: <c>RESILIENTQUEUE_REDIS</c> (a StackExchange.Redis configuration string such as
/// <c>127.0.0.1:6379</c>; every endpoint must be a loopback address, because the tests FLUSHALL it) → a Testcontainers
/// container of <c>RESILIENTQUEUE_REDIS_IMAGE</c> (default <c>redis:7.0</c>) when a Docker engine answers
/// (<c>RESILIENTQUEUE_REDIS_DOCKER=auto</c>, the default; <c>on</c> requires it, <c>off</c> skips it) → a local
/// <c>redis-server</c> child process. Both owned kinds listen on 127.0.0.1 only, run without persistence, keep their data in a
/// fresh temporary directory, and are stopped when the test run ends. The fixture writes one line saying which server runs
/// (<see cref="Description"/>) to standard error and to xunit's diagnostic messages.
/// </para>
/// <para>
/// Every connection the fixture opens uses the protocol of <c>RESILIENTQUEUE_REDIS_PROTOCOL</c> (<c>resp2</c>/<c>resp3</c>;
/// unset: the client's default, RESP2 on StackExchange.Redis 2.x and RESP3 on 3.x): it is part of <see cref="Configuration"/>.
/// </para>
/// <para>
/// An owned server can be restarted empty (<see cref="RestartAsync"/>) or with its data
/// (<see cref="RestartPreservingDataAsync"/>: an RDB snapshot written by <c>SHUTDOWN SAVE</c> and loaded at the next start,
/// then deleted; the server's configuration stays without persistence throughout). A container keeps its host port and
/// its (mounted) data directory across the stop and the start, so both work on either kind.
/// </para>
/// </remarks>
public sealed class RedisServerFixture : IAsyncLifetime
{
    /// <summary>Environment variable naming an already running (loopback) Redis server to use instead of starting one.</summary>
    public const string ExternalServerVariable = "RESILIENTQUEUE_REDIS";

    /// <summary>Environment variable giving the full path of the <c>redis-server</c> executable.</summary>
    public const string ServerPathVariable = RedisProcesses.ServerPathVariable;

    /// <summary>The message of the exception thrown when no <c>redis-server</c> executable can be found.</summary>
    public const string ServerNotFoundMessage = RedisServerProcess.ServerNotFoundMessage;

    private const int MaxRestartAttempts = 3;
    private const string SnapshotFileName = "dump.rdb";

    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly IMessageSink _diagnostics;

    private string? _configuration;
    private int _port;
    private ConnectionMultiplexer? _multiplexer;
    private string? _dataDirectory;
    private RedisServerProcess? _process;
    private RedisContainerServer? _container;

    /// <summary>Creates the fixture; xunit passes its diagnostic message sink, where the fixture says which server runs.</summary>
    public RedisServerFixture(IMessageSink diagnostics) => _diagnostics = diagnostics;

    /// <summary>
    /// The StackExchange.Redis configuration string of the server, with <c>allowAdmin=true</c>, <c>abortConnect=false</c>
    /// and, when <c>RESILIENTQUEUE_REDIS_PROTOCOL</c> is set, <c>protocol=resp2|resp3</c>,
    /// e.g. <c>127.0.0.1:6379,allowAdmin=true,abortConnect=false</c>.
    /// </summary>
    public string Configuration => _configuration ?? throw NotInitialized();

    /// <summary>The TCP port of the server (of its first endpoint when external; the published host port of a container).</summary>
    public int Port => _configuration is null ? throw NotInitialized() : _port;

    /// <summary>The connection shared by the tests (admin commands allowed). Do not dispose it.</summary>
    public ConnectionMultiplexer Multiplexer => _multiplexer ?? throw NotInitialized();

    /// <summary>
    /// <see langword="true"/> when the fixture started (and so can stop and restart) the server, as a process or a container;
    /// <see langword="false"/> when <c>RESILIENTQUEUE_REDIS</c> points at an external server.
    /// </summary>
    public bool OwnsServer => Source != RedisServerSource.External;

    /// <summary>Where the server came from.</summary>
    public RedisServerSource Source { get; private set; } = RedisServerSource.External;

    /// <summary>The one line the fixture logged at start: which server runs, where, with which client and protocol, and why.</summary>
    public string Description { get; private set; } = string.Empty;

    /// <summary>The full path of the owned server's <c>redis-server</c> executable; <see langword="null"/> for an external server or a container.</summary>
    public string? ServerPath => _process?.ServerPath;

    /// <summary>The container, on the container path; <see langword="null"/> otherwise.</summary>
    public RedisContainerServer? Container => _container;

    /// <summary>The owned server's data directory (its <c>--dir</c>, on the host); <see langword="null"/> for an external server.</summary>
    public string? DataDirectory => _dataDirectory;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        try
        {
            var why = await ResolveServerAsync();
            _multiplexer = await ConnectAsync();
            var server = RedisServerInfo.SingleServer(_multiplexer);
            try
            {
                await server.PingAsync();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                throw new InvalidOperationException(
                    $"The Redis server at '{_configuration}' did not answer PING: {ex.Message}", ex);
            }

            var version = await RedisServerInfo.InfoFieldAsync(server, "server", "redis_version");
            var protocolSwitch = RedisTestSettings.Protocol is { } asked
                ? $"{RedisTestSettings.ProtocolVariable}={asked.ToString().ToLowerInvariant()}"
                : $"{RedisTestSettings.ProtocolVariable} unset: the client's default";
            Description = $"Redis tests: server = {DescribeServer()}{why}; redis {version}; " +
                $"StackExchange.Redis {RedisTestSettings.ClientPackageVersion}, {server.Protocol.ToString().ToUpperInvariant()} ({protocolSwitch})";
            Log(Description);
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

        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }

        if (_container is not null)
        {
            await _container.DisposeAsync();
            _container = null;
        }

        if (_dataDirectory is not null)
        {
            RedisProcesses.DeleteDirectory(_dataDirectory);
            _dataDirectory = null;
        }
    }

    /// <summary>Opens a new connection to the server (admin commands allowed, the switch's protocol). The caller disposes it.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(Configuration);

    /// <summary>
    /// Removes every key of every database (<c>FLUSHALL</c>). Retries for a while if the shared
    /// connection is still reconnecting (e.g. right after <see cref="RestartAsync"/>).
    /// </summary>
    public async Task FlushAsync()
    {
        var server = RedisServerInfo.SingleServer(Multiplexer);
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await server.FlushAllDatabasesAsync();
                return;
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && stopwatch.Elapsed < FlushTimeout)
            {
                await Task.Delay(PollInterval);
            }
        }
    }

    /// <summary>
    /// Stops the owned server (<c>SHUTDOWN NOSAVE</c>, so all data is lost), waits <paramref name="downtime"/>,
    /// and starts it again on the same port. Returns once the new server answers PING; the shared
    /// <see cref="Multiplexer"/> reconnects on its own shortly after.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server is external (see <see cref="OwnsServer"/>).</exception>
    public Task RestartAsync(TimeSpan downtime) => RestartCoreAsync(downtime, preserveData: false);

    /// <summary>
    /// Like <see cref="RestartAsync"/>, but the data survives: the server is stopped with <c>SHUTDOWN SAVE</c>, which
    /// writes an RDB snapshot (<c>dump.rdb</c> in the server's <c>--dir</c>) as its very last step, after every command
    /// it accepted, and the new server loads that snapshot at startup. Returns once the new server answers PING with
    /// the data loaded; the shared <see cref="Multiplexer"/> reconnects on its own shortly after.
    /// </summary>
    /// <remarks>
    /// The server's configuration is never changed: it keeps running without persistence (<c>save ""</c>,
    /// <c>appendonly no</c>) before and after, because <c>--save ""</c> only turns off automatic snapshots and a
    /// snapshot file present at startup is still loaded. The snapshot file is deleted as soon as the new server has
    /// loaded it, so a later <see cref="RestartAsync"/> (or a crash) starts empty as before. Commands sent while the
    /// server is down fail on the client side (connection errors), exactly as in a real restart.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The server is external, or it could not write its snapshot (it is then left running, unchanged).</exception>
    public Task RestartPreservingDataAsync(TimeSpan downtime) => RestartCoreAsync(downtime, preserveData: true);

    private string SnapshotPath => Path.Combine(_dataDirectory!, SnapshotFileName);

    private async Task RestartCoreAsync(TimeSpan downtime, bool preserveData)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(downtime, TimeSpan.Zero);
        if (!OwnsServer)
        {
            throw new InvalidOperationException(
                $"RestartAsync is only possible with a redis-server owned by the fixture; {ExternalServerVariable} " +
                "points at an external server. Unset it to let the tests start their own redis-server.");
        }

        var what = preserveData ? "restart keeping the data" : "restart";
        Log($"Redis tests: {what} of the {Source.ToString().ToLowerInvariant()} on 127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)} " +
            $"(down for {downtime.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms)");
        if (_container is not null)
        {
            await _container.ShutdownAsync(save: preserveData);
        }
        else
        {
            await _process!.ShutdownAsync(save: preserveData);
            await _process.DisposeAsync();
            _process = null;
        }

        await Task.Delay(downtime);
        if (!preserveData)
        {
            // Start empty: never load a snapshot left over from an earlier RestartPreservingDataAsync.
            DeleteSnapshot();
        }

        if (_container is not null)
        {
            await _container.StartAgainAsync();
        }
        else
        {
            await StartProcessOnSamePortAsync();
        }

        if (preserveData)
        {
            // The server has answered (while loading it answers -LOADING), so it has loaded the snapshot; the file is
            // not needed any more, and the next plain start must be empty.
            DeleteSnapshot();
        }

        Log($"Redis tests: {what} done, the server answers again");
    }

    private async Task StartProcessOnSamePortAsync()
    {
        // The port was just released by our own server; redis-server binds with SO_REUSEADDR, but retry
        // briefly in case something else grabbed the port in the meantime.
        var failures = new List<string>();
        for (var attempt = 1; attempt <= MaxRestartAttempts; attempt++)
        {
            try
            {
                _process = await RedisServerProcess.StartAsync(ProcessOptions(_port));
                return;
            }
            catch (InvalidOperationException ex)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"Attempt {attempt}: {ex.Message}"));
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }

        throw new InvalidOperationException(
            string.Create(CultureInfo.InvariantCulture, $"redis-server could not be restarted on port {_port}:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}"));
    }

    private RedisServerProcessOptions ProcessOptions(int port) => new()
    {
        Port = port,
        DataDirectory = _dataDirectory,
        ExtraArguments = ["--dbfilename", SnapshotFileName],
    };

    private void DeleteSnapshot()
    {
        try
        {
            File.Delete(SnapshotPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"The snapshot '{SnapshotPath}' could not be deleted: {ex.Message}", ex);
        }
    }

    /// <summary>Finds or starts the server; returns the reason for the choice, to be logged (e.g. why Docker was not used).</summary>
    private async Task<string> ResolveServerAsync()
    {
        var external = Environment.GetEnvironmentVariable(ExternalServerVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            UseExternalServer(external);
            return string.Empty;
        }

        _dataDirectory = Directory.CreateTempSubdirectory("resilientqueue-redis-").FullName;
        var mode = RedisTestSettings.DockerMode;
        string why;
        if (mode == RedisDockerMode.Off)
        {
            why = $" (Docker not tried: {RedisTestSettings.DockerVariable}=off)";
        }
        else
        {
            try
            {
                _container = await RedisContainerServer.StartAsync(RedisTestSettings.Image, _dataDirectory);
                UseOwnedServer(RedisServerSource.Container, _container.Port);
                return string.Empty;
            }
            catch (Exception ex) when (mode == RedisDockerMode.Auto && ex is not OutOfMemoryException)
            {
                why = $" (Docker not used: {FirstLine(ex)}; {RedisTestSettings.DockerVariable}=on makes this an error, =off skips the attempt)";
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException(
                    $"{RedisTestSettings.DockerVariable}=on, but the {RedisTestSettings.Image} container did not start: {ex.Message}", ex);
            }
        }

        _process = await RedisServerProcess.StartAsync(ProcessOptions(port: 0));
        UseOwnedServer(RedisServerSource.Process, _process.Port);
        return why;
    }

    private void UseOwnedServer(RedisServerSource source, int port)
    {
        Source = source;
        _port = port;
        var protocol = RedisTestSettings.Protocol is { } asked ? ",protocol=" + asked.ToString().ToLowerInvariant() : string.Empty;
        _configuration = string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port},allowAdmin=true,abortConnect=false{protocol}");
    }

    private void UseExternalServer(string configuration)
    {
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException(
                $"{ExternalServerVariable}='{configuration}' is not a valid StackExchange.Redis configuration string: {ex.Message}", ex);
        }

        if (options.EndPoints.Count == 0)
        {
            throw new InvalidOperationException(
                $"{ExternalServerVariable}='{configuration}' names no endpoint; use e.g. {ExternalServerVariable}=127.0.0.1:6379.");
        }

        var nonLoopback = options.EndPoints.Where(endPoint => !IsLoopback(endPoint)).ToList();
        if (nonLoopback.Count > 0)
        {
            throw new InvalidOperationException(
                $"{ExternalServerVariable}='{configuration}' names non-loopback endpoint(s) " +
                $"{string.Join(", ", nonLoopback)}. The Redis tests FLUSHALL the server, so only loopback servers " +
                "(127.0.0.0/8, localhost, ::1) are allowed.");
        }

        options.SetDefaultPorts();
        options.AllowAdmin = true;
        options.AbortOnConnectFail = false;
        RedisTestSettings.ApplyProtocol(options);
        Source = RedisServerSource.External;
        _port = options.EndPoints[0] switch
        {
            IPEndPoint ip => ip.Port,
            DnsEndPoint dns => dns.Port,
            _ => 0,
        };
        _configuration = options.ToString();
    }

    private string DescribeServer() => Source switch
    {
        RedisServerSource.Container => string.Create(
            CultureInfo.InvariantCulture,
            $"Testcontainers container {_container!.Image} ({_container.ContainerId[..Math.Min(12, _container.ContainerId.Length)]}) published on {_container.EndPoint}"),
        RedisServerSource.Process => string.Create(
            CultureInfo.InvariantCulture, $"local redis-server process {_process!.ProcessId} ({_process.ServerPath}) on {_process.EndPoint}"),
        _ => $"external server {ExternalServerVariable}={Environment.GetEnvironmentVariable(ExternalServerVariable)}",
    };

    private void Log(string line)
    {
        Console.Error.WriteLine(line);
        _diagnostics.OnMessage(new DiagnosticMessage(line));
    }

    /// <summary>The first line of the exception's message and, when another exception lies beneath, the first line of the innermost.</summary>
    private static string FirstLine(Exception ex)
    {
        static string First(Exception e) =>
            e.GetType().Name + ": " + (e.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? string.Empty);

        var innermost = ex.GetBaseException();
        return ReferenceEquals(innermost, ex) ? First(ex) : $"{First(ex)} ({First(innermost)})";
    }

    private static bool IsLoopback(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
        DnsEndPoint dns => RedisProcesses.IsLoopbackHost(dns.Host),
        _ => false,
    };

    private static InvalidOperationException NotInitialized() =>
        new("The Redis fixture is not initialized (InitializeAsync has not completed successfully).");
}
