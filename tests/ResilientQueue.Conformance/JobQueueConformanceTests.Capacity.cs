using ResilientQueue.Recovery;

namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task Enqueue_AtCapacity_ThrowsQueueFull_AndAddsNothing()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 2);
        await EnqueueAsync(queue, "a");
        await EnqueueAsync(queue, "b", new EnqueueOptions { Delay = TimeSpan.FromMinutes(1) });

        QueueFullException error = (await FluentActions.Awaiting(() => queue.EnqueueAsync(Bytes("c")).AsTask()).Should().ThrowAsync<QueueFullException>()).Which;

        error.QueueName.Should().Be(queue.Name);
        error.Capacity.Should().Be(2);
        error.Depth.Should().Be(2);
        error.Message.Should().Contain(queue.Name).And.Contain("full");
        ShouldCount(await StatusAsync(queue), ready: 1, delayed: 1);
    }

    [Fact]
    public async Task Enqueue_AfterAnAck_HasRoomAgain()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 1);
        await EnqueueAsync(queue, "a");
        LeasedJob leased = await FetchOneAsync(queue);
        await FluentActions.Awaiting(() => queue.EnqueueAsync(Bytes("b")).AsTask()).Should().ThrowAsync<QueueFullException>("an active job still counts");

        await queue.AckAsync(leased.Lease);

        await EnqueueAsync(queue, "b");
    }

    [Fact]
    public async Task EnqueueMany_ThatDoesNotFit_AddsNone()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 5);
        await EnqueueAsync(queue, "existing");

        await FluentActions.Awaiting(() => queue.EnqueueManyAsync(Enumerable.Range(0, 5).Select(i => new JobSubmission(Bytes($"{i}"))).ToArray()).AsTask())
            .Should().ThrowAsync<QueueFullException>();

        ShouldCount(await StatusAsync(queue), ready: 1);
    }

    [Fact]
    public async Task Capacity_IsNeverExceeded_By20ConcurrentProducers()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 100);
        using var start = new SemaphoreSlim(0);
        int accepted = 0;
        int rejected = 0;

        Task[] producers = Enumerable.Range(0, 20).Select(p => Task.Run(async () =>
        {
            await start.WaitAsync();
            for (int i = 0; i < 20; i++)
            {
                try
                {
                    await queue.EnqueueAsync(Bytes($"{p}-{i}"));
                    Interlocked.Increment(ref accepted);
                }
                catch (QueueFullException)
                {
                    Interlocked.Increment(ref rejected);
                }
            }
        })).ToArray();
        start.Release(20);
        await Task.WhenAll(producers);

        accepted.Should().Be(100);
        rejected.Should().Be(300);
        (await StatusAsync(queue)).Depth.Should().Be(100);
    }

    [Fact]
    public async Task CreateQueue_WithANullName_ThrowsArgumentNull()
    {
        await FluentActions.Awaiting(async () => await CreateQueueAsync(null!, new JobQueueOptions(), Time, QueueLogger)).Should().ThrowAsync<ArgumentNullException>();
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("{tag}")]
    public async Task CreateQueue_WithABadName_ThrowsArgumentNamingTheProblem(string name)
    {
        (await FluentActions.Awaiting(async () => await CreateQueueAsync(name, new JobQueueOptions(), Time, QueueLogger)).Should().ThrowAsync<ArgumentException>())
            .Which.Message.Should().ContainEquivalentOf("queue name");
    }

    [Fact]
    public async Task CreateQueue_WithInvalidOptions_ThrowsNamingTheOption()
    {
        await FluentActions.Awaiting(async () => await CreateQueueAsync("ok", new JobQueueOptions { Capacity = 0 }, Time, QueueLogger))
            .Should().ThrowAsync<InvalidOptionsException>().WithMessage("JobQueueOptions.Capacity*");
    }

    [Fact]
    public async Task Enqueue_WithANegativeDelay_Throws_AndAddsNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        await FluentActions.Awaiting(() => queue.EnqueueAsync(Bytes("x"), new EnqueueOptions { Delay = TimeSpan.FromSeconds(-1) }).AsTask())
            .Should().ThrowAsync<InvalidOptionsException>().WithMessage("EnqueueOptions.Delay*negative*");
        ShouldCount(await StatusAsync(queue));
    }

    [Theory]
    [InlineData(-1, 3)]
    [InlineData(10, 3)]
    [InlineData(0, 0)]
    public async Task Enqueue_WithPriorityOrMaxAttemptsOutOfRange_Throws_AndAddsNothing(int priority, int maxAttempts)
    {
        IJobQueue queue = await NewQueueAsync();
        await FluentActions.Awaiting(() => queue.EnqueueAsync(Bytes("x"), new EnqueueOptions { Priority = priority, MaxAttempts = maxAttempts }).AsTask())
            .Should().ThrowAsync<InvalidOptionsException>();
        ShouldCount(await StatusAsync(queue));
    }

    [Fact]
    public async Task Enqueue_WithAnOversizePayload_ThrowsPayloadTooLarge_AndAddsNothing()
    {
        IJobQueue queue = await NewQueueAsync(o => o.MaxPayloadBytes = 16);

        PayloadTooLargeException error = (await FluentActions.Awaiting(() => queue.EnqueueAsync(new byte[17]).AsTask()).Should().ThrowAsync<PayloadTooLargeException>()).Which;

        error.Size.Should().Be(17);
        error.Limit.Should().Be(16);
        ShouldCount(await StatusAsync(queue));
        await queue.EnqueueAsync(new byte[16]);
    }

    [Fact]
    public async Task EnqueueMany_WithOneBadJob_AddsNone()
    {
        IJobQueue queue = await NewQueueAsync();
        await FluentActions.Awaiting(() => queue.EnqueueManyAsync(
            [
                new JobSubmission(Bytes("good")),
                new JobSubmission(Bytes("bad"), new EnqueueOptions { Delay = TimeSpan.FromSeconds(-5) }),
            ]).AsTask())
            .Should().ThrowAsync<InvalidOptionsException>();
        ShouldCount(await StatusAsync(queue));
    }

    [Theory]
    [InlineData(0, 30)]
    [InlineData(1001, 30)]
    [InlineData(1, 0)]
    [InlineData(1, -1)]
    public async Task Fetch_WithCountOrLeaseOutOfRange_Throws_AndLeasesNothing(int maxCount, int leaseSeconds)
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "x");

        await FluentActions.Awaiting(() => queue.FetchAsync(maxCount, TimeSpan.FromSeconds(leaseSeconds)).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();

        ShouldCount(await StatusAsync(queue), ready: 1);
    }

    [Fact]
    public async Task Ack_WithALeaseThatHasNoToken_ThrowsArgument_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        await EnqueueAsync(queue, "x");
        LeasedJob leased = await FetchOneAsync(queue);

        await FluentActions.Awaiting(() => queue.AckAsync(leased.Lease with { Token = "" }).AsTask()).Should().ThrowAsync<ArgumentException>().WithMessage("*lease*");

        ShouldCount(await StatusAsync(queue), active: 1);
    }
}
