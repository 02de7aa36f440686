using System.Globalization;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using Testcontainers.Redis;

namespace ResilientQueue.Testing.Redis;

/// <summary>
/// A Redis server in a Docker container started by Testcontainers (<see cref="RedisBuilder"/>): its port is published on
/// 127.0.0.1 only, at a host port chosen up front, so a stop and a start keep it; the server's <c>--dir</c> is a host
/// directory mounted at the same path, so a snapshot written by <c>SHUTDOWN SAVE</c> survives the stop and the host sees
/// (and deletes) the very file the server loads. No persistence is configured, as for <see cref="RedisServerProcess"/>.
/// </summary>
/// <remarks>
/// Ryuk (Testcontainers' reaper) is turned off unless <c>TESTCONTAINERS_RYUK_DISABLED</c> says otherwise: its image cannot
/// be pulled where there is no registry, and this class removes its container itself (also when the test host exits).
/// </remarks>
public sealed class RedisContainerServer : IAsyncDisposable
{
    /// <summary>The environment variable Testcontainers reads to turn its reaper container off.</summary>
    public const string RyukDisabledVariable = "TESTCONTAINERS_RYUK_DISABLED";

    private const int MaxStartAttempts = 3;
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly RedisContainer _container;
    private IDisposable? _removeOnHostExit;

    private RedisContainerServer(RedisContainer container, string image, int port, string dataDirectory)
    {
        _container = container;
        Image = image;
        Port = port;
        DataDirectory = dataDirectory;
        _removeOnHostExit = RedisProcesses.KillOnHostExit(() => RemoveNow(container));
    }

    /// <summary>The image that runs, e.g. <c>redis:7.0</c>.</summary>
    public string Image { get; }

    /// <summary>The host port, on 127.0.0.1, that the container's port 6379 is published on.</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string EndPoint => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>The server's <c>--dir</c>: a host directory, mounted at the same path in the container.</summary>
    public string DataDirectory { get; }

    /// <summary>The container's id.</summary>
    public string ContainerId => _container.Id;

    /// <summary>
    /// Creates and starts the container; returns once the server answers on the published port. Throws when Docker does not
    /// answer (<see cref="DockerUnavailableException"/>) or the container does not start (the message says why).
    /// </summary>
    /// <param name="image">The image, e.g. <see cref="RedisTestSettings.DefaultImage"/>.</param>
    /// <param name="dataDirectory">The host directory for the server's data; it must exist. The caller deletes it.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<RedisContainerServer> StartAsync(string image, string dataDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(image);
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(RyukDisabledVariable)))
        {
            Environment.SetEnvironmentVariable(RyukDisabledVariable, "true");
        }

        // The official image runs redis-server as its own user, which must be able to write the snapshot here.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        }

        var failures = new List<string>();
        for (var attempt = 1; attempt <= MaxStartAttempts; attempt++)
        {
            var port = RedisProcesses.FreeLoopbackPort();
            var server = new RedisContainerServer(Build(image, port, dataDirectory), image, port, dataDirectory);
            try
            {
                await server.StartAgainAsync(cancellationToken).ConfigureAwait(false);
                return server;
            }
            catch (Exception ex) when (IsPortTaken(ex) && attempt < MaxStartAttempts)
            {
                failures.Add(string.Create(CultureInfo.InvariantCulture, $"Attempt {attempt} (port {port}): {ex.Message}"));
                await server.DisposeAsync().ConfigureAwait(false);
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        throw new InvalidOperationException($"The {image} container could not be started:{Environment.NewLine}{string.Join(Environment.NewLine, failures)}");
    }

    /// <summary>
    /// Stops the server: <c>SHUTDOWN NOSAVE</c>, or with <paramref name="save"/> first <c>SAVE</c> (a failing snapshot is
    /// reported while the server still runs) and then <c>SHUTDOWN SAVE</c>; the container exits with its server and is then
    /// stopped for Testcontainers' bookkeeping (which kills it, should the server still run).
    /// </summary>
    /// <exception cref="InvalidOperationException">With <paramref name="save"/>: the snapshot could not be written (the server keeps running).</exception>
    public async Task ShutdownAsync(bool save)
    {
        try
        {
            using var admin = await ConnectionMultiplexer.ConnectAsync(RedisServerProcess.ProbeOptions(Port)).ConfigureAwait(false);
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

            server.Shutdown(save ? ShutdownMode.Always : ShutdownMode.Never, CommandFlags.FireAndForget);
            using var exited = new CancellationTokenSource(StopTimeout);
            try
            {
                await _container.GetExitCodeAsync(exited.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Still running: StopAsync below stops it.
            }
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            if (save)
            {
                throw new InvalidOperationException($"redis-server on {EndPoint} did not answer, so its data could not be saved: {ex.Message}", ex);
            }

            // Not answering: stopped below.
        }

        await _container.StopAsync().ConfigureAwait(false);
    }

    /// <summary>Starts the (stopped) container (same port, same directory) and returns once the server answers.</summary>
    public async Task StartAgainAsync(CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartupTimeout);
        await _container.StartAsync(timeout.Token).ConfigureAwait(false);
        await WaitUntilAnswersAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The host addresses Docker really published the container's port 6379 on (<c>docker inspect</c>'s
    /// <c>NetworkSettings.Ports</c>), e.g. <c>127.0.0.1:49153</c>.
    /// </summary>
    public async Task<IReadOnlyList<string>> PublishedAddressesAsync(CancellationToken cancellationToken = default)
    {
        var configuration = TestcontainersSettings.OS.DockerEndpointAuthConfig
            ?? throw new InvalidOperationException("Testcontainers found no Docker endpoint.");
        using var client = configuration.GetDockerClientBuilder(Guid.NewGuid()).Build();
        var inspect = await client.Containers.InspectContainerAsync(_container.Id, cancellationToken).ConfigureAwait(false);
        return inspect.NetworkSettings?.Ports is { } ports && ports.TryGetValue(RedisPortKey, out var bindings) && bindings is not null
            ? bindings.Select(binding => $"{binding.HostIP}:{binding.HostPort}").ToList()
            : [];
    }

    /// <summary>Removes the container (stopping it first if it runs).</summary>
    public async ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _removeOnHostExit, null)?.Dispose();
        await _container.DisposeAsync().ConfigureAwait(false);
    }

    private static string RedisPortKey => RedisBuilder.RedisPort.ToString(CultureInfo.InvariantCulture) + "/tcp";

    private static RedisContainer Build(string image, int port, string dataDirectory) =>
        new RedisBuilder(image)
            .WithPortBinding(port, RedisBuilder.RedisPort)
            .WithCreateParameterModifier(parameters =>
            {
                // Published on loopback only, whatever the daemon's default address (--ip) is.
                foreach (var bindings in parameters.HostConfig?.PortBindings?.Values ?? [])
                {
                    foreach (var binding in bindings ?? [])
                    {
                        binding.HostIP = "127.0.0.1";
                    }
                }
            })
            .WithBindMount(dataDirectory, dataDirectory)

            // Inside its own network namespace the server listens on every address (Docker's proxy connects from the
            // bridge), so protected mode, which would refuse that, is off; the host side is 127.0.0.1 only.
            .WithCommand(
                "--port", RedisBuilder.RedisPort.ToString(CultureInfo.InvariantCulture),
                "--bind", "0.0.0.0",
                "--protected-mode", "no",
                "--save", string.Empty,
                "--appendonly", "no",
                "--dir", dataDirectory,
                "--loglevel", "warning")
            .WithLabel("org.resilientqueue.tests", "redis")
            .WithLogger(NullLogger.Instance)
            .Build();

    private static bool IsPortTaken(Exception ex) =>
        ex.ToString().Contains("address already in use", StringComparison.OrdinalIgnoreCase)
        || ex.ToString().Contains("port is already allocated", StringComparison.OrdinalIgnoreCase);

    private static void RemoveNow(RedisContainer container)
    {
        try
        {
            container.DisposeAsync().AsTask().Wait(StopTimeout);
        }
        catch (AggregateException)
        {
            // The host is exiting; nothing more can be done.
        }
    }

    private async Task WaitUntilAnswersAsync(CancellationToken cancellationToken)
    {
        // The wait strategy ran redis-cli ping inside the container; this checks the published side as the tests see it.
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var probe = await ConnectionMultiplexer.ConnectAsync(RedisServerProcess.ProbeOptions(Port)).ConfigureAwait(false);
                await probe.GetServer(probe.GetEndPoints()[0]).PingAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException && stopwatch.Elapsed < StartupTimeout)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
