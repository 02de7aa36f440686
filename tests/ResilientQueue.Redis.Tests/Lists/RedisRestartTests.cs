using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using FluentAssertions;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Redis.Tests.Lists;

/// <summary>
/// The owned redis-server restarted under load (data kept, as a server with persistence would): consumers ride out
/// the outage, jobs whose acks were lost come back through the reaper, and nothing is lost. Also the first script call
/// after a restart (an empty script cache on the server).
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisRestartTests(RedisServerFixture redis, ITestOutputHelper output) : RedisTestBase(redis)
{
    private static readonly TimeSpan ReconnectTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Consumers_RedisRestartMidConsumption_AllJobsStillCompleted()
    {
        if (!OwnsServerOrSay())
        {
            return;
        }

        const int Jobs = 2000;
        const int Consumers = 4;
        const int Batch = 50;
        const int RestartAfter = 500;
        var lease = TimeSpan.FromSeconds(2);
        var work = TimeSpan.FromMilliseconds(250); // ~800 jobs/s: the restart always lands mid-consumption, even on a slow machine
        var bound = TimeSpan.FromSeconds(60);

        // Completed jobs are kept (retention = Jobs) so the server itself can say at the end that every job completed.
        await using var queue = new RedisListJobQueue(Redis.Multiplexer, "restart", new JobQueueOptions { CompletedRetention = Jobs });
        var enqueued = new List<string>();
        foreach (var chunk in Enumerable.Range(0, Jobs).Chunk(JobQueueOptions.MaxEnqueueBatchSize))
        {
            enqueued.AddRange((await queue.EnqueueManyAsync(chunk.Select(i => new JobSubmission(Payload("job " + i))).ToList())).Select(r => r.JobId));
        }

        var acked = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var ackOutcomeUnknown = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var outageErrors = new ConcurrentBag<string>();
        var completions = 0;
        var connectionFailures = 0;
        void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) => Interlocked.Increment(ref connectionFailures);
        Redis.Multiplexer.ConnectionFailed += OnConnectionFailed;
        using var stop = new CancellationTokenSource();

        async Task ConsumeAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                IReadOnlyList<LeasedJob> jobs = [];
                try
                {
                    jobs = await queue.FetchAsync(Batch, lease);
                    if (jobs.Count == 0)
                    {
                        // Jobs whose acks were lost in the outage come back once their (short) leases run out.
                        await queue.ReapExpiredAsync(JobQueueOptions.MaxBatchSize);
                        await queue.WaitForJobsAsync(TimeSpan.FromMilliseconds(200), stop.Token);
                        continue;
                    }

                    await Task.Delay(work, stop.Token);
                    var results = await queue.AckManyAsync(jobs.Select(job => job.Lease).ToList());
                    for (var i = 0; i < jobs.Count; i++)
                    {
                        if (results[i] == LeaseResult.Succeeded)
                        {
                            acked.AddOrUpdate(jobs[i].Job.Id, 1, (_, n) => n + 1);
                            Interlocked.Increment(ref completions);
                        }
                    }
                }
                catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or RedisServerException)
                {
                    // The server is down or still loading. An ack that failed this way may or may not have run.
                    outageErrors.Add(ex.GetType().Name + ": " + ex.Message);
                    foreach (var job in jobs)
                    {
                        ackOutcomeUnknown.TryAdd(job.Job.Id, 0);
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        var consumers = Enumerable.Range(0, Consumers).Select(_ => Task.Run(ConsumeAsync)).ToList();
        var stopwatch = Stopwatch.StartNew();
        try
        {
            while (Volatile.Read(ref completions) < RestartAfter)
            {
                stopwatch.Elapsed.Should().BeLessThan(bound, $"{RestartAfter} jobs should complete before the restart");
                await Task.Delay(TimeSpan.FromMilliseconds(5));
            }

            var completionsAtRestart = Volatile.Read(ref completions);
            await Redis.RestartPreservingDataAsync(TimeSpan.FromSeconds(1));
            var completionsWhenBack = Volatile.Read(ref completions);
            output.WriteLine($"restart after {completionsAtRestart} completions; {completionsWhenBack} when the server was back ({stopwatch.Elapsed.TotalSeconds:0.0} s)");
            completionsWhenBack.Should().BeLessThan(Jobs, "the server must go down while jobs are still being consumed");

            // Bounded wait: every job acked at least once, and nothing left ready, delayed, active or dead.
            while (true)
            {
                stopwatch.Elapsed.Should().BeLessThan(bound, $"every job should complete after the restart (acked: {acked.Count} of {Jobs})");
                if (enqueued.All(id => acked.ContainsKey(id) || ackOutcomeUnknown.ContainsKey(id)))
                {
                    var status = await TryGetStatusAsync(queue);
                    if (status is { } s && s.Ready + s.Delayed + s.Active + s.Dead == 0)
                    {
                        break;
                    }
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50));
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(consumers).WaitAsync(bound);
            Redis.Multiplexer.ConnectionFailed -= OnConnectionFailed;
        }

        output.WriteLine($"done in {stopwatch.Elapsed.TotalSeconds:0.0} s: {acked.Count} jobs acked, {acked.Values.Count(n => n > 1)} more than once, " +
                         $"{ackOutcomeUnknown.Count} acks of unknown outcome, {outageErrors.Count} errors during the outage " +
                         $"(first: {outageErrors.FirstOrDefault()}), {connectionFailures} connection failures seen by the client");

        // StackExchange.Redis 2.x holds commands sent while it reconnects in its backlog (they run once the server is
        // back, or time out), so the outage need not surface as errors; the client must have seen the connection drop.
        connectionFailures.Should().BePositive("the consumers' connection was cut while they were running");
        var final = await queue.GetStatusAsync();
        (final.Ready, final.Delayed, final.Active, final.Dead, final.Completed).Should().Be((0L, 0L, 0L, 0L, (long)Jobs), "at least once: nothing lost");
        var states = await Task.WhenAll(enqueued.Select(async id => (await queue.GetJobAsync(id))?.State));
        states.Should().OnlyContain(state => state == JobState.Completed, "the server holds every job as completed");
        enqueued.Where(id => !acked.ContainsKey(id) && !ackOutcomeUnknown.ContainsKey(id)).Should().BeEmpty("every job was acked at least once");

        await ShouldBeBackToNoPersistenceAsync();
    }

    [Fact]
    public async Task GetStatusAsync_FirstScriptCallAfterRestart_Succeeds()
    {
        if (!OwnsServerOrSay())
        {
            return;
        }

        await using var queue = new RedisListJobQueue(Redis.Multiplexer, "first-call", new JobQueueOptions());
        await queue.EnqueueManyAsync([new JobSubmission(Payload("a")), new JobSubmission(Payload("b")), new JobSubmission(Payload("c"))]);
        (await queue.FetchAsync(1, TimeSpan.FromMinutes(1))).Should().ContainSingle();

        // Run the status script twice, so the client knows it by its SHA1 and would send EVALSHA next.
        await queue.GetStatusAsync();
        await queue.GetStatusAsync();

        await Redis.RestartPreservingDataAsync(TimeSpan.FromMilliseconds(200));
        await PingUntilReconnectedAsync();
        (await ScriptCacheSizeAsync()).Should().Be(0, "a restarted server has an empty script cache");

        var status = await queue.GetStatusAsync();

        (status.Ready, status.Active).Should().Be((2L, 1L), "the data survived the restart and the first script call after it succeeds");
        output.WriteLine($"NOSCRIPT errors on the restarted server: {await NoScriptErrorsAsync()}");
        await ShouldBeBackToNoPersistenceAsync();
    }

    [Fact]
    public async Task GetStatusAsync_ScriptCacheFlushedBehindTheClientsBack_RetriesAfterNoScriptAndSucceeds()
    {
        await using var queue = new RedisListJobQueue(Redis.Multiplexer, "noscript", new JobQueueOptions());
        await queue.EnqueueAsync(Payload("a"));
        await queue.GetStatusAsync();
        await queue.GetStatusAsync();
        var noScriptBefore = await NoScriptErrorsAsync();

        await Database.ExecuteAsync("SCRIPT", "FLUSH");
        var status = await queue.GetStatusAsync();

        status.Ready.Should().Be(1);
        (await NoScriptErrorsAsync()).Should().BeGreaterThan(noScriptBefore, "the client sent EVALSHA, met NOSCRIPT and sent the script again");
    }

    private bool OwnsServerOrSay()
    {
        if (Redis.OwnsServer)
        {
            return true;
        }

        throw new InvalidOperationException($"{RedisServerFixture.ExternalServerVariable} points at an external server, which the " +
                         "tests may not restart; they need a redis-server the fixture owns (unset the variable, as in CI).");
    }

    /// <summary>The fixture's server is back in its normal state: no persistence configured and no snapshot file left.</summary>
    private async Task ShouldBeBackToNoPersistenceAsync() =>
        (await RedisServerProbe.PersistenceProblemsAsync(Database)).Should().BeEmpty("the fixture's server must be left as it was");

    private static async Task<QueueStatus?> TryGetStatusAsync(IJobQueue queue)
    {
        try
        {
            return await queue.GetStatusAsync();
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or RedisServerException)
        {
            return null;
        }
    }

    private Task PingUntilReconnectedAsync() => RedisServerProbe.PingUntilReconnectedAsync(Database, ReconnectTimeout);

    private async Task<long> ScriptCacheSizeAsync() =>
        long.Parse(await RedisServerProbe.InfoFieldAsync(Database, "memory", "number_of_cached_scripts") ?? "-1", CultureInfo.InvariantCulture);

    /// <summary>How many NOSCRIPT error replies the server has sent since it started (INFO errorstats).</summary>
    private async Task<long> NoScriptErrorsAsync()
    {
        var field = await RedisServerProbe.InfoFieldAsync(Database, "errorstats", "errorstat_NOSCRIPT");
        return field is null ? 0 : long.Parse(field.Split('=')[1], CultureInfo.InvariantCulture);
    }

    private static ReadOnlyMemory<byte> Payload(string text) => Encoding.UTF8.GetBytes(text);
}
