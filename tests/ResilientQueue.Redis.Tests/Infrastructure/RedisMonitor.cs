using System.Diagnostics;
using System.Globalization;
using System.Text;
using ResilientQueue.Testing.Redis;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Infrastructure;

/// <summary>
/// A <c>redis-cli -p &lt;port&gt; monitor</c> child process attached to a loopback server: it records every command the
/// server runs (from every client, and from Lua scripts) between <see cref="StartAsync"/> and <see cref="StopAsync"/>.
/// </summary>
/// <remarks>
/// Both ends of the capture are marked with an <c>ECHO</c> of a unique sentinel sent through the caller's connection, so
/// the capture holds exactly the commands the server ran between the two, and <see cref="StopAsync"/> knows that the
/// monitor has printed everything up to its end.
/// </remarks>
public sealed class RedisMonitor : IAsyncDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly Process _process;
    private readonly string _startSentinel = "rq-monitor-start-" + Guid.NewGuid().ToString("N");
    private readonly string _endSentinel = "rq-monitor-end-" + Guid.NewGuid().ToString("N");

    /// <summary>Starts <c>redis-cli</c>; every line it prints is recorded, those on standard error with a <c>stderr: </c> prefix.</summary>
    private RedisMonitor(ProcessStartInfo startInfo) =>
        _process = RedisProcesses.Start(startInfo, OnLine, line => OnLine(line is null ? null : "stderr: " + line));

    /// <summary>
    /// Starts <c>redis-cli -h 127.0.0.1 -p <paramref name="port"/> monitor</c> and returns once it is recording (its start sentinel,
    /// sent through <paramref name="database"/>, has come back).
    /// </summary>
    public static async Task<RedisMonitor> StartAsync(string cliPath, int port, IDatabase database, TimeSpan timeout)
    {
        ArgumentException.ThrowIfNullOrEmpty(cliPath);
        ArgumentNullException.ThrowIfNull(database);
        var monitor = new RedisMonitor(RedisProcesses.CreateStartInfo(
            cliPath, ["-h", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "monitor"], redirectStandardInput: true));
        try
        {
            monitor._process.StandardInput.Close();

            // "OK" is MONITOR's answer; from then on the server feeds this client. Keep sending the start sentinel until
            // the monitor prints it (the first one may race with the MONITOR command itself).
            var stopwatch = Stopwatch.StartNew();
            while (!monitor.HasSentinel(monitor._startSentinel))
            {
                monitor.ThrowIfExited("starting");
                if (stopwatch.Elapsed >= timeout)
                {
                    throw new TimeoutException($"redis-cli monitor did not start recording within {timeout.TotalSeconds:0} s.{monitor.Tail()}");
                }

                if (monitor.HasLine("OK"))
                {
                    await database.ExecuteAsync("ECHO", monitor._startSentinel);
                }

                await Task.Delay(PollInterval * 5);
            }

            return monitor;
        }
        catch
        {
            await monitor.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Marks the end of the capture, waits until the monitor has printed it, stops <c>redis-cli</c>, and returns the
    /// commands the server ran between the two sentinels (the sentinels themselves excluded), in order.
    /// </summary>
    public async Task<IReadOnlyList<MonitorCommand>> StopAsync(IDatabase database, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(database);
        await database.ExecuteAsync("ECHO", _endSentinel);
        var stopwatch = Stopwatch.StartNew();
        while (!HasSentinel(_endSentinel))
        {
            ThrowIfExited("stopping");
            if (stopwatch.Elapsed >= timeout)
            {
                throw new TimeoutException($"redis-cli monitor did not print the end sentinel within {timeout.TotalSeconds:0} s.{Tail()}");
            }

            await Task.Delay(PollInterval);
        }

        await DisposeAsync();

        List<string> lines;
        lock (_gate)
        {
            lines = [.. _lines];
        }

        // The start sentinel may have been sent more than once; the capture begins after the last one.
        var end = lines.FindIndex(line => line.Contains(_endSentinel, StringComparison.Ordinal));
        var start = lines.FindLastIndex(end, line => line.Contains(_startSentinel, StringComparison.Ordinal));
        return lines.Skip(start + 1).Take(end - start - 1).Select(MonitorCommand.Parse).ToList();
    }

    /// <summary>Kills <c>redis-cli</c> if it still runs.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await RedisProcesses.KillAndWaitAsync(_process);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Already disposed by an earlier DisposeAsync, or otherwise out of reach (nothing more can be done).
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>
    /// Finds <c>redis-cli</c>: <c>REDIS_CLI_PATH</c>, else next to <paramref name="serverPath"/>, else on <c>PATH</c>, else
    /// <c>/usr/bin</c> or <c>/usr/local/bin</c>; <see langword="null"/> when there is none.
    /// </summary>
    public static string? FindCli(string? serverPath)
    {
        var serverDirectory = Path.GetDirectoryName(serverPath) is { Length: > 0 } directory ? directory : null;
        return RedisProcesses.TryFindExecutable(RedisProcesses.CliPathVariable, "redis-cli", serverDirectory);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
        }
    }

    private bool HasLine(string text)
    {
        lock (_gate)
        {
            return _lines.Contains(text);
        }
    }

    private bool HasSentinel(string sentinel)
    {
        lock (_gate)
        {
            return _lines.Exists(line => line.Contains(sentinel, StringComparison.Ordinal));
        }
    }

    private void ThrowIfExited(string phase)
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"redis-cli monitor exited with code {_process.ExitCode} while {phase}.{Tail()}");
        }
    }

    private string Tail()
    {
        lock (_gate)
        {
            if (_lines.Count == 0)
            {
                return " redis-cli printed nothing.";
            }

            var builder = new StringBuilder();
            builder.AppendLine().AppendLine("Last lines of redis-cli output:");
            foreach (var line in _lines.TakeLast(10))
            {
                builder.AppendLine(line.Length > 300 ? line[..300] + "…" : line);
            }

            return builder.ToString();
        }
    }
}

/// <summary>
/// One line of <c>MONITOR</c> output: <c>&lt;unix time&gt; [&lt;db&gt; &lt;client address or "lua"&gt;] "CMD" "arg" ...</c>,
/// each argument quoted with C-style escapes (<c>\\ \" \n \r \t \a \b \xHH</c>).
/// </summary>
/// <param name="Line">The line as printed.</param>
/// <param name="Database">The database number.</param>
/// <param name="Source">The client's address, or <c>lua</c> for a command a script ran.</param>
/// <param name="Arguments">The command name and its arguments, unescaped to raw bytes.</param>
public sealed record MonitorCommand(string Line, int Database, string Source, IReadOnlyList<byte[]> Arguments)
{
    /// <summary>The command name in upper case, e.g. <c>EVALSHA</c>.</summary>
    public string Name => Encoding.ASCII.GetString(Arguments[0]).ToUpperInvariant();

    /// <summary><see langword="true"/> when a Lua script ran the command.</summary>
    public bool FromLua => Source == "lua";

    /// <summary>Argument <paramref name="index"/> (0 is the command name) as text (UTF-8).</summary>
    public string Text(int index) => Encoding.UTF8.GetString(Arguments[index]);

    /// <summary>Parses one line of <c>MONITOR</c> output.</summary>
    /// <exception cref="FormatException">The line is not in the format above.</exception>
    public static MonitorCommand Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var open = line.IndexOf(" [", StringComparison.Ordinal);
        var close = line.IndexOf("] \"", StringComparison.Ordinal);
        if (open <= 0 || close <= open)
        {
            throw new FormatException($"Not a MONITOR line: {Shorten(line)}");
        }

        var header = line[(open + 2)..close];
        var space = header.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || !int.TryParse(header.AsSpan(0, space), NumberStyles.None, CultureInfo.InvariantCulture, out var database))
        {
            throw new FormatException($"No database number in MONITOR line: {Shorten(line)}");
        }

        var source = header[(space + 1)..];
        var arguments = new List<byte[]>();
        var i = close + 2;
        while (i < line.Length)
        {
            if (line[i] != '"')
            {
                throw new FormatException($"Expected '\"' at {i} in MONITOR line: {Shorten(line)}");
            }

            i++;
            var bytes = new List<byte>();
            while (true)
            {
                if (i >= line.Length)
                {
                    throw new FormatException($"Unterminated argument in MONITOR line: {Shorten(line)}");
                }

                var c = line[i];
                if (c == '"')
                {
                    i++;
                    break;
                }

                if (c != '\\')
                {
                    bytes.Add(checked((byte)c));
                    i++;
                    continue;
                }

                if (i + 1 >= line.Length)
                {
                    throw new FormatException($"Dangling escape in MONITOR line: {Shorten(line)}");
                }

                var escaped = line[i + 1];
                switch (escaped)
                {
                    case '\\': bytes.Add((byte)'\\'); i += 2; break;
                    case '"': bytes.Add((byte)'"'); i += 2; break;
                    case 'n': bytes.Add((byte)'\n'); i += 2; break;
                    case 'r': bytes.Add((byte)'\r'); i += 2; break;
                    case 't': bytes.Add((byte)'\t'); i += 2; break;
                    case 'a': bytes.Add(7); i += 2; break;
                    case 'b': bytes.Add(8); i += 2; break;
                    case 'x' when i + 3 < line.Length
                        && byte.TryParse(line.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value):
                        bytes.Add(value);
                        i += 4;
                        break;
                    default:
                        throw new FormatException($"Unknown escape '\\{escaped}' in MONITOR line: {Shorten(line)}");
                }
            }

            arguments.Add([.. bytes]);
            if (i < line.Length)
            {
                if (line[i] != ' ')
                {
                    throw new FormatException($"Expected ' ' at {i} in MONITOR line: {Shorten(line)}");
                }

                i++;
            }
        }

        if (arguments.Count == 0)
        {
            throw new FormatException($"No command in MONITOR line: {Shorten(line)}");
        }

        return new MonitorCommand(line, database, source, arguments);
    }

    private static string Shorten(string line) => line.Length > 300 ? line[..300] + "…" : line;
}
