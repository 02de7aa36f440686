namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task Ages_TellTheOldestReadyJob_AndWhenEachActiveJobWasFetched_FirstDeadlinesFirst()
    {
        IJobQueue queue = await NewQueueAsync();
        DateTimeOffset t0 = Time.GetUtcNow();
        (await queue.GetAgesAsync()).Should().BeEquivalentTo(new QueueAges(null, [], false), "an empty queue has no ages");

        await EnqueueAsync(queue, "high", new EnqueueOptions { Priority = JobPriority.Highest });
        Time.Advance(TimeSpan.FromSeconds(10));
        await EnqueueAsync(queue, "plain");
        (await queue.GetAgesAsync())!.OldestReadySince.Should().Be(t0, "the waiting high-priority job is the oldest, whatever its priority");

        Time.Advance(TimeSpan.FromSeconds(5));
        LeasedJob high = await FetchOneAsync(queue, TimeSpan.FromMinutes(1)); // fetched at t0 + 15 s
        Text(high.Job).Should().Be("high");
        (await queue.GetAgesAsync())!.OldestReadySince.Should().Be(t0 + TimeSpan.FromSeconds(10));

        await EnqueueAsync(queue, "later", new EnqueueOptions { Delay = TimeSpan.FromSeconds(2) }); // available at t0 + 17 s
        Time.Advance(TimeSpan.FromSeconds(20));
        LeasedJob plain = await FetchOneAsync(queue, TimeSpan.FromMinutes(1)); // fetched at t0 + 35 s; promotes "later"
        Text(plain.Job).Should().Be("plain");

        QueueAges ages = (await queue.GetAgesAsync(maxActive: 1))!;
        ages.OldestReadySince.Should().Be(t0 + TimeSpan.FromSeconds(17), "a promoted delayed job has waited since it was due, not since its enqueue");
        ages.ActiveSince.Should().Equal([t0 + TimeSpan.FromSeconds(15)], "the lease that runs out first");
        ages.ActiveCapped.Should().BeTrue("two jobs are active and one was asked for");
        ages = (await queue.GetAgesAsync())!;
        ages.ActiveSince.Should().BeEquivalentTo([t0 + TimeSpan.FromSeconds(15), t0 + TimeSpan.FromSeconds(35)]);
        ages.ActiveCapped.Should().BeFalse();
        ages.OldestActiveSince.Should().Be(t0 + TimeSpan.FromSeconds(15));

        (await queue.RenewAsync(high.Lease, TimeSpan.FromMinutes(10))).Should().Be(LeaseResult.Succeeded);
        (await queue.GetAgesAsync(maxActive: 1))!.ActiveSince.Should().Equal([t0 + TimeSpan.FromSeconds(35)], "a renewal moves the deadline, not the fetch time");
        (await queue.GetAgesAsync())!.OldestActiveSince.Should().Be(t0 + TimeSpan.FromSeconds(15), "a renewed job has still run since its fetch");

        await queue.AckAsync(high.Lease);
        await queue.AckAsync(plain.Lease);
        ages = (await queue.GetAgesAsync())!;
        ages.ActiveSince.Should().BeEmpty();
        ages.OldestReadySince.Should().Be(t0 + TimeSpan.FromSeconds(17));
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
