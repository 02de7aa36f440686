using System.Diagnostics;
using System.Text;

namespace ResilientQueue.Samples.Tests;

/// <summary>A sample's program started as a process (<c>dotnet &lt;sample&gt;.dll args</c>), its output collected.</summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private readonly Process _process;

    private SampleProcess(Process process)
    {
        _process = process;
    }

    /// <summary>Everything it printed so far (stdout and stderr, in arrival order).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Whether it has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="assembly"/> (a file beside the tests) with the arguments; output redirected.</summary>
    public static SampleProcess Start(string assembly, params string[] args)
    {
        string path = Path.Combine(AppContext.BaseDirectory, assembly);
        File.Exists(path).Should().BeTrue($"the sample is built beside the tests ({path})");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(path);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var sample = new SampleProcess(Process.Start(start)!);
        sample._process.OutputDataReceived += (_, e) => sample.Append(e.Data);
        sample._process.ErrorDataReceived += (_, e) => sample.Append(e.Data);
        sample._process.BeginOutputReadLine();
        sample._process.BeginErrorReadLine();
        return sample;
    }

    /// <summary>Waits for the exit and returns the exit code; kills it (and fails) after <paramref name="timeout"/>.</summary>
    public async Task<int> WaitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the sample did not exit within {timeout.TotalSeconds:0} s; its output:\n{Output}");
        }

        await _process.WaitForExitAsync(); // the output's last lines
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown, no release, no last acknowledgement.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
