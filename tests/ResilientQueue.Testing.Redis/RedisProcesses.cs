using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace ResilientQueue.Testing.Redis;

/// <summary>
/// The process plumbing under <see cref="RedisServerProcess"/> (and the tests' <c>redis-cli</c> runs): finding the
/// executables, the command line of a throwaway loopback server, starting a process with its output read, killing it
/// and waiting for it, free loopback ports, deleting a temporary directory, and telling loopback hosts apart.
/// </summary>
public static class RedisProcesses
{
    /// <summary>Environment variable giving the full path of the <c>redis-server</c> executable.</summary>
    public const string ServerPathVariable = "REDIS_SERVER_PATH";

    /// <summary>Environment variable giving the full path of the <c>redis-cli</c> executable.</summary>
    public const string CliPathVariable = "REDIS_CLI_PATH";

    /// <summary>How long to wait for a killed process to exit.</summary>
    public static readonly TimeSpan KillTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan OutputDrainTimeout = TimeSpan.FromSeconds(2);

    private static readonly string[] FallbackDirectories = ["/usr/bin", "/usr/local/bin"];

    /// <summary>
    /// Finds the executable <paramref name="name"/>: the file named by the environment variable
    /// <paramref name="pathVariable"/> when it is set, else the first match in <paramref name="preferredDirectory"/>,
    /// on <c>PATH</c>, in <c>/usr/bin</c> or in <c>/usr/local/bin</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">There is none, or the variable names a file that does not exist.</exception>
    public static string FindExecutable(string pathVariable, string name, string? preferredDirectory, string notFoundMessage)
    {
        var configured = ConfiguredPath(pathVariable);
        if (configured is not null)
        {
            return File.Exists(configured)
                ? configured
                : throw new InvalidOperationException(
                    $"{pathVariable}='{configured}' does not name an existing file. {notFoundMessage}");
        }

        return SearchExecutable(name, preferredDirectory) ?? throw new InvalidOperationException(notFoundMessage);
    }

    /// <summary>
    /// Like <see cref="FindExecutable"/>, but returns <see langword="null"/> where that throws.
    /// </summary>
    public static string? TryFindExecutable(string pathVariable, string name, string? preferredDirectory)
    {
        var configured = ConfiguredPath(pathVariable);
        if (configured is not null)
        {
            return File.Exists(configured) ? configured : null;
        }

        return SearchExecutable(name, preferredDirectory);
    }

    /// <summary>
    /// The command line of a <c>redis-server</c> listening on 127.0.0.1:<paramref name="port"/> in the foreground, with
    /// protected mode on, no persistence (<c>--save ""</c>, <c>--appendonly no</c>), <paramref name="dataDirectory"/> as
    /// its <c>--dir</c> and only warnings logged; <paramref name="extraArguments"/> follow.
    /// </summary>
    public static IEnumerable<string> LoopbackServerArguments(int port, string dataDirectory, params string[] extraArguments) =>
    [
        "--port", port.ToString(CultureInfo.InvariantCulture),
        "--bind", "127.0.0.1",
        "--save", string.Empty,
        "--appendonly", "no",
        "--protected-mode", "yes",
        "--daemonize", "no",
        "--dir", dataDirectory,
        "--loglevel", "warning",
        .. extraArguments,
    ];

    /// <summary>
    /// Start information for a child process with redirected standard output and error (and standard input when
    /// <paramref name="redirectStandardInput"/> is set), no shell and no window.
    /// </summary>
    public static ProcessStartInfo CreateStartInfo(
        string fileName, IEnumerable<string> arguments, string? workingDirectory = null, bool redirectStandardInput = false)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = redirectStandardInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        return startInfo;
    }

    /// <summary>
    /// Starts the process and begins reading its output: each line of standard output goes to <paramref name="onOutput"/>,
    /// each line of standard error to <paramref name="onError"/> (both get <see langword="null"/> at the end of the stream).
    /// Either returns the running process, which the caller kills and disposes, or throws with nothing left running.
    /// </summary>
    /// <exception cref="InvalidOperationException">The executable could not be started.</exception>
    public static Process Start(ProcessStartInfo startInfo, Action<string?> onOutput, Action<string?> onError)
    {
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => onOutput(e.Data);
        process.ErrorDataReceived += (_, e) => onError(e.Data);
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start '{startInfo.FileName}': {ex.Message}", ex);
        }

        try
        {
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }
        catch
        {
            Kill(process);
            process.Dispose();
            throw;
        }

        return process;
    }

    /// <summary>Waits at most <paramref name="timeout"/> for the process to exit; the caller checks <see cref="Process.HasExited"/>.</summary>
    public static async Task WaitForExitAsync(Process process, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            // Bounded wait: the caller checks HasExited.
        }
    }

    /// <summary>
    /// After the process has exited, lets the asynchronous readers deliver its last lines of output (for at most two
    /// seconds) before they are reported.
    /// </summary>
    public static Task DrainOutputAsync(Process process) => WaitForExitAsync(process, OutputDrainTimeout);

    /// <summary>Kills the process and its children if it still runs; does nothing when it is gone, disposed or <see langword="null"/>.</summary>
    public static void Kill(Process? process)
    {
        try
        {
            if (process is not null && !process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already gone (or disposed).
        }
    }

    /// <summary><see cref="Kill"/>, then waits at most <see cref="KillTimeout"/> for the process to exit.</summary>
    public static async Task KillAndWaitAsync(Process process)
    {
        Kill(process);
        await WaitForExitAsync(process, KillTimeout);
    }

    /// <summary>
    /// Runs <paramref name="kill"/> when the test host exits while the returned registration is not yet disposed, so that
    /// no child process outlives a test run that ends without the fixture being disposed.
    /// </summary>
    public static IDisposable KillOnHostExit(Action kill) => new HostExitRegistration(kill);

    /// <summary>Deletes a temporary directory and everything in it; a directory that cannot be deleted is left behind.</summary>
    public static void DeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover temp directory is harmless.
        }
    }

    /// <summary>
    /// A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it from its ephemeral range); whoever binds it next
    /// may still find it taken, so callers retry on failure.
    /// </summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Whether nothing listens on 127.0.0.1:<paramref name="port"/> right now (it could be bound).</summary>
    public static bool IsLoopbackPortFree(int port)
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

    /// <summary>Whether <paramref name="host"/> (a host name or an IP address, IPv6 with or without brackets) is a loopback host.</summary>
    public static bool IsLoopbackHost(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    private sealed class HostExitRegistration : IDisposable
    {
        private EventHandler? _handler;

        public HostExitRegistration(Action kill)
        {
            _handler = (_, _) => kill();
            AppDomain.CurrentDomain.ProcessExit += _handler;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _handler, null) is { } handler)
            {
                AppDomain.CurrentDomain.ProcessExit -= handler;
            }
        }
    }

    private static string? ConfiguredPath(string pathVariable)
    {
        var value = Environment.GetEnvironmentVariable(pathVariable);
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    private static string? SearchExecutable(string name, string? preferredDirectory)
    {
        var fileName = OperatingSystem.IsWindows() ? name + ".exe" : name;
        var directories = new List<string>();
        if (preferredDirectory is not null)
        {
            directories.Add(preferredDirectory);
        }

        directories.AddRange((Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => directory.Trim('"')));
        directories.AddRange(FallbackDirectories);
        return directories.Select(directory => Path.Combine(directory, fileName)).FirstOrDefault(File.Exists);
    }
}

/// <summary>The last lines printed by a child process, for error messages.</summary>
public sealed partial class OutputTail
{
    private const int MaxLines = 50;

    private readonly Lock _lock = new();
    private readonly Queue<string> _lines = new();

    /// <summary>Keeps <paramref name="line"/> (without ANSI escape sequences), dropping the oldest beyond 50; ignores <see langword="null"/>.</summary>
    public void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            // redis-cli colours its output even when redirected.
            _lines.Enqueue(AnsiEscape().Replace(line, string.Empty));
            while (_lines.Count > MaxLines)
            {
                _lines.Dequeue();
            }
        }
    }

    /// <summary>Forgets every line kept so far.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _lines.Clear();
        }
    }

    /// <summary>
    /// The kept lines for an error message about <paramref name="name"/>: a new line, a heading and the lines, or
    /// <c> {name} printed nothing.</c>.
    /// </summary>
    public string Format(string name)
    {
        lock (_lock)
        {
            if (_lines.Count == 0)
            {
                return $" {name} printed nothing.";
            }

            var builder = new StringBuilder();
            builder.AppendLine().Append("Last ").Append(_lines.Count).Append(" line(s) of ").Append(name).AppendLine(" output:");
            foreach (var line in _lines)
            {
                builder.AppendLine(line);
            }

            return builder.ToString();
        }
    }

    [GeneratedRegex(@"\x1B\[[0-9;]*[A-Za-z]")]
    private static partial Regex AnsiEscape();
}
