using System.Diagnostics;
using FluentAssertions;
using ResilientQueue.Backends;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;
using ResilientQueue.StormWorker;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// Worker processes (the hosted worker and the reaper through DI, as an application runs them) killed with SIGKILL at
/// random moments and replaced, while they work through a queue: nothing is lost, a job runs more than once only when
/// a killed process had it running (or finished but not acknowledged), and the jobs a killed process held in its buffer
/// come back with their attempts unchanged. On both Redis backends (the stream backend also ends with its stream
/// trimmed and no entry pending: a killed consumer's entries were claimed by the survivors). Bounded: at most 60 s each.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class SigkillStormTests(RedisServerFixture redis, ITestOutputHelper output) : RedisTestBase(redis)
{
    private const int Jobs = 2000;
    private const int Workers = 3;
    private const int Concurrency = 4;
    private static readonly TimeSpan StormFor = TimeSpan.FromSeconds(12);
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("lists")]
    [InlineData("streams")]
    public async Task Storm_OfSigkilledWorkerProcesses_LosesNothing_RepeatsOnlyWhatAKilledProcessRan_AndKeepsUnstartedAttempts(string backend)
    {
        var bound = Stopwatch.StartNew();
        string queueName = "storm-" + Guid.NewGuid().ToString("N")[..8];
        var random = new Random(20261202);
        await using (JobQueueBase queue = Open(backend, queueName))
        {
            JobSubmission[] jobs = Enumerable.Range(0, Jobs)
                .Select(_ => new JobSubmission(queue.Serializer.Serialize(new StormJob(random.Next(20, 80)))))
                .ToArray();
            foreach (JobSubmission[] chunk in jobs.Chunk(500))
            {
                await queue.EnqueueManyAsync(chunk);
            }
        }

        var live = new List<WorkerProcess>();
        var killed = new HashSet<int>();
        var all = new List<WorkerProcess>();
        try
        {
            for (int i = 0; i < Workers; i++)
            {
                all.Add(await StartWorkerAsync(queueName, backend));
            }

            live.AddRange(all);
            var storm = Stopwatch.StartNew();
            while (storm.Elapsed < StormFor && await RemainingAsync(backend, queueName) > 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(900, 1800)));
                WorkerProcess victim = live[random.Next(live.Count)];
                victim.Process.Kill(); // SIGKILL: no shutdown, no release, no last ack
                await victim.Process.WaitForExitAsync();
                killed.Add(victim.Process.Id);
                live.Remove(victim);
                WorkerProcess replacement = await StartWorkerAsync(queueName, backend);
                all.Add(replacement);
                live.Add(replacement);
            }

            killed.Count.Should().BeGreaterThanOrEqualTo(3, "the storm must kill workers while they work");
            while (await RemainingAsync(backend, queueName) > 0)
            {
                bound.Elapsed.Should().BeLessThan(Bound, "the survivors and their reapers finish the queue");
                await Task.Delay(200);
            }
        }
        finally
        {
            foreach (WorkerProcess worker in live)
            {
                worker.Process.StandardInput.Close(); // a graceful stop
            }

            foreach (WorkerProcess worker in all)
            {
                using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await worker.Process.WaitForExitAsync(exit.Token);
                }
                catch (OperationCanceledException)
                {
                    worker.Process.Kill();
                }

                worker.Process.Dispose();
            }
        }

        QueueStatus status = await StatusAsync(backend, queueName);
        (status.Ready, status.Delayed, status.Active, status.Dead).Should().Be((0, 0, 0, 0), "every job completed; none was dead-lettered");
        if (backend == "streams")
        {
            await using var stream = (RedisStreamJobQueue)Open(backend, queueName);
            while ((await stream.TrimAsync()).EntriesDeleted > 0)
            {
            }

            (await Database.StreamLengthAsync(new RedisStreamKeys(queueName, StormGroup).Stream)).Should().Be(0, "every entry was acknowledged and then deleted");
            (await Database.StreamPendingAsync(new RedisStreamKeys(queueName, StormGroup).Stream, StormGroup)).PendingMessageCount.Should().Be(0, "the killed consumers' pending entries were claimed and acknowledged");
        }

        var runs = new Dictionary<string, List<(int Pid, int Attempt, bool End)>>();
        foreach (RedisValue line in await Database.ListRangeAsync($"storm-events:{queueName}"))
        {
            string[] parts = line.ToString().Split(' ');
            (int pid, string id, int attempt, bool end) = (int.Parse(parts[0]), parts[1], int.Parse(parts[2]), parts[3] == "e");
            if (!runs.TryGetValue(id, out var list))
            {
                runs[id] = list = [];
            }

            list.Add((pid, attempt, end));
        }

        string[] reaped = all.SelectMany(w => w.Lines).Where(l => l.StartsWith("reaped ", StringComparison.Ordinal)).ToArray();
        int refunded = reaped.Count(l => l.StartsWith("reaped 3004 ", StringComparison.Ordinal));
        Dictionary<string, int> spentByReaper = reaped.Where(l => l.StartsWith("reaped 3001 ", StringComparison.Ordinal))
            .GroupBy(l => l["reaped 3001 ".Length..]).ToDictionary(g => g.Key, g => g.Count());

        runs.Should().HaveCount(Jobs, "every job ran");
        int repeated = 0;
        int unrecorded = 0;
        foreach ((string id, var events) in runs)
        {
            var starts = events.Where(e => !e.End).ToList();
            int lastPid = starts[^1].Pid;
            events.Should().Contain(e => e.End && e.Pid == lastPid, $"job {id}'s last run finished");

            // The worker writes a job's started mark as it begins the job, before its scope and handler are created, and
            // the handler records its start only with its first command: a process killed in between has spent the
            // attempt of a job whose start no one recorded. The reaper's requeues of started leases (3001) beyond the
            // recorded starts of killed processes count such jobs (at most one each, at most the jobs being begun at
            // each kill); every other attempt was spent by a recorded start.
            int beganUnrecorded = Math.Max(0, spentByReaper.GetValueOrDefault(id) - starts.Count(s => killed.Contains(s.Pid)));
            beganUnrecorded.Should().BeLessThanOrEqualTo(1, $"job {id} was begun without its handler's record at most once");
            unrecorded += beganUnrecorded;
            for (int k = 0; k < starts.Count; k++)
            {
                // Attempt k+1 at the (k+1)-th start at the most: a crash spent no attempt of a job it had not begun.
                starts[k].Attempt.Should().BeInRange(1, k + 1 + beganUnrecorded, $"job {id} starts for the {k + 1}. time");
                if (k < starts.Count - 1)
                {
                    killed.Should().Contain(starts[k].Pid, $"job {id} ran again only because the process that ran it was killed");
                }
            }

            repeated += starts.Count > 1 ? 1 : 0;
        }

        output.WriteLine($"{killed.Count} workers killed in {bound.Elapsed.TotalSeconds:0.0} s; {repeated} jobs ran more than once; " +
            $"{reaped.Length} leases reaped, {refunded} of them with the attempt given back (never started); " +
            $"{unrecorded} begun but killed before the handler's first record");
        unrecorded.Should().BeLessThanOrEqualTo(killed.Count * Concurrency, "only the jobs being begun when a process was killed can have spent an attempt unrecorded");
        refunded.Should().BeGreaterThan(0, "killed workers held fetched, unstarted jobs, whose attempts came back");
        reaped.Should().NotContain(l => l.StartsWith("reaped 3002 ", StringComparison.Ordinal));
    }

    // The group the worker processes read as on the stream backend (ResilientQueue.StormWorker's).
    private const string StormGroup = "storm";

    private async Task<long> RemainingAsync(string backend, string queueName) => (await StatusAsync(backend, queueName)).Depth;

    private async Task<QueueStatus> StatusAsync(string backend, string queueName)
    {
        await using JobQueueBase queue = Open(backend, queueName);
        return await queue.GetStatusAsync();
    }

    private JobQueueBase Open(string backend, string queueName) => backend == "streams"
        ? new RedisStreamJobQueue(Redis.Multiplexer, queueName, stream: new RedisStreamOptions { Group = StormGroup })
        : new RedisListJobQueue(Redis.Multiplexer, queueName);

    private async Task<WorkerProcess> StartWorkerAsync(string queueName, string backend)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "ResilientQueue.StormWorker.dll"), Redis.Configuration, queueName, Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture), backend },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var worker = new WorkerProcess(Process.Start(start)!);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        worker.Process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (worker.Lines)
            {
                worker.Lines.Add(e.Data);
            }

            if (e.Data.StartsWith("ready ", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        worker.Process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.WriteLine($"worker {worker.Process.Id}: {e.Data}");
            }
        };
        worker.Process.BeginOutputReadLine();
        worker.Process.BeginErrorReadLine();
        Task exited = worker.Process.WaitForExitAsync();
        await Task.WhenAny(ready.Task, exited).WaitAsync(TimeSpan.FromSeconds(20));
        exited.IsCompleted.Should().BeFalse($"the worker process started (exit code {(exited.IsCompleted ? worker.Process.ExitCode : 0)}; its errors are in the output)");
        return worker;
    }

    private sealed record WorkerProcess(Process Process)
    {
        public List<string> Lines { get; } = [];
    }
}
