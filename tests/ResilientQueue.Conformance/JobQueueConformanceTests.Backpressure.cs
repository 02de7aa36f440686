using ResilientQueue.Backpressure;

namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(20);

    [Fact]
    public async Task GetBackpressure_Levels_FollowTheWatermarkAndCapacity()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 10);
        var seen = new List<BackpressureSignal>();
        for (int depth = 0; depth <= 10; depth++)
        {
            seen.Add(await queue.GetBackpressureAsync());
            if (depth < 10)
            {
                await EnqueueAsync(queue, $"job {depth}");
            }
        }

        seen.Select(s => s.Depth).Should().Equal(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        seen.Take(8).Should().OnlyContain(s => s.Level == BackpressureLevel.Normal && !s.ShouldWait && s.SuggestedRetryAfter == TimeSpan.Zero);
        seen[8].Level.Should().Be(BackpressureLevel.Elevated, "8 of 10 is the default 80 % high watermark");
        seen[8].ShouldWait.Should().BeTrue();
        seen[8].SuggestedRetryAfter.Should().Be(TimeSpan.FromMilliseconds(10), "at the watermark the suggested wait is the shortest");
        seen[9].Level.Should().Be(BackpressureLevel.Elevated);
        seen[9].SuggestedRetryAfter.Should().Be(TimeSpan.FromMilliseconds(500), "half way from the watermark to capacity");
        seen[10].Level.Should().Be(BackpressureLevel.Saturated);
        seen[10].SuggestedRetryAfter.Should().Be(TimeSpan.FromSeconds(1));
        seen[10].Utilisation.Should().Be(1.0);
        seen[5].Utilisation.Should().Be(0.5);
        seen.Should().OnlyContain(s => s.Capacity == 10 && s.HighWatermark == 0.8);
    }

    [Fact]
    public async Task GetBackpressure_CustomWatermark_ChangesWhereElevatedStarts()
    {
        IJobQueue queue = await NewQueueAsync(o =>
        {
            o.Capacity = 4;
            o.HighWatermark = 0.5;
        });
        await EnqueueAsync(queue, "a");
        (await queue.GetBackpressureAsync()).Level.Should().Be(BackpressureLevel.Normal);

        await EnqueueAsync(queue, "b");

        (await queue.GetBackpressureAsync()).Level.Should().Be(BackpressureLevel.Elevated);
    }

    [Fact]
    public async Task GetBackpressure_Depth_CountsReadyDelayedAndActive_NotDeadOrCompleted()
    {
        IJobQueue queue = await NewQueueAsync(o => o.CompletedRetention = 10);
        await DeadLetterAsync(queue, "poison");
        await EnqueueAsync(queue, "done");
        await EnqueueAsync(queue, "active");
        await EnqueueAsync(queue, "later", new EnqueueOptions { Delay = TimeSpan.FromMinutes(5) });
        await queue.AckAsync((await FetchOneAsync(queue)).Lease);
        await FetchOneAsync(queue);
        await EnqueueAsync(queue, "ready");

        BackpressureSignal signal = await queue.GetBackpressureAsync();

        QueueStatus status = await StatusAsync(queue);
        signal.Depth.Should().Be(3).And.Be(status.Depth);
    }

    [Fact]
    public async Task Enqueue_WaitMode_ProceedsWhenRoomAppears()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 1);
        await EnqueueAsync(queue, "first");
        LeasedJob first = await FetchOneAsync(queue);

        Task<EnqueueResult> waiting = queue.EnqueueAsync(Bytes("second"), new EnqueueOptions { FullMode = QueueFullMode.Wait, FullWaitTimeout = TimeSpan.FromMinutes(1) }).AsTask();
        for (int i = 0; i < 5; i++)
        {
            await Task.Delay(10);
            Time.Advance(Step);
        }

        waiting.IsCompleted.Should().BeFalse("the queue is still full");
        (await queue.AckAsync(first.Lease)).Should().Be(LeaseResult.Succeeded);
        EnqueueResult second = await AdvanceUntilDoneAsync(waiting, Step);

        second.Duplicate.Should().BeFalse();
        Text((await queue.GetJobAsync(second.JobId))!).Should().Be("second");
        ShouldCount(await StatusAsync(queue), ready: 1);
    }

    [Fact]
    public async Task Enqueue_WaitMode_NoRoomInTime_ThrowsClearTimeout_AndAddsNothing()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 1);
        await EnqueueAsync(queue, "occupant");

        Task<EnqueueResult> waiting = queue.EnqueueAsync(Bytes("late"), new EnqueueOptions { FullMode = QueueFullMode.Wait, FullWaitTimeout = TimeSpan.FromSeconds(2) }).AsTask();
        Func<Task> act = () => AdvanceUntilDoneAsync(waiting, TimeSpan.FromMilliseconds(100));

        QueueFullTimeoutException error = (await act.Should().ThrowAsync<QueueFullTimeoutException>()).Which;
        error.Message.Should().Be($"Queue '{queue.Name}' did not have room for 1 more job within the wait timeout of 2 s: 1 of 1 jobs are ready, delayed or active. Nothing was enqueued.");
        error.Should().BeAssignableTo<ResilientQueueException>();
        error.QueueName.Should().Be(queue.Name);
        error.Waited.Should().Be(TimeSpan.FromSeconds(2));
        error.InnerException.Should().BeOfType<QueueFullException>();
        ShouldCount(await StatusAsync(queue), ready: 1);
    }

    [Fact]
    public async Task Enqueue_QueueDefaultWaitMode_AppliesWhenTheCallDoesNotSay()
    {
        IJobQueue queue = await NewQueueAsync(o =>
        {
            o.Capacity = 1;
            o.FullMode = QueueFullMode.Wait;
            o.FullWaitTimeout = TimeSpan.FromSeconds(1);
        });
        await EnqueueAsync(queue, "occupant");

        Task<EnqueueResult> waiting = queue.EnqueueAsync(Bytes("late")).AsTask();
        await FluentActions.Awaiting(() => AdvanceUntilDoneAsync(waiting, TimeSpan.FromMilliseconds(100))).Should().ThrowAsync<QueueFullTimeoutException>();

        await FluentActions.Awaiting(() => queue.EnqueueAsync(Bytes("now"), new EnqueueOptions { FullMode = QueueFullMode.Reject }).AsTask())
            .Should().ThrowAsync<QueueFullException>("the call's own mode wins over the queue's");
    }

    [Fact]
    public async Task EnqueueMany_QueueWaitMode_WaitsForRoomForTheWholeBatch()
    {
        IJobQueue queue = await NewQueueAsync(o =>
        {
            o.Capacity = 3;
            o.FullMode = QueueFullMode.Wait;
            o.FullWaitTimeout = TimeSpan.FromMinutes(1);
        });
        await EnqueueAsync(queue, "a");
        await EnqueueAsync(queue, "b");
        LeasedJob a = await FetchOneAsync(queue);

        Task<IReadOnlyList<EnqueueResult>> batch = queue.EnqueueManyAsync([new JobSubmission(Bytes("c")), new JobSubmission(Bytes("d"))]).AsTask();
        await Task.Delay(50);
        Time.Advance(Step);
        batch.IsCompleted.Should().BeFalse("two jobs do not fit in the one free place");
        ShouldCount(await StatusAsync(queue), ready: 1, active: 1);

        await queue.AckAsync(a.Lease);
        IReadOnlyList<EnqueueResult> added = await AdvanceUntilDoneAsync(batch, Step);

        added.Should().HaveCount(2);
        ShouldCount(await StatusAsync(queue), ready: 3);
    }

    [Fact]
    public async Task EnqueueMany_WaitModeButLargerThanCapacity_ThrowsQueueFullAtOnce()
    {
        IJobQueue queue = await NewQueueAsync(o =>
        {
            o.Capacity = 2;
            o.FullMode = QueueFullMode.Wait;
        });

        QueueFullException error = (await FluentActions.Awaiting(() => queue.EnqueueManyAsync([new(Bytes("a")), new(Bytes("b")), new(Bytes("c"))]).AsTask())
            .Should().ThrowAsync<QueueFullException>("three jobs can never fit in a capacity of two")).Which;

        error.Requested.Should().Be(3);
        ShouldCount(await StatusAsync(queue));
    }

    [Fact]
    public async Task Enqueue_WaitMode_Cancelled_ThrowsAndAddsNothing()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 1);
        await EnqueueAsync(queue, "occupant");
        using var cts = new CancellationTokenSource();

        Task<EnqueueResult> waiting = queue.EnqueueAsync(Bytes("late"), new EnqueueOptions { FullMode = QueueFullMode.Wait }, cts.Token).AsTask();
        await Task.Delay(20);
        await cts.CancelAsync();

        await FluentActions.Awaiting(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))).Should().ThrowAsync<OperationCanceledException>();
        ShouldCount(await StatusAsync(queue), ready: 1);
    }

    [Fact]
    public async Task Enqueue_InvalidFullWaitTimeout_ThrowsNamingIt()
    {
        IJobQueue queue = await NewQueueAsync();

        InvalidOptionsException error = (await FluentActions.Awaiting(() => queue.EnqueueAsync(Bytes("x"), new EnqueueOptions { FullWaitTimeout = TimeSpan.Zero }).AsTask())
            .Should().ThrowAsync<InvalidOptionsException>()).Which;

        error.OptionName.Should().Be("EnqueueOptions.FullWaitTimeout");
        ShouldCount(await StatusAsync(queue));
    }

    [Fact]
    public async Task WaitForRoom_AboveWatermark_ReturnsOnceBelowIt()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 5);
        for (int i = 0; i < 4; i++)
        {
            await EnqueueAsync(queue, $"job {i}");
        }

        Task<BackpressureSignal> waiting = queue.WaitForRoomAsync(TimeSpan.FromMinutes(1), Time).AsTask();
        await Task.Delay(20);
        Time.Advance(Step);
        waiting.IsCompleted.Should().BeFalse("4 of 5 is at the 80 % watermark");

        await queue.AckAsync((await FetchOneAsync(queue)).Lease);
        BackpressureSignal signal = await AdvanceUntilDoneAsync(waiting, TimeSpan.FromMilliseconds(100));

        signal.Level.Should().Be(BackpressureLevel.Normal);
        signal.Depth.Should().Be(3);
    }

    [Fact]
    public async Task EnqueueWithBackpressure_StaysAboveWatermark_ThrowsClearTimeout()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 5);
        for (int i = 0; i < 4; i++)
        {
            await EnqueueAsync(queue, $"job {i}");
        }

        Task<EnqueueResult> sending = queue.EnqueueWithBackpressureAsync("payload", TimeSpan.FromSeconds(3), timeProvider: Time).AsTask();
        QueueFullTimeoutException error = (await FluentActions.Awaiting(() => AdvanceUntilDoneAsync(sending, TimeSpan.FromMilliseconds(200)))
            .Should().ThrowAsync<QueueFullTimeoutException>()).Which;

        error.Message.Should().Be($"Queue '{queue.Name}' did not have fewer than 4 jobs (its high watermark) within the wait timeout of 3 s: 4 of 5 jobs are ready, delayed or active. Nothing was enqueued.");
        ShouldCount(await StatusAsync(queue), ready: 4);
    }

    [Fact]
    public async Task EnqueueWithBackpressure_BelowWatermark_SendsAtOnce()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 5);

        EnqueueResult result = await queue.EnqueueWithBackpressureAsync(new { Url = "https://example.test/" }, TimeSpan.Zero, timeProvider: Time);

        Text((await queue.GetJobAsync(result.JobId))!).Should().Be("{\"url\":\"https://example.test/\"}", "the default serializer writes camelCase");
    }
}
