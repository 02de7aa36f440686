using ResilientQueue.Conformance.Infrastructure;

namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task Ages_TellTheOldestReadyJob_AndWhenEachActiveJobWasFetched_FirstDeadlinesFirst()
    {
        IJobQueue queue = await NewQueueAsync();
        DateTimeOffset t0 = Time.GetUtcNow();
        (await queue.GetAgesAsync()).Should().BeEquivalentTo(new QueueAges(null, [], false), "an empty queue has no ages");

        await EnqueueAsync(queue, "first");
        Time.Advance(TimeSpan.FromSeconds(10));
        await EnqueueAsync(queue, "second");
        (await queue.GetAgesAsync())!.OldestReadySince.Should().Be(t0, "the first job enqueued has waited longest");

        Time.Advance(TimeSpan.FromSeconds(5));
        LeasedJob first = await FetchOneAsync(queue, TimeSpan.FromMinutes(1)); // fetched at t0 + 15 s
        Text(first.Job).Should().Be("first");
        (await queue.GetAgesAsync())!.OldestReadySince.Should().Be(t0 + TimeSpan.FromSeconds(10));

        await EnqueueAsync(queue, "later", new EnqueueOptions { Delay = TimeSpan.FromSeconds(2) }); // available at t0 + 17 s
        Time.Advance(TimeSpan.FromSeconds(20));
        LeasedJob second = await FetchOneAsync(queue, TimeSpan.FromMinutes(1)); // fetched at t0 + 35 s; promotes "later"
        Text(second.Job).Should().Be("second");

        QueueAges ages = (await queue.GetAgesAsync(maxActive: 1))!;
        ages.OldestReadySince.Should().Be(t0 + TimeSpan.FromSeconds(17), "a promoted delayed job has waited since it was due, not since its enqueue");
        ages.ActiveSince.Should().Equal([t0 + TimeSpan.FromSeconds(15)], "the lease that runs out first");
        ages.ActiveCapped.Should().BeTrue("two jobs are active and one was asked for");
        ages = (await queue.GetAgesAsync())!;
        ages.ActiveSince.Should().BeEquivalentTo([t0 + TimeSpan.FromSeconds(15), t0 + TimeSpan.FromSeconds(35)]);
        ages.ActiveCapped.Should().BeFalse();
        ages.OldestActiveSince.Should().Be(t0 + TimeSpan.FromSeconds(15));

        (await queue.RenewAsync(first.Lease, TimeSpan.FromMinutes(10))).Should().Be(LeaseResult.Succeeded);
        (await queue.GetAgesAsync(maxActive: 1))!.ActiveSince.Should().Equal([t0 + TimeSpan.FromSeconds(35)], "a renewal moves the deadline, not the fetch time");
        (await queue.GetAgesAsync())!.OldestActiveSince.Should().Be(t0 + TimeSpan.FromSeconds(15), "a renewed job has still run since its fetch");

        await queue.AckAsync(first.Lease);
        await queue.AckAsync(second.Lease);
        ages = (await queue.GetAgesAsync())!;
        ages.ActiveSince.Should().BeEmpty();
        ages.OldestReadySince.Should().Be(t0 + TimeSpan.FromSeconds(17));
    }

    [CapabilityFact(JobQueueCapabilities.Priorities)]
    public async Task Ages_TheOldestReadyJob_IsTheOneThatWaitedLongest_WhateverItsPriority()
    {
        IJobQueue queue = await NewQueueAsync();
        DateTimeOffset t0 = Time.GetUtcNow();
        await EnqueueAsync(queue, "mid", new EnqueueOptions { Priority = 5 });
        Time.Advance(TimeSpan.FromSeconds(10));
        await EnqueueAsync(queue, "plain");
        Time.Advance(TimeSpan.FromSeconds(10));
        await EnqueueAsync(queue, "high", new EnqueueOptions { Priority = JobPriority.Highest });
        (await queue.GetAgesAsync())!.OldestReadySince.Should().Be(t0, "the priority-5 job waits behind the highest one and is the oldest");

        Text((await FetchOneAsync(queue, TimeSpan.FromMinutes(1))).Job).Should().Be("high");
        (await queue.GetAgesAsync())!.OldestReadySince.Should().Be(t0);
        Text((await FetchOneAsync(queue, TimeSpan.FromMinutes(1))).Job).Should().Be("mid");
        (await queue.GetAgesAsync())!.OldestReadySince.Should().Be(t0 + TimeSpan.FromSeconds(10), "the plain job, of the lowest priority, is the only one left");
        Text((await FetchOneAsync(queue, TimeSpan.FromMinutes(1))).Job).Should().Be("plain");
        (await queue.GetAgesAsync())!.OldestReadySince.Should().BeNull();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(JobQueueOptions.MaxStepWork + 1)]
    public async Task Ages_WithAnActiveCountOutOfRange_Throw(int maxActive)
    {
        IJobQueue queue = await NewQueueAsync();

        await FluentActions.Awaiting(() => queue.GetAgesAsync(maxActive).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>().WithParameterName("maxActive");
    }
}
