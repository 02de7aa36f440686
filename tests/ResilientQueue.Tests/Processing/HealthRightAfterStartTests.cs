using System.Diagnostics;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ResilientQueue.Conformance.Processing;
using ResilientQueue.DependencyInjection;
using Xunit;

namespace ResilientQueue.Tests.Processing;

/// <summary>
/// .NET 10's <see cref="BackgroundService"/> runs all of <c>ExecuteAsync</c> on the thread pool, so on a busy machine
/// the worker's loop may begin well after <see cref="IHostedService.StartAsync"/> returned. A health probe in between
/// sees a worker that is starting (Degraded: it has not reached its backend yet), never one that "is not running"; and
/// a worker stopped before its loop ever ran reads "not running". Every pool thread is held while the worker starts
/// (on a thread of its own), so the loop cannot have begun, as on a loaded machine (CI saw "is not running").
/// </summary>
public sealed class HealthRightAfterStartTests : IAsyncDisposable
{
    private const string Queue = "health-at-start";

    private readonly ServiceProvider _provider;
    private readonly IHostedService[] _hosted; // the worker and the queue's reaper
    private readonly HealthCheckRegistration _registration;

    public HealthRightAfterStartTests()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new WorkerProbe());
        services.AddLogging();
        services.AddHealthChecks();
        services.AddResilientQueue().UseInMemory().AddHandler<ProbeHandler, Msg>(Queue);
        _provider = services.BuildServiceProvider();
        _hosted = [.. _provider.GetServices<IHostedService>()];
        _registration = _provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == $"resilientqueue:{Queue}");
    }

    [Fact]
    public async Task RightAfterStartAsync_BeforeTheLoopHasRun_TheWorkerIsDegradedNotUnhealthy()
    {
        (bool held, Task<HealthCheckResult> health) = await WhilePoolIsHeldAsync(() =>
        {
            bool started = _hosted.All(service => service.StartAsync(CancellationToken.None).IsCompletedSuccessfully);
            Task<HealthCheckResult> probe = ReadHealthAsync();
            return (started && probe.IsCompleted, probe);
        });

        try
        {
            held.Should().BeTrue("the pool was held, StartAsync returned and the probe answered, all before the loop could run");
            HealthCheckResult read = await health;
            read.Status.Should().Be(HealthStatus.Degraded, read.Description);
            read.Description.Should().Be($"Worker of queue '{Queue}' has not reached its backend yet.");
        }
        finally
        {
            await Task.WhenAll(_hosted.Select(service => service.StopAsync(CancellationToken.None)));
        }
    }

    [Fact]
    public async Task StoppedBeforeTheLoopEverRan_TheWorkerReadsNotRunning()
    {
        // A stop that comes before the pool ran ExecuteAsync cancels it unstarted (its Task.Run sees the stop first):
        // the health must still say the worker is not running, not "has not reached its backend yet" forever.
        (bool held, Task[] stops) = await WhilePoolIsHeldAsync(() =>
        {
            bool started = _hosted.All(service => service.StartAsync(CancellationToken.None).IsCompletedSuccessfully);
            return (started, _hosted.Select(service => service.StopAsync(CancellationToken.None)).ToArray());
        });
        await Task.WhenAll(stops);

        held.Should().BeTrue("the pool was held while the worker started and stopped");
        HealthCheckResult read = await ReadHealthAsync();
        read.Status.Should().Be(HealthStatus.Unhealthy, read.Description);
        read.Description.Should().Be($"Worker of queue '{Queue}' is not running.");
    }

    public ValueTask DisposeAsync() => _provider.DisposeAsync();

    private Task<HealthCheckResult> ReadHealthAsync() =>
        _registration.Factory(_provider).CheckHealthAsync(new HealthCheckContext { Registration = _registration });

    // Runs step on a thread of its own while every free pool thread is blocked; Held is false when the pool could not
    // be filled. The blocking is the point: it is how a starved pool looks to the worker.
    private static async Task<(bool Held, T Result)> WhilePoolIsHeldAsync<T>(Func<(bool Ok, T Result)> step) =>
        await Task.Factory.StartNew(
            () =>
            {
                var hold = new ManualResetEventSlim(); // not disposed: blockers still queued wait on it after it is set
                try
                {
                    bool saturated = HoldEveryPoolThread(hold);
                    (bool ok, T result) = step();
                    return (saturated && ok, result);
                }
                finally
                {
                    hold.Set();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    // Blocks every free pool thread on hold: blockers are queued until two of them have stayed queued for 50 ms (no
    // thread is free to take them), and a thread the pool adds meanwhile takes one of those first, as they are ahead of
    // anything queued later. Bounded: false if the pool could not be filled in 10 s.
    private static bool HoldEveryPoolThread(ManualResetEventSlim hold)
    {
        int taken = 0;
        int queued = 0;
        var elapsed = Stopwatch.StartNew();
        var stillQueued = Stopwatch.StartNew();
        while (elapsed.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (queued - Volatile.Read(ref taken) < 2)
            {
                queued++;
                ThreadPool.UnsafeQueueUserWorkItem(_ => { Interlocked.Increment(ref taken); hold.Wait(); }, null);
                stillQueued.Restart();
                continue;
            }

            if (stillQueued.ElapsedMilliseconds >= 50)
            {
                return true;
            }

            Thread.Sleep(1); // on the test's own thread, not a pool thread
        }

        return false;
    }
}
