using ResilientQueue.Backpressure;
using ResilientQueue.Concurrency;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.InMemory;

namespace ResilientQueue.Tests.Concurrency;

public sealed class ConcurrencyTelemetryTests
{
    [Fact]
    public void NamedLimiter_ReportsLimitInFlightDropsAndRejections()
    {
        string name = "limiter-" + Guid.NewGuid().ToString("N")[..8];
        using var drops = new MetricCollector("resilientqueue.concurrency.drops");
        using var rejections = new MetricCollector("resilientqueue.concurrency.rejections");
        using var limiter = new AdaptiveConcurrencyLimiter(new AdaptiveConcurrencyLimiterOptions { InitialLimit = 2, Name = name });
        var a = (AdaptiveConcurrencyLease)limiter.AttemptAcquire();
        using var b = limiter.AttemptAcquire();
        using var rejected = limiter.AttemptAcquire();

        ObservableReader.Read("resilientqueue.concurrency.limit", ("resilientqueue.limiter", name)).Should().Equal(2);
        ObservableReader.Read("resilientqueue.concurrency.in_flight", ("resilientqueue.limiter", name)).Should().Equal(2);
        a.Record(ConcurrencyOutcome.Drop);
        a.Dispose();

        drops.Sum(("resilientqueue.limiter", name)).Should().Be(1);
        rejections.Sum(("resilientqueue.limiter", name)).Should().Be(1);
        ObservableReader.Read("resilientqueue.concurrency.in_flight", ("resilientqueue.limiter", name)).Should().Equal(1);
    }

    [Fact]
    public void LimitersSharingAName_AreSummed_AndDisposedOnesLeave()
    {
        string name = "shared-" + Guid.NewGuid().ToString("N")[..8];
        using var first = new AdaptiveConcurrencyLimiter(new AdaptiveConcurrencyLimiterOptions { InitialLimit = 3, Name = name });
        var second = new AdaptiveConcurrencyLimiter(new AdaptiveConcurrencyLimiterOptions { InitialLimit = 4, Name = name });

        ObservableReader.Read("resilientqueue.concurrency.limit", ("resilientqueue.limiter", name)).Should().Equal(7);
        second.Dispose();

        ObservableReader.Read("resilientqueue.concurrency.limit", ("resilientqueue.limiter", name)).Should().Equal(3);
    }

    [Fact]
    public async Task Queue_ReportsBackpressureLevelAndRejectedEnqueues()
    {
        string queueName = "bp-" + Guid.NewGuid().ToString("N")[..8];
        using var rejected = new MetricCollector("resilientqueue.enqueue.rejected");
        var queue = new InMemoryJobQueue(queueName, new JobQueueOptions { Capacity = 2 });
        await queue.EnqueueAsync(new byte[] { 1 });
        await queue.EnqueueAsync(new byte[] { 2 });

        (await queue.GetBackpressureAsync()).Level.Should().Be(BackpressureLevel.Saturated);
        await FluentActions.Awaiting(() => queue.EnqueueAsync(new byte[] { 3 }).AsTask()).Should().ThrowAsync<QueueFullException>();
        await FluentActions.Awaiting(() => queue.EnqueueAsync(new byte[] { 4 }, new EnqueueOptions { FullMode = QueueFullMode.Wait, FullWaitTimeout = TimeSpan.FromMilliseconds(30) }).AsTask())
            .Should().ThrowAsync<QueueFullTimeoutException>();

        ObservableReader.Read("resilientqueue.queue.backpressure", (Telemetry.ResilientQueueTelemetry.QueueTag, queueName)).Should().Equal(2);
        rejected.Sum((Telemetry.ResilientQueueTelemetry.QueueTag, queueName), ("reason", "full")).Should().Be(1);
        rejected.Sum((Telemetry.ResilientQueueTelemetry.QueueTag, queueName), ("reason", "wait_timeout")).Should().Be(1);
    }
}
