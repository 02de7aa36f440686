using System.Reflection;
using System.Runtime.ExceptionServices;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.Conformance.Processing;
using ResilientQueue.DependencyInjection;
using ResilientQueue.InMemory;
using Xunit;

namespace ResilientQueue.Tests.Processing;

/// <summary>
/// The worker counts a lease's age from when its fetch was sent, as the backend does: a reply that comes back late
/// (a slow round trip, a starved thread pool) must not make the lease look younger than it is.
/// </summary>
public sealed class SlowFetchReplyTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(1.2);
    private static readonly TimeSpan ReplyLag = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task FetchReplyLate_TheLeaseIsRenewedBeforeItRunsOut_AndTheJobRunsOnce()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 3, 0, 0, 0, TimeSpan.Zero));
        var inner = new InMemoryJobQueue("slow-reply", timeProvider: clock);
        IJobQueue slow = SlowFetchReply.Create(inner, clock, ReplyLag);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new WorkerProbe { Behaviour = async (_, ct) => await gate.Task.WaitAsync(ct) };

        var services = new ServiceCollection();
        services.AddSingleton(probe);
        services.AddSingleton<TimeProvider>(clock);
        services.AddSingleton(new OneQueue(slow));
        services.AddResilientQueue()
            .UseBackend<OneQueueFactory>()
            .AddHandler<ProbeHandler, Msg>("slow-reply", o =>
            {
                o.Concurrency = 1;
                o.LeaseDuration = Lease;
                o.RenewInterval = RenewEvery;
            });
        await using ServiceProvider provider = services.BuildServiceProvider();
        IHostedService[] workers = [.. provider.GetServices<IHostedService>()];
        foreach (IHostedService worker in workers)
        {
            await worker.StartAsync(CancellationToken.None);
        }

        DateTimeOffset fetched = clock.GetUtcNow();
        string id = (await inner.EnqueueObjectAsync(new Msg("blocker"))).JobId;
        await EventuallyAsync(() => !probe.Calls.IsEmpty, "the job starts");
        DateTimeOffset deadline = fetched + Lease;
        clock.GetUtcNow().Should().Be(fetched + ReplyLag, "the fetch's reply took 1.5 s of the 2 s lease");

        // Up to just before the first lease runs out, the keeper's passes due on the way included.
        while (clock.GetUtcNow() < deadline - TimeSpan.FromMilliseconds(50))
        {
            clock.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(5);
        }

        await EventuallyAsync(async () => (await inner.GetJobAsync(id))!.LeaseExpiresAt > deadline, "the lease is renewed before it runs out: 1.5 s of it went by in the fetch's reply, more than the renew interval");
        gate.SetResult();
        await EventuallyAsync(() => probe.Completed.Contains(id), "the job completes");
        await EventuallyAsync(async () => (await inner.GetStatusAsync()).Active == 0, "its acknowledgement is written");
        probe.Calls.Should().ContainSingle().Which.Attempt.Should().Be(1);
        probe.Cancelled.Should().BeEmpty("the lease was never lost");

        foreach (IHostedService worker in workers)
        {
            await worker.StopAsync(CancellationToken.None);
        }
    }

    private static async Task EventuallyAsync(Func<bool> condition, string because) => await EventuallyAsync(() => Task.FromResult(condition()), because);

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string because)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10), because);
            await Task.Delay(10);
        }
    }

    /// <summary>The one queue the test's backend gives.</summary>
    private sealed record OneQueue(IJobQueue Queue);

    private sealed class OneQueueFactory(OneQueue one) : IJobQueueFactory
    {
        public IJobQueue Create(string queueName, JobQueueOptions options) => one.Queue;
    }
}

/// <summary>An <see cref="IJobQueue"/> whose fetch replies come back late: the clock moves on after the backend set the leases.</summary>
public class SlowFetchReply : DispatchProxy
{
    private IJobQueue _inner = null!;
    private FakeTimeProvider _clock = null!;
    private TimeSpan _lag;

    public static IJobQueue Create(IJobQueue inner, FakeTimeProvider clock, TimeSpan lag)
    {
        IJobQueue queue = Create<IJobQueue, SlowFetchReply>();
        var proxy = (SlowFetchReply)(object)queue;
        (proxy._inner, proxy._clock, proxy._lag) = (inner, clock, lag);
        return queue;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        object? result;
        try
        {
            result = targetMethod!.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(ex.InnerException);
            throw;
        }

        return targetMethod.Name == nameof(IJobConsumer.FetchAsync) ? LateAsync((ValueTask<IReadOnlyList<LeasedJob>>)result!) : result;
    }

    private async ValueTask<IReadOnlyList<LeasedJob>> LateAsync(ValueTask<IReadOnlyList<LeasedJob>> fetch)
    {
        IReadOnlyList<LeasedJob> jobs = await fetch;
        if (jobs.Count > 0)
        {
            _clock.Advance(_lag);
        }

        return jobs;
    }
}
