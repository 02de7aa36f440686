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
/// a worker stopped before its loop ever ran reads "not running".
/// </summary>
public sealed class HealthRightAfterStartTests
{
    private const string Queue = "health-at-start";

    [Fact]
    public async Task RightAfterStartAsync_BeforeTheLoopHasRun_TheWorkerIsDegradedNotUnhealthy()
    {
        var services = new ServiceCollection();
        services.AddSingleton(new WorkerProbe());
        services.AddLogging();
        services.AddHealthChecks();
        services.AddResilientQueue().UseInMemory().AddHandler<ProbeHandler, Msg>(Queue);
        await using ServiceProvider provider = services.BuildServiceProvider();
        IHostedService[] hosted = [.. provider.GetServices<IHostedService>()]; // the worker and the queue's reaper
        HealthCheckRegistration registration = provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == $"resilientqueue:{Queue}");
        IHealthCheck check = registration.Factory(provider);

        // Every thread-pool thread is held while the worker starts, on a thread of its own: the loop cannot have begun
        // when the probe reads the health, as on a loaded machine (CI saw "is not running" right after the start).
        (bool loopHeldBack, Task<HealthCheckResult> health) = await Task.Factory.StartNew(
            () =>
            {
                var hold = new ManualResetEventSlim(); // not disposed: blockers still queued wait on it after it is set
                try
                {
                    bool saturated = HoldEveryPoolThread(hold);
                    bool startReturned = hosted.All(service => service.StartAsync(CancellationToken.None).IsCompletedSuccessfully);
                    Task<HealthCheckResult> result = check.CheckHealthAsync(new HealthCheckContext { Registration = registration });
                    return (saturated && startReturned && result.IsCompleted, result);
                }
                finally
                {
                    hold.Set();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        try
        {
            loopHeldBack.Should().BeTrue("the pool was held, StartAsync returned and the probe answered, all before the loop could run");
            HealthCheckResult read = await health;
            read.Status.Should().Be(HealthStatus.Degraded, read.Description);
            read.Description.Should().Be($"Worker of queue '{Queue}' has not reached its backend yet.");
        }
        finally
        {
            foreach (IHostedService service in hosted)
            {
                await service.StopAsync(CancellationToken.None);
            }
        }
    }

    [Fact]
    public async Task StoppedBeforeTheLoopEverRan_TheWorkerReadsNotRunning()
    {
        // A stop that comes before the pool ran ExecuteAsync cancels it unstarted (its Task.Run sees the stop first):
        // the health must still say the worker is not running, not "has not reached its backend yet" forever.
        var services = new ServiceCollection();
        services.AddSingleton(new WorkerProbe());
        services.AddLogging();
        services.AddHealthChecks();
        services.AddResilientQueue().UseInMemory().AddHandler<ProbeHandler, Msg>(Queue);
        await using ServiceProvider provider = services.BuildServiceProvider();
        IHostedService[] hosted = [.. provider.GetServices<IHostedService>()];
        HealthCheckRegistration registration = provider.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.Single(r => r.Name == $"resilientqueue:{Queue}");

        (bool heldBack, Task[] stops) = await Task.Factory.StartNew(
            () =>
            {
                var hold = new ManualResetEventSlim(); // not disposed: blockers still queued wait on it after it is set
                try
                {
                    bool saturated = HoldEveryPoolThread(hold);
                    bool started = hosted.All(service => service.StartAsync(CancellationToken.None).IsCompletedSuccessfully);
                    Task[] stopping = [.. hosted.Select(service => service.StopAsync(CancellationToken.None))];
                    return (saturated && started, stopping);
                }
                finally
                {
                    hold.Set();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        await Task.WhenAll(stops);

        heldBack.Should().BeTrue("the pool was held while the worker started and stopped");
        HealthCheckResult read = await registration.Factory(provider).CheckHealthAsync(new HealthCheckContext { Registration = registration });
        read.Status.Should().Be(HealthStatus.Unhealthy, read.Description);
        read.Description.Should().Be($"Worker of queue '{Queue}' is not running.");
    }

    // Blocks every free pool thread on hold: blockers are queued until two of them have stayed queued for 50 ms (no
    // thread is free to take them), and a thread the pool adds meanwhile takes one of those first, as they are ahead of
    // anything queued later. Bounded: false if the pool could not be filled in 10 s.
    private static bool HoldEveryPoolThread(ManualResetEventSlim hold)
    {
        int taken = 0;
        int queued = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var stillQueued = System.Diagnostics.Stopwatch.StartNew();
        while (DateTime.UtcNow < deadline)
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

            Thread.Sleep(1);
        }

        return false;
    }
}
