using System.Diagnostics;
using System.Globalization;
using LlmExtraction.FakeLlm;
using LlmExtraction.Monitoring;
using LlmExtraction.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResilientQueue;
using ResilientQueue.Backpressure;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Results;
using Spectre.Console;

namespace LlmExtraction;

/// <summary>
/// One run of the sample: start the fake model, the queue and its worker(s), send the corpus through the producer, wait
/// for the answers that came late, review and requeue the dead letters, then show the summary, write the chart and
/// check the outcome. Returns the exit code: 0 when every check passed.
/// </summary>
internal static class SampleRun
{
    public static async Task<int> MainAsync(string[] args)
    {
        SampleOptions options;
        try
        {
            options = SampleOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 2;
        }

        if (options.WorkerFor is { } llm)
        {
            return await WorkerProcesses.RunWorkerAsync(options, llm);
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true; // stop the run, then show what it did
            cancel.Cancel();
        };
        bool live = !options.Plain && !Console.IsOutputRedirected && !Console.IsErrorRedirected;
        return await RunAsync(options, Console.Out, live, cancel.Token);
    }

    public static async Task<int> RunAsync(SampleOptions options, TextWriter output, bool live, CancellationToken cancellationToken)
    {
        Scale scale = options.Scale;
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = live ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = live ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = live ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        if (!live)
        {
            console.Profile.Width = 200;
        }

        IReadOnlyList<Document> corpus = Corpus.Create(options.Seed, scale.Documents, scale.MinChunks, scale.MaxChunks);
        FaultPlan plan = FaultPlan.Create(corpus, options.Seed, scale);
        int chunks = corpus.Sum(d => d.Chunks.Count);
        await using FakeLlmServer llm = await FakeLlmServer.StartAsync(plan, scale, cancellationToken);
        string backend = PipelineQueue.Backend(options) + (options.Workers > 1 ? $", {options.Workers} worker processes" : "");
        output.WriteLine(F($"LLM extraction{(options.Quick ? " (--quick)" : "")}: {corpus.Count} documents, {chunks} extraction requests, on {backend}."));
        output.WriteLine(F($"Fake model at {llm.Address} (hidden capacity C: {string.Join(" → ", scale.CapacitySchedule.Select(s => $"{s.Capacity} from {s.At.TotalSeconds:0} s"))}; latency {scale.BaseLatency.TotalMilliseconds:0} ms at no load)."));
        output.WriteLine(F($"Queue '{PipelineQueue.Name}': capacity {PipelineQueue.Capacity}, backpressure at {PipelineQueue.HighWatermark:P0}, {PipelineQueue.MaxAttempts} attempts; worker: adaptive limit {PipelineQueue.Limiter.InitialLimit} ({PipelineQueue.Limiter.MinLimit}–{PipelineQueue.Limiter.MaxLimit}, {PipelineQueue.Limiter.Algorithm}), job timeout {scale.JobTimeout.TotalSeconds:0} s; producer waits {scale.RequestTimeout.TotalSeconds:0} s for each answer."));

        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        SampleLogging.Configure(builder.Logging, builder.Services);
        builder.Services.AddPipelineQueue(options, llm.Address, worker: true);
        using IHost host = builder.Build();
        IJobQueue queue = host.Services.GetRequiredService<IJobQueueProvider>().GetQueue(PipelineQueue.Name);
        if (options.Redis is not null)
        {
            long leftover = await queue.ClearAsync(cancellationToken);
            long dead = await queue.DeadLetters.PurgeAllAsync(cancellationToken);
            if (leftover + dead > 0)
            {
                output.WriteLine(F($"Cleared what an earlier run left in '{PipelineQueue.Name}': {leftover} jobs, {dead} dead letters."));
            }
        }

        using var probe = new PipelineProbe(PipelineQueue.Name);
        LatencyRecorder latencies = host.Services.GetRequiredService<LatencyRecorder>();
        await host.StartAsync(cancellationToken);
        await using WorkerProcesses others = options.Workers > 1
            ? await WorkerProcesses.StartAsync(options.Workers - 1, options, llm.Address, cancellationToken)
            : new WorkerProcesses();

        var ledger = new RunLedger();
        var samples = new List<PipelineSample>();
        var view = new PipelineView(console, live, output);
        var review = new DeadLetterReview(queue, scale);
        IReadOnlyList<ReviewedDeadLetter> reviewed = [];
        string phase = "sending";
        TimeSpan? requeueAt = null;
        long started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(scale.Deadline);
        string run = Guid.NewGuid().ToString("N")[..8];

        async Task WorkAsync()
        {
            await new Producer(queue, scale, ledger, run).RunAsync(corpus, deadline.Token);

            // A RequestTimeout ends the producer's wait, not the job: its answer is stored when the job completes.
            phase = "late";
            await Task.WhenAll(ledger.TimedOut.Keys.Select(async chunk =>
            {
                try
                {
                    ledger.Answers[chunk] = await queue.WaitForResultAsync<Extraction>(ledger.JobIds[chunk], scale.RequestTimeout, deadline.Token);
                    ledger.Note($"{chunk} (RequestTimeout earlier) answered later: its job went on");
                }
                catch (JobFailedException failed)
                {
                    ledger.Failed[chunk] = failed; // it went on, and failed for good: a dead letter like the others
                    ledger.Note($"{chunk} (RequestTimeout earlier) dead-lettered later after {failed.Attempts} attempts: {failed.Error}");
                }
            }));

            phase = "requeue";
            IReadOnlyList<ReviewedDeadLetter> listed = await review.ListAsync(deadline.Token);
            ledger.Note($"{listed.Count} dead letters listed; each requeued by two callers at once");
            requeueAt = Stopwatch.GetElapsedTime(started);
            reviewed = await review.RequeueAndWaitAsync(listed, deadline.Token);
            foreach (ReviewedDeadLetter entry in reviewed.Where(r => r.Answer is not null))
            {
                ledger.Answers[entry.ChunkId] = entry.Answer!;
            }

            ledger.Note($"{reviewed.Count(r => r.Answer is not null)} of {reviewed.Count} requeued requests answered");
            phase = "done";
        }

        async Task<Snapshot> SampleAsync()
        {
            TimeSpan at = Stopwatch.GetElapsedTime(started);
            (long limit, long inFlight) = probe.ReadLimiter();
            (IReadOnlyList<WorkerReport> reports, List<double> latencyList) = others.Drain();
            latencyList.AddRange(latencies.Drain());
            double median = Median(latencyList);
            QueueStatus status = await queue.GetStatusAsync(CancellationToken.None);
            BackpressureSignal signal = await queue.GetBackpressureAsync(CancellationToken.None);
            var snapshot = new Snapshot
            {
                Backend = backend,
                At = at,
                Phase = phase,
                Queue = status,
                Backpressure = signal,
                BackpressureWaits = ledger.BackpressureWaits,
                Documents = corpus.Count,
                DocumentsDone = ledger.DocumentsDone,
                Chunks = chunks,
                Answered = ledger.Answers.Count,
                TimedOut = ledger.TimedOut.Count,
                Failed = ledger.Failed.Count,
                Completed = probe.Completed + reports.Sum(r => r.Completed),
                Limit = limit + reports.Sum(r => r.Limit),
                InFlight = inFlight + reports.Sum(r => r.InFlight),
                Workers = 1 + reports.Count, // the processes that have reported
                LatencyMs = median,
                Retried = probe.Retried + reports.Sum(r => r.Retried.Values.Sum()),
                RetriedByCategory = Merge(probe.RetriedByCategory, reports.Select(r => r.Retried)),
                Errors = Merge(probe.FailedByCategory, reports.Select(r => r.Failed)),
                Capacity = llm.CapacityAt(llm.Elapsed),
                ModelRunning = llm.Gate.Running,
                ModelWaiting = llm.Gate.Waiting,
                TooManyRequests = llm.TooManyRequests,
                Unavailable = llm.Unavailable,
                Malformed = llm.Malformed,
                Stuck = llm.Stuck,
                Recent = ledger.Recent,
            };
            samples.Add(new PipelineSample(at, snapshot.Limit, snapshot.InFlight, median, snapshot.Capacity, signal.Depth, signal.Level));
            return snapshot;
        }

        Snapshot last = null!;
        Exception? failure = null;
        await view.RunAsync(async show =>
        {
            Task work = WorkAsync();
            int tick = 0;
            while (!work.IsCompleted)
            {
                last = await SampleAsync();
                if (live || tick++ % PlainEvery(scale) == 0)
                {
                    show(last);
                }

                if (!live)
                {
                    view.PrintEvents(ledger.Events);
                }

                await Task.WhenAny(work, Task.Delay(scale.SampleInterval, CancellationToken.None));
            }

            last = await SampleAsync();
            show(last);
            if (!live)
            {
                view.PrintEvents(ledger.Events);
            }

            try
            {
                await work;
            }
            catch (OperationCanceledException ex)
            {
                failure = ex;
            }
        });

        if (failure is not null)
        {
            output.WriteLine(cancellationToken.IsCancellationRequested
                ? "Stopped (Ctrl-C) before the run ended."
                : F($"The run did not end within its bound of {scale.Deadline.TotalSeconds:0} s."));
        }

        QueueStatus end = await queue.GetStatusAsync(CancellationToken.None);
        long deadAtEnd = await queue.DeadLetters.CountAsync(CancellationToken.None);
        IReadOnlyList<Check> checks = Outcome.Evaluate(corpus, plan, ledger, reviewed, llm, end, deadAtEnd);
        SummaryView.Write(console, output, ledger, reviewed, last, samples, llm, checks);

        string chart = SvgChart.Render(samples, F($"LLM extraction: adaptive concurrency against a hidden capacity ({backend}{(options.Quick ? ", --quick" : "")})"), requeueAt);
        string chartPath = Path.GetFullPath(options.ChartPath);
        Directory.CreateDirectory(Path.GetDirectoryName(chartPath)!);
        await File.WriteAllTextAsync(chartPath, chart, CancellationToken.None);
        output.WriteLine(F($"Chart: {chartPath}"));

        await host.StopAsync(CancellationToken.None);
        bool passed = failure is null && checks.All(c => c.Passed);
        output.WriteLine(passed
            ? F($"OK: every check passed in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s.")
            : F($"FAILED: {checks.Count(c => !c.Passed)} of {checks.Count} checks did not pass."));
        return passed ? 0 : 1;
    }

    private static int PlainEvery(Scale scale) => Math.Max(1, (int)(TimeSpan.FromSeconds(1) / scale.SampleInterval));

    private static double Median(List<double> values)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        values.Sort();
        return values[values.Count / 2];
    }

    private static SortedDictionary<string, long> Merge(IReadOnlyDictionary<string, long> local, IEnumerable<Dictionary<string, long>> remote)
    {
        var merged = new SortedDictionary<string, long>(local.ToDictionary(), StringComparer.Ordinal);
        foreach ((string key, long value) in remote.SelectMany(r => r))
        {
            merged[key] = merged.GetValueOrDefault(key) + value;
        }

        return merged;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
