using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using ResilientQueue.Backpressure;
using ResilientQueue.Concurrency;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.InMemory;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Tests.Concurrency;

public sealed class ConcurrencyTelemetryTests
{
    [Fact]
    public void NamedLimiter_ReportsLimitInFlightDropsAndRejections()
    {
        string name = "limiter-" + Guid.NewGuid().ToString("N")[..8];
        using var drops = Collect<long>("resilientqueue.concurrency.drops");
        using var rejections = Collect<long>("resilientqueue.concurrency.rejections");
        using var limit = Collect<long>("resilientqueue.concurrency.limit");
        using var inFlight = Collect<long>("resilientqueue.concurrency.in_flight");
        using var limiter = new AdaptiveConcurrencyLimiter(new AdaptiveConcurrencyLimiterOptions { InitialLimit = 2, Name = name });
        var a = (AdaptiveConcurrencyLease)limiter.AttemptAcquire();
        using var b = limiter.AttemptAcquire();
        using var rejected = limiter.AttemptAcquire();

        limit.Observe(("resilientqueue.limiter", name)).Should().Equal(2);
        inFlight.Observe(("resilientqueue.limiter", name)).Should().Equal(2);
        a.Record(ConcurrencyOutcome.Drop);
        a.Dispose();

        drops.Sum(("resilientqueue.limiter", name)).Should().Be(1);
        rejections.Sum(("resilientqueue.limiter", name)).Should().Be(1);
        inFlight.Observe(("resilientqueue.limiter", name)).Should().Equal(1);
    }

    [Fact]
    public void LimitersSharingAName_AreSummed_AndDisposedOnesLeave()
    {
        string name = "shared-" + Guid.NewGuid().ToString("N")[..8];
        using var limit = Collect<long>("resilientqueue.concurrency.limit");
        using var first = new AdaptiveConcurrencyLimiter(new AdaptiveConcurrencyLimiterOptions { InitialLimit = 3, Name = name });
        var second = new AdaptiveConcurrencyLimiter(new AdaptiveConcurrencyLimiterOptions { InitialLimit = 4, Name = name });

        limit.Observe(("resilientqueue.limiter", name)).Should().Equal(7);
        second.Dispose();

        limit.Observe(("resilientqueue.limiter", name)).Should().Equal(3);
    }

    [Fact]
    public async Task Queue_ReportsBackpressureLevelAndRejectedEnqueues()
    {
        string queueName = "bp-" + Guid.NewGuid().ToString("N")[..8];
        using var rejected = Collect<long>("resilientqueue.enqueue.rejected");
        using var level = Collect<int>("resilientqueue.queue.backpressure");
        var queue = new InMemoryJobQueue(queueName, new JobQueueOptions { Capacity = 2 });
        await queue.EnqueueAsync(new byte[] { 1 });
        await queue.EnqueueAsync(new byte[] { 2 });

        (await queue.GetBackpressureAsync()).Level.Should().Be(BackpressureLevel.Saturated);
        await FluentActions.Awaiting(() => queue.EnqueueAsync(new byte[] { 3 }).AsTask()).Should().ThrowAsync<QueueFullException>();
        await FluentActions.Awaiting(() => queue.EnqueueAsync(new byte[] { 4 }, new EnqueueOptions { FullMode = QueueFullMode.Wait, FullWaitTimeout = TimeSpan.FromMilliseconds(30) }).AsTask())
            .Should().ThrowAsync<QueueFullTimeoutException>();

        level.Observe((ResilientQueueTelemetry.QueueTag, queueName)).Should().Equal(2);
        rejected.Sum((ResilientQueueTelemetry.QueueTag, queueName), ("reason", "full")).Should().Be(1);
        rejected.Sum((ResilientQueueTelemetry.QueueTag, queueName), ("reason", "wait_timeout")).Should().Be(1);
    }

    private static MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(null, ResilientQueueTelemetry.Name, instrument);
}
