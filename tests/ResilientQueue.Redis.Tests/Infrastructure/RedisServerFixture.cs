using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

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

/// <summary>
/// Provides a Redis server for the tests of the <see cref="RedisCollection"/>.
/// </summary>
/// <remarks>
/// <para>
/// When the environment variable <c>RESILIENTQUEUE_REDIS</c> holds a StackExchange.Redis configuration
/// string (for example <c>127.0.0.1:6379</c>), that server is used; every endpoint must be a loopback
/// address. Otherwise the fixture starts its own <c>redis-server</c> child process on a free loopback port,
/// without persistence, in a fresh temporary directory, and stops it when the test run ends.
/// </para>
/// <para>
/// An owned server can be restarted empty (<see cref="RestartAsync"/>) or with its data
/// (<see cref="RestartPreservingDataAsync"/>: an RDB snapshot written by <c>SHUTDOWN SAVE</c> and loaded by the new
/// process, then deleted; the server's configuration stays without persistence throughout).
/// </para>
/// <para>
/// Only API shared by StackExchange.Redis 1.2.6 and 2.x is used here.
/// </para>
/// </remarks>
public sealed class RedisServerFixture : IAsyncLifetime
{
    /// <summary>Environment variable naming an already running (loopback) Redis server to use instead of starting one.</summary>
    public const string ExternalServerVariable = "RESILIENTQUEUE_REDIS";

    /// <summary>Environment variable giving the full path of the <c>redis-server</c> executable.</summary>
    public const string ServerPathVariable = "REDIS_SERVER_PATH";

    /// <summary>The message of the exception thrown when no <c>redis-server</c> executable can be found.</summary>
    public const string ServerNotFoundMessage =
        "redis-server was not found. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server) " +
        "or set RESILIENTQUEUE_REDIS=host:port to use a running loopback server.";

    private const int MaxStartAttempts = 3;
    private const string SnapshotFileName = "dump.rdb";

    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly OutputTail _output = new();

    private string? _configuration;
    private int _port;
    private ConnectionMultiplexer? _multiplexer;
    private string? _serverPath;
    private string? _dataDirectory;
    private Process? _process;
    private IDisposable? _killOnHostExit;

    /// <summary>
    /// The StackExchange.Redis configuration string of the server, with <c>allowAdmin=true</c> and
    /// <c>abortConnect=false</c>, e.g. <c>127.0.0.1:6379,allowAdmin=true,abortConnect=false</c>.
    /// </summary>
    public string Configuration => _configuration ?? throw NotInitialized();

    /// <summary>The TCP port of the server (of its first endpoint when external).</summary>
    public int Port => _configuration is null ? throw NotInitialized() : _port;

    /// <summary>The connection shared by the tests (admin commands allowed). Do not dispose it.</summary>
    public ConnectionMultiplexer Multiplexer => _multiplexer ?? throw NotInitialized();

    /// <summary>
    /// <see langword="true"/> when the fixture started (and so can stop and restart) the server;
    /// <see langword="false"/> when <c>RESILIENTQUEUE_REDIS</c> points at an external server.
    /// </summary>
    public bool OwnsServer => _serverPath is not null;

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        try
        {
            var external = Environment.GetEnvironmentVariable(ExternalServerVariable);
            if (!string.IsNullOrWhiteSpace(external))
            {
                UseExternalServer(external);
            }
            else
            {
                await StartOwnedServerAsync();
            }

            _multiplexer = await ConnectAsync();
            try
            {
                await _multiplexer.GetDatabase().PingAsync();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                throw new InvalidOperationException(
                    $"The Redis server at '{_configuration}' did not answer PING: {ex.Message}", ex);
            }
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

        await StopOwnedServerAsync();

        _killOnHostExit?.Dispose();
        _killOnHostExit = null;

        if (_dataDirectory is not null)
        {
            RedisProcesses.DeleteDirectory(_dataDirectory);
            _dataDirectory = null;
        }
    }

    /// <summary>Opens a new connection to the server (admin commands allowed). The caller disposes it.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(Configuration);

    /// <summary>
    /// Removes every key of every database (<c>FLUSHALL</c>). Retries for a while if the shared
    /// connection is still reconnecting (e.g. right after <see cref="RestartAsync"/>).
    /// </summary>
    public async Task FlushAsync()
    {
        var database = Multiplexer.GetDatabase();
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await database.ExecuteAsync("FLUSHALL");
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
    /// it accepted, and the new process loads that snapshot at startup. Returns once the new server answers PING with
    /// the data loaded; the shared <see cref="Multiplexer"/> reconnects on its own shortly after.
    /// </summary>
    /// <remarks>
    /// The server's configuration is never changed: it keeps running without persistence (<c>save ""</c>,
    /// <c>appendonly no</c>) before and after, because <c>--save ""</c> only turns off automatic snapshots and a
    /// snapshot file present at startup is still loaded. The snapshot file is deleted as soon as the new process has
    /// loaded it, so a later <see cref="RestartAsync"/> (or a crash) starts empty as before. Commands sent while the
    /// server is down fail on the client side (connection errors), exactly as in a real restart.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The server is external, or it could not write its snapshot (it is then left running, unchanged).</exception>
    public Task RestartPreservingDataAsync(TimeSpan downtime) => RestartCoreAsync(downtime, preserveData: true);

    /// <summary>The full path of the owned server's <c>redis-server</c> executable; <see langword="null"/> for an external server.</summary>
    public string? ServerPath => _serverPath;

    private async Task RestartCoreAsync(TimeSpan downtime, bool preserveData)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(downtime, TimeSpan.Zero);
        if (!OwnsServer)
        {
            throw new InvalidOperationException(
                $"RestartAsync is only possible with a redis-server owned by the fixture; {ExternalServerVariable} " +
                "points at an external server. Unset it to let the tests start their own redis-server.");
        }

        if (preserveData)
        {
            await StopOwnedServerSavingAsync();
        }
        else
        {
            await StopOwnedServerAsync();
        }

        await Task.Delay(downtime);

        // The port was just released by our own server; redis-server binds with SO_REUSEADDR, but retry
        // briefly in case something else grabbed the port in the meantime.
        var failures = new List<string>();
        for (var attempt = 1; attempt <= MaxStartAttempts; attempt++)
        {
            try
            {
                await StartProcessAsync(_port, loadSnapshot: preserveData);
                return;
            }
            catch (RedisServerStartException ex)
            {
                failures.Add($"Attempt {attempt}: {ex.Message}");
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
        }

        throw new InvalidOperationException(
            $"redis-server could not be restarted on port {_port}:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
    }

    /// <summary>
    /// <c>SAVE</c> first (so a failing snapshot is reported while the server still runs, unchanged), then
    /// <c>SHUTDOWN SAVE</c>, which snapshots again after the last command it accepted and exits.
    /// </summary>
    private async Task StopOwnedServerSavingAsync()
    {
        var process = Volatile.Read(ref _process);
        if (process is null || process.HasExited)
        {
            throw new InvalidOperationException("The owned redis-server is not running, so its data cannot be preserved.");
        }

        using (var admin = await ConnectionMultiplexer.ConnectAsync(ProbeOptions(_port)))
        {
            var database = admin.GetDatabase();
            try
            {
                await database.ExecuteAsync("SAVE");
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                throw new InvalidOperationException($"redis-server could not write its snapshot (SAVE failed: {ex.Message}); it was not restarted.", ex);
            }

            await ShutdownAndWaitForExitAsync(database, process, "SAVE");
        }

        // If SHUTDOWN SAVE did not stop it, the snapshot written by SAVE above is what survives (like a crash right
        // after a snapshot). StopOwnedServerAsync kills the process and forgets it.
        await StopOwnedServerAsync(graceful: false);
    }

    private string SnapshotPath => Path.Combine(_dataDirectory!, SnapshotFileName);

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
        _port = options.EndPoints[0] switch
        {
            IPEndPoint ip => ip.Port,
            DnsEndPoint dns => dns.Port,
            _ => 0,
        };
        _configuration = options.ToString();
    }

    private static bool IsLoopback(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip => IPAddress.IsLoopback(ip.Address),
        DnsEndPoint dns => RedisProcesses.IsLoopbackHost(dns.Host),
        _ => false,
    };

    private async Task StartOwnedServerAsync()
    {
        _serverPath = RedisProcesses.FindExecutable(ServerPathVariable, "redis-server", preferredDirectory: null, ServerNotFoundMessage);
        _dataDirectory = Directory.CreateTempSubdirectory("resilientqueue-redis-").FullName;

        _killOnHostExit = RedisProcesses.KillOnHostExit(() => RedisProcesses.Kill(Volatile.Read(ref _process)));

        var failures = new List<string>();
        for (var attempt = 1; attempt <= MaxStartAttempts; attempt++)
        {
            var port = GetFreeLoopbackPort();
            _port = port;
            try
            {
                await StartProcessAsync(port);
                _configuration = FormattableString.Invariant($"127.0.0.1:{port},allowAdmin=true,abortConnect=false");
                return;
            }
            catch (RedisServerStartException ex)
            {
                failures.Add($"Attempt {attempt} (port {port}): {ex.Message}");
            }
        }

        throw new InvalidOperationException(
            $"redis-server ('{_serverPath}') could not be started after {MaxStartAttempts} attempts:" +
            $"{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
    }

    private static int GetFreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private async Task StartProcessAsync(int port, bool loadSnapshot = false)
    {
        if (!loadSnapshot)
        {
            // Start empty: never load a snapshot left over from RestartPreservingDataAsync.
            DeleteSnapshot();
        }

        var startInfo = RedisProcesses.CreateStartInfo(
            _serverPath!,
            RedisProcesses.LoopbackServerArguments(port, _dataDirectory!, "--dbfilename", SnapshotFileName),
            workingDirectory: _dataDirectory!);

        _output.Clear();
        var process = RedisProcesses.Start(startInfo, _output.Add, _output.Add);
        Volatile.Write(ref _process, process);

        try
        {
            await WaitUntilReadyAsync(process, port);
        }
        catch
        {
            // Kill only: a polite SHUTDOWN could reach another process that answered on this port.
            await StopOwnedServerAsync(graceful: false);
            throw;
        }

        if (loadSnapshot)
        {
            // The server has answered PING and INFO, so it has loaded the snapshot (while loading it answers
            // -LOADING); the file is not needed any more, and the next plain start must be empty.
            DeleteSnapshot();
        }
    }

    private async Task WaitUntilReadyAsync(Process process, int port)
    {
        var options = ProbeOptions(port);
        var stopwatch = Stopwatch.StartNew();
        string lastError = "no connection attempt finished";
        while (true)
        {
            if (process.HasExited)
            {
                await RedisProcesses.DrainOutputAsync(process);
                throw new RedisServerStartException(
                    $"redis-server exited with code {process.ExitCode} before answering PING on 127.0.0.1:{port}.{CapturedOutput()}");
            }

            if (stopwatch.Elapsed >= StartupTimeout)
            {
                throw new RedisServerStartException(
                    $"redis-server did not answer PING on 127.0.0.1:{port} within {StartupTimeout.TotalSeconds:0} s " +
                    $"(last error: {lastError}).{CapturedOutput()}");
            }

            try
            {
                using var probe = await ConnectionMultiplexer.ConnectAsync(options);
                var database = probe.GetDatabase();
                await database.PingAsync();

                // Make sure the server answering is ours and not another process that took the port.
                var info = (string?)await database.ExecuteAsync("INFO", "server") ?? string.Empty;
                var processId = ReadInfoField(info, "process_id");
                if (processId != process.Id.ToString(CultureInfo.InvariantCulture))
                {
                    throw new RedisServerStartException(
                        $"port {port} is served by another process (process_id {processId}, expected {process.Id}).{CapturedOutput()}");
                }

                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                lastError = ex.Message;
            }

            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Reads one <c>name:value</c> field of an <c>INFO</c> reply, or <see langword="null"/>.</summary>
    internal static string? ReadInfoField(string info, string name)
    {
        var prefix = name + ":";
        foreach (var line in info.Split('\n'))
        {
            var trimmed = line.TrimEnd('\r');
            if (trimmed.StartsWith(prefix, StringComparison.Ordinal))
            {
                return trimmed[prefix.Length..].Trim();
            }
        }

        return null;
    }

    private async Task StopOwnedServerAsync(bool graceful = true)
    {
        var process = Volatile.Read(ref _process);
        if (process is null)
        {
            return;
        }

        try
        {
            if (graceful && !process.HasExited)
            {
                await TryShutdownNoSaveAsync(process);
            }

            if (!process.HasExited)
            {
                await RedisProcesses.KillAndWaitAsync(process);
            }
        }
        finally
        {
            Volatile.Write(ref _process, null);
            process.Dispose();
        }
    }

    private async Task TryShutdownNoSaveAsync(Process process)
    {
        try
        {
            using var admin = await ConnectionMultiplexer.ConnectAsync(ProbeOptions(_port));
            await ShutdownAndWaitForExitAsync(admin.GetDatabase(), process, "NOSAVE");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Fall back to killing the process.
        }
    }

    /// <summary>
    /// Sends <c>SHUTDOWN <paramref name="mode"/></c> and waits (at most <see cref="ShutdownTimeout"/>) for the process to exit.
    /// The server closes the connection instead of answering (or answers with an error and keeps running), so the task
    /// faults or never completes: its outcome is observed in the background, and the caller checks HasExited.
    /// </summary>
    private static async Task ShutdownAndWaitForExitAsync(IDatabase database, Process process, string mode)
    {
        var shutdown = database.ExecuteAsync("SHUTDOWN", mode);
        _ = shutdown.ContinueWith(
            static task => task.Exception,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        await RedisProcesses.WaitForExitAsync(process, ShutdownTimeout);
    }

    private static ConfigurationOptions ProbeOptions(int port)
    {
        var options = ConfigurationOptions.Parse(FormattableString.Invariant($"127.0.0.1:{port}"));
        options.AllowAdmin = true;
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 1;
        options.ConnectTimeout = 1000;
        options.SyncTimeout = 1000;
        return options;
    }

    private string CapturedOutput() => _output.Format("redis-server");

    private static InvalidOperationException NotInitialized() =>
        new("The Redis fixture is not initialized (InitializeAsync has not completed successfully).");

    private sealed class RedisServerStartException(string message) : Exception(message);
}
