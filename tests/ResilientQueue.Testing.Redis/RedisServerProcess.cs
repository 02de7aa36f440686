using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace ResilientQueue.Testing.Redis;

/// <summary>How to start a <see cref="RedisServerProcess"/>.</summary>
public sealed record RedisServerProcessOptions
{
    /// <summary>The <c>redis-server</c> executable; <see langword="null"/>: <c>REDIS_SERVER_PATH</c>, else <c>PATH</c>, <c>/usr/bin</c>, <c>/usr/local/bin</c>.</summary>
    public string? ServerPath { get; init; }

    /// <summary>The loopback port; 0 (default): a free one, and another one if the start fails there.</summary>
    public int Port { get; init; }

    /// <summary>The server's <c>--dir</c>; <see langword="null"/> (default): a fresh temporary directory, deleted on dispose.</summary>
    public string? DataDirectory { get; init; }

    /// <summary>Arguments after the standard ones (<see cref="RedisProcesses.LoopbackServerArguments"/>), e.g. <c>--cluster-enabled yes</c>.</summary>
    public IReadOnlyList<string> ExtraArguments { get; init; } = [];

    /// <summary>The password of the default user, when <see cref="ExtraArguments"/> set <c>--requirepass</c> (the readiness probe needs it).</summary>
    public string? Password { get; init; }

    /// <summary>How long one start may take until the server answers.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many ports to try when <see cref="Port"/> is 0.</summary>
    public int MaxStartAttempts { get; init; } = 3;
}

/// <summary>
/// One <c>redis-server</c> child process on 127.0.0.1: no persistence configured (<c>--save ""</c>, <c>--appendonly no</c>),
/// protected mode on, only warnings logged. <see cref="StartAsync"/> returns once the server answers and is known to be
/// this process (its <c>INFO server</c> <c>process_id</c>), so another program that took the port is never mistaken for it.
/// The process is killed when the test host exits, whatever happens to the caller.
/// </summary>
/// <remarks>
/// This is the one redis-server launcher of the repository: the Redis test fixture (its local-process path), the nodes of
/// the test cluster and the load test all start their servers through it.
/// </remarks>
public sealed class RedisServerProcess : IAsyncDisposable
{
    /// <summary>The message of the exception thrown when no <c>redis-server</c> executable can be found.</summary>
    public const string ServerNotFoundMessage =
        "redis-server was not found. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server), set " +
        RedisProcesses.ServerPathVariable + " to the binary, or set RESILIENTQUEUE_REDIS=host:port to use a running loopback server.";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly bool _ownsDirectory;
    private readonly string? _password;
    private IDisposable? _killOnHostExit;

    private RedisServerProcess(Process process, string serverPath, int port, string dataDirectory, bool ownsDirectory, OutputTail output, string? password)
    {
        _process = process;
        ServerPath = serverPath;
        Port = port;
        DataDirectory = dataDirectory;
        _ownsDirectory = ownsDirectory;
        Output = output;
        _password = password;
        ProcessId = process.Id;
        _killOnHostExit = RedisProcesses.KillOnHostExit(() => RedisProcesses.Kill(process));
    }

    /// <summary>The full path of the executable that runs.</summary>
    public string ServerPath { get; }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string EndPoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>The server's <c>--dir</c>.</summary>
    public string DataDirectory { get; }

    /// <summary>The operating system's id of the process.</summary>
    public int ProcessId { get; }

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited
    {
        get
        {
            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true; // disposed
            }
        }
    }

    /// <summary>The exit code once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the server printed.</summary>
    public OutputTail Output { get; }

    /// <summary>
    /// Starts a server and returns once it answers as this process; throws (with what the server printed) when it exits
    /// or does not answer in time, on every port tried.
    /// </summary>
    /// <exception cref="InvalidOperationException">No executable was found, or the server could not be started.</exception>
    public static async Task<RedisServerProcess> StartAsync(RedisServerProcessOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RedisServerProcessOptions();
        var serverPath = options.ServerPath
            ?? RedisProcesses.FindExecutable(RedisProcesses.ServerPathVariable, "redis-server", preferredDirectory: null, ServerNotFoundMessage);
        var ownsDirectory = options.DataDirectory is null;
        var dataDirectory = options.DataDirectory ?? Directory.CreateTempSubdirectory("resilientqueue-redis-").FullName;
        var attempts = options.Port == 0 ? Math.Max(1, options.MaxStartAttempts) : 1;
        var failures = new List<string>();
        try
        {
            for (var attempt = 1; attempt <= attempts; attempt++)
            {
                var port = options.Port == 0 ? RedisProcesses.FreeLoopbackPort() : options.Port;
                try
                {
                    return await StartOnceAsync(options, serverPath, port, dataDirectory, ownsDirectory, cancellationToken).ConfigureAwait(false);
                }
                catch (RedisServerStartException ex)
                {
                    failures.Add(string.Create(CultureInfo.InvariantCulture, $"Attempt {attempt} (port {port}): {ex.Message}"));
                }
            }
        }
        catch when (ownsDirectory)
        {
            RedisProcesses.DeleteDirectory(dataDirectory);
            throw;
        }

        if (ownsDirectory)
        {
            RedisProcesses.DeleteDirectory(dataDirectory);
        }

        throw new InvalidOperationException(
            $"redis-server ('{serverPath}') could not be started:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
    }

    /// <summary>
    /// Stops the server politely: <c>SHUTDOWN NOSAVE</c>, or with <paramref name="save"/> first <c>SAVE</c> (so a snapshot
    /// that cannot be written is reported while the server still runs, unchanged) and then <c>SHUTDOWN SAVE</c>, which
    /// snapshots again after the last command it accepted. Kills the process if it has not exited a few seconds later.
    /// </summary>
    /// <exception cref="InvalidOperationException">With <paramref name="save"/>: the server is not running, or could not write its snapshot (it then keeps running).</exception>
    public async Task ShutdownAsync(bool save)
    {
        if (HasExited)
        {
            if (save)
            {
                throw new InvalidOperationException("The redis-server is not running, so its data cannot be saved.");
            }

            return;
        }

        try
        {
            using var admin = await ConnectionMultiplexer.ConnectAsync(ProbeOptions(Port, _password)).ConfigureAwait(false);
            var server = admin.GetServer(admin.GetEndPoints()[0]);
            if (save)
            {
                try
                {
                    // A foreground SAVE on purpose (SaveType.ForegroundSave is marked obsolete for that reason): the server is
                    // about to stop anyway, and a failure must be seen before it does.
                    await server.ExecuteAsync("SAVE").ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    throw new InvalidOperationException($"redis-server could not write its snapshot (SAVE failed: {ex.Message}); it was left running.", ex);
                }
            }

            // The server closes the connection instead of answering; the reply is not waited for.
            server.Shutdown(save ? ShutdownMode.Always : ShutdownMode.Never, CommandFlags.FireAndForget);
            await RedisProcesses.WaitForExitAsync(_process, ShutdownTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            if (save)
            {
                throw new InvalidOperationException($"redis-server on {EndPoint} did not answer, so its data could not be saved: {ex.Message}", ex);
            }

            // Not answering: killed below.
        }

        // If SHUTDOWN SAVE did not stop it, the snapshot written by SAVE above is what survives (like a crash right after it).
        await KillAsync().ConfigureAwait(false);
    }

    /// <summary>Kills the process (if it still runs) and waits for it to exit.</summary>
    public Task KillAsync() => HasExited ? Task.CompletedTask : RedisProcesses.KillAndWaitAsync(_process);

    /// <summary>Kills the process if it still runs and deletes the data directory if this instance created it.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        _process.Dispose();
        Interlocked.Exchange(ref _killOnHostExit, null)?.Dispose();
        if (_ownsDirectory)
        {
            RedisProcesses.DeleteDirectory(DataDirectory);
        }
    }

    /// <summary>
    /// Options for a short-lived admin connection to 127.0.0.1:<paramref name="port"/>: admin commands allowed, fails fast
    /// (one connect attempt, 1 s timeouts), and the protocol of <see cref="RedisTestSettings.Protocol"/>.
    /// </summary>
    public static ConfigurationOptions ProbeOptions(int port, string? password = null)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", port } },
            AllowAdmin = true,
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            ConnectTimeout = 1000,
            SyncTimeout = 1000,
            AsyncTimeout = 1000,
            Password = password,
        };
        return RedisTestSettings.ApplyProtocol(options);
    }

    private static async Task<RedisServerProcess> StartOnceAsync(
        RedisServerProcessOptions options, string serverPath, int port, string dataDirectory, bool ownsDirectory, CancellationToken cancellationToken)
    {
        var output = new OutputTail();
        var startInfo = RedisProcesses.CreateStartInfo(
            serverPath,
            RedisProcesses.LoopbackServerArguments(port, dataDirectory, [.. options.ExtraArguments]),
            workingDirectory: dataDirectory);
        Process process;
        try
        {
            process = RedisProcesses.Start(startInfo, output.Add, output.Add);
        }
        catch (InvalidOperationException ex)
        {
            throw new RedisServerStartException(ex.Message);
        }

        var server = new RedisServerProcess(process, serverPath, port, dataDirectory, ownsDirectory, output, options.Password);
        try
        {
            await server.WaitUntilReadyAsync(options.StartupTimeout, cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            // Kill only: a polite SHUTDOWN could reach another process that answered on this port. The directory is the
            // caller's to keep for the next attempt.
            await server.KillAsync().ConfigureAwait(false);
            process.Dispose();
            Interlocked.Exchange(ref server._killOnHostExit, null)?.Dispose();
            throw;
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var options = ProbeOptions(Port, _password);
        var stopwatch = Stopwatch.StartNew();
        var lastError = "no connection attempt finished";
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (HasExited)
            {
                await RedisProcesses.DrainOutputAsync(_process).ConfigureAwait(false);
                throw new RedisServerStartException(
                    string.Create(CultureInfo.InvariantCulture, $"redis-server exited with code {ExitCode} before answering on {EndPoint}.") + Output.Format("redis-server"));
            }

            if (stopwatch.Elapsed >= timeout)
            {
                throw new RedisServerStartException(
                    $"redis-server did not answer on {EndPoint} within {timeout.TotalSeconds:0} s (last error: {lastError})." + Output.Format("redis-server"));
            }

            try
            {
                using var probe = await ConnectionMultiplexer.ConnectAsync(options).ConfigureAwait(false);
                var server = probe.GetServer(probe.GetEndPoints()[0]);

                // While it loads a snapshot the server answers -LOADING, so an answer here means the data is there too.
                var processId = await RedisServerInfo.InfoFieldAsync(server, "server", "process_id").ConfigureAwait(false);
                if (processId != ProcessId.ToString(CultureInfo.InvariantCulture))
                {
                    throw new RedisServerStartException(
                        $"port {Port} is served by another process (process_id {processId}, expected {ProcessId})." + Output.Format("redis-server"));
                }

                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                lastError = ex.Message;
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class RedisServerStartException(string message) : Exception(message);
}
