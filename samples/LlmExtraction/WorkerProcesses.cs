using System.Diagnostics;
using System.Text.Json;
using LlmExtraction.Monitoring;
using LlmExtraction.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LlmExtraction;

/// <summary>What a worker process reports to the sample on each sample: its limiter, its counts and its latencies.</summary>
internal sealed record WorkerReport(
    long Limit, long InFlight, long Completed, long Drops, Dictionary<string, long> Retried, Dictionary<string, long> Failed, List<double> LatenciesMs)
{
    public const string Prefix = "@report ";
}

/// <summary>
/// The extra worker processes of <c>--workers N</c> on Redis: copies of this program started with
/// <c>--worker-for &lt;model address&gt;</c>, each running only the queue's worker (another consumer of the same queue),
/// reporting on stdout, stopped through stdin (and killed by their id if they do not stop in time).
/// </summary>
internal sealed class WorkerProcesses : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private readonly List<(Process Process, WorkerReport? Last)> _workers = [];
    private readonly Lock _lock = new();
    private readonly List<double> _latencies = [];

    public int Count => _workers.Count;

    /// <summary>Starts <paramref name="count"/> worker processes and waits until each has started its worker.</summary>
    public static async Task<WorkerProcesses> StartAsync(int count, SampleOptions options, Uri llm, CancellationToken cancellationToken)
    {
        var processes = new WorkerProcesses();
        for (int i = 0; i < count; i++)
        {
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var start = new ProcessStartInfo { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
            string dll = typeof(WorkerProcesses).Assembly.Location;
            string apphost = Path.ChangeExtension(dll, OperatingSystem.IsWindows() ? ".exe" : null);
            if (File.Exists(apphost))
            {
                start.FileName = apphost;
            }
            else
            {
                start.FileName = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
                start.ArgumentList.Add(dll);
            }

            foreach (string arg in (string[])["--redis", options.Redis!, "--worker-for", llm.ToString(), "--seed", options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            {
                start.ArgumentList.Add(arg);
            }

            if (options.Quick)
            {
                start.ArgumentList.Add("--quick");
            }

            Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start the worker process {start.FileName}.");
            int index = processes._workers.Count;
            processes._workers.Add((process, null));
            process.OutputDataReceived += (_, e) => processes.OnLine(index, e.Data, ready);
            process.BeginOutputReadLine();
            using CancellationTokenRegistration _ = cancellationToken.Register(() => ready.TrySetCanceled(cancellationToken));
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        }

        return processes;
    }

    private void OnLine(int index, string? line, TaskCompletionSource ready)
    {
        if (line is null)
        {
            ready.TrySetException(new InvalidOperationException("A worker process exited before it started its worker."));
            return;
        }

        if (line.StartsWith(WorkerReport.Prefix, StringComparison.Ordinal)
            && JsonSerializer.Deserialize<WorkerReport>(line[WorkerReport.Prefix.Length..]) is { } report)
        {
            lock (_lock)
            {
                _workers[index] = (_workers[index].Process, report);
                _latencies.AddRange(report.LatenciesMs);
            }

            ready.TrySetResult();
        }
    }

    /// <summary>The latest report of each worker process, and the latencies they reported since the last call.</summary>
    public (IReadOnlyList<WorkerReport> Reports, List<double> Latencies) Drain()
    {
        lock (_lock)
        {
            List<double> latencies = [.. _latencies];
            _latencies.Clear();
            return ([.. _workers.Select(w => w.Last).OfType<WorkerReport>()], latencies);
        }
    }

    /// <summary>Asks each worker process to stop (a line on its stdin: it drains and exits), and kills it by its id if it has not within 15 s.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach ((Process process, _) in _workers)
        {
            try
            {
                await process.StandardInput.WriteLineAsync("stop");
                await process.StandardInput.FlushAsync();
            }
            catch (IOException)
            {
                // It has exited already.
            }
        }

        foreach ((Process process, _) in _workers)
        {
            using var wait = new CancellationTokenSource(StopTimeout);
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
            }

            process.Dispose();
        }
    }

    /// <summary>The body of a worker process: the queue's worker, a report per sample on stdout, until a line (or the end) on stdin.</summary>
    public static async Task<int> RunWorkerAsync(SampleOptions options, Uri llm)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        SampleLogging.Configure(builder.Logging, builder.Services);
        builder.Services.AddPipelineQueue(options, llm, worker: true);
        using IHost host = builder.Build();
        using var probe = new PipelineProbe(PipelineQueue.Name);
        LatencyRecorder latencies = host.Services.GetRequiredService<LatencyRecorder>();
        await host.StartAsync();
        Task stop = Task.Run(() => Console.In.ReadLine());
        do
        {
            (long limit, long inFlight) = probe.ReadLimiter();
            var report = new WorkerReport(limit, inFlight, probe.Completed, probe.Drops, new(probe.RetriedByCategory), new(probe.FailedByCategory), latencies.Drain());
            Console.Out.WriteLine(WorkerReport.Prefix + JsonSerializer.Serialize(report));
            await Console.Out.FlushAsync();
        }
        while (await Task.WhenAny(stop, Task.Delay(options.Scale.SampleInterval)) != stop);

        await host.StopAsync();
        return 0;
    }
}
