using System.Diagnostics;
using System.Text;

namespace ResilientQueue.Packaging.Tests.Infrastructure;

/// <summary>Runs the dotnet CLI as a user would, with MSBuild's log in a file.</summary>
internal static class Dotnet
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Runs <c>dotnet &lt;arguments&gt;</c> in the repository and returns MSBuild's log (normal verbosity). Throws when
    /// it fails or does not finish within five minutes. Build servers are not reused, so nothing outlives the call.
    /// </summary>
    public static string Run(string logFile, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repository.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.ArgumentList.Add("-nologo");
        startInfo.ArgumentList.Add("-nodeReuse:false");
        startInfo.ArgumentList.Add($"-flp:LogFile={logFile};Verbosity=normal");

        // What `dotnet test` or CI put in this process's environment must not steer the child build: MSBuild's own
        // variables, and properties given as variables (the StackExchange.Redis line of a 3.x test run).
        foreach (string name in startInfo.Environment.Keys.ToList())
        {
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
                || name.Equals("StackExchangeRedisVersion", StringComparison.OrdinalIgnoreCase))
            {
                startInfo.Environment.Remove(name);
            }
        }

        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        var console = new StringBuilder();
        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(console, e.Data);
        process.ErrorDataReceived += (_, e) => Append(console, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        // WaitForExit with a timeout does not wait for the end of the redirected output, which a compiler server the
        // build started may hold open.
        if (!process.WaitForExit((int)Timeout.TotalMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} did not finish within {Timeout}:\n{Read(console)}");
        }

        string log = File.Exists(logFile) ? File.ReadAllText(logFile) : string.Empty;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"dotnet {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{Read(console)}\n{log}");
        }

        return log;
    }

    /// <summary>The warnings in an MSBuild log (lines such as <c>file(1,2): warning XX0000: …</c>).</summary>
    public static IReadOnlyList<string> Warnings(string log) =>
        log.Split('\n').Select(l => l.Trim()).Where(l => l.Contains(": warning ", StringComparison.Ordinal)).Distinct().ToList();

    private static void Append(StringBuilder console, string? line)
    {
        if (line is not null)
        {
            lock (console)
            {
                console.AppendLine(line);
            }
        }
    }

    private static string Read(StringBuilder console)
    {
        lock (console)
        {
            return console.ToString();
        }
    }
}
