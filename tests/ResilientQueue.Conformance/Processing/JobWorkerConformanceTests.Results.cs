using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Errors;
using ResilientQueue.Processing;
using ResilientQueue.Results;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Conformance.Processing;

/// <summary>
/// Request–reply through the hosted worker, registered with <c>AddHandler&lt;THandler, TPayload, TResult&gt;</c>: what a
/// result handler returns reaches the producer that enqueued the job and waits (<c>EnqueueAndWaitAsync</c>), serialized
/// with the queue's serializer and stored with the job's acknowledgement; a retried job's producer gets the retry's
/// result, a dead-lettered one's the stored error.
/// </summary>
public abstract partial class JobWorkerConformanceTests
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    protected Task<IJobQueue> StartWithResultsAsync<THandler>(Action<JobWorkerOptions>? worker = null, Action<ResilientQueueBuilder>? builder = null)
        where THandler : class, IJobHandler<Msg, Reply> =>
        StartWithAsync((b, configure) => b.AddHandler<THandler, Msg, Reply>(QueueName, configure), worker, builder, start: true);

    [Fact]
    public async Task ResultHandler_ThroughDI_AnswersTheProducerThatWaits()
    {
        using var completed = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.jobs.completed");
        IJobQueue queue = await StartWithResultsAsync<UpperCaseHandler>();

        Reply reply = await queue.EnqueueAndWaitAsync<Msg, Reply>(new Msg("hello"), RequestTimeout);

        reply.Should().Be(new Reply("HELLO", 1));
        Probe.Calls.Should().ContainSingle();
        await EventuallyAsync(() => completed.Sum(("messaging.destination.name", QueueName)) == 1, "the completion is counted as one");
        (await queue.GetStatusAsync()).Depth.Should().Be(0);
    }

    [Fact]
    public async Task ResultHandler_ManyProducersWaitingAtOnce_EachGetsItsOwnAnswer()
    {
        IJobQueue queue = await StartWithResultsAsync<UpperCaseHandler>(o => o.Concurrency = 8);

        Reply[] replies = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => queue.EnqueueAndWaitAsync<Msg, Reply>(new Msg($"q{i}"), RequestTimeout).AsTask()));

        replies.Select(r => r.Text).Should().Equal(Enumerable.Range(0, 50).Select(i => $"Q{i}"));
    }

    [Fact]
    public async Task ResultHandler_ResultIsStoredWithTheQueuesSerializer_AndReadableWithoutWaiting()
    {
        IJobQueue queue = await StartWithResultsAsync<UpperCaseHandler>(builder: b => b.ConfigureQueue(QueueName, o => o.CompletedRetention = 10));

        string id = await EnqueueAsync(queue, "stored");

        await EventuallyAsync(async () => (await queue.GetJobAsync(id))?.State == JobState.Completed, "the job completes");
        JobResult result = (await queue.GetResultAsync(id))!;
        result.Should().NotBeNull("the result is stored with the completion");
        result.GetValue<Reply>(queue.Serializer).Should().Be(new Reply("STORED", 1));
        System.Text.Encoding.UTF8.GetString(result.Value.Span).Should().Be("""{"text":"STORED","attempt":1}""", "the default serializer writes web-style JSON");
    }

    [Fact]
    public async Task ResultHandler_FailingOnce_TheProducerGetsTheResultOfTheRetry()
    {
        Probe.Behaviour = (ctx, _) => ctx.Attempt == 1 ? throw new TimeoutException("slow model") : ValueTask.CompletedTask;
        IJobQueue queue = await StartWithResultsAsync<UpperCaseHandler>();

        Reply reply = await queue.EnqueueAndWaitAsync<Msg, Reply>(new Msg("again"), RequestTimeout);

        reply.Should().Be(new Reply("AGAIN", 2));
    }

    [Fact]
    public async Task ResultHandler_FailingEveryAttempt_TheProducerGetsJobFailed_WithTheStoredError()
    {
        Probe.Behaviour = (ctx, _) => throw new InvalidOperationException($"model refused {ctx.Attempt}");
        IJobQueue queue = await StartWithResultsAsync<UpperCaseHandler>();

        Func<Task> asking = () => queue.EnqueueAndWaitAsync<Msg, Reply>(new Msg("doomed"), RequestTimeout, new EnqueueOptions { MaxAttempts = 3 }).AsTask();

        JobFailedException failed = (await asking.Should().ThrowAsync<JobFailedException>()).Which;
        (failed.Error, failed.Category, failed.Attempts).Should().Be(("InvalidOperationException: model refused 3", ErrorCategory.Unknown, 3));
        Probe.Calls.Should().HaveCount(3);
    }

    [Fact]
    public async Task ResultHandler_AResultOverTheLimit_IsDeadLetteredAtOnceAsValidation()
    {
        IJobQueue queue = await StartWithResultsAsync<UpperCaseHandler>(builder: b => b.ConfigureQueue(QueueName, o => o.Results.MaxBytes = 16));

        Func<Task> asking = () => queue.EnqueueAndWaitAsync<Msg, Reply>(new Msg("a long answer that does not fit"), RequestTimeout).AsTask();

        JobFailedException failed = (await asking.Should().ThrowAsync<JobFailedException>()).Which;
        failed.Category.Should().Be(ErrorCategory.Validation);
        failed.Attempts.Should().Be(1, "the same input would give the same result: not retried");
        failed.Error.Should().MatchRegex(@"^JobResultTooLargeException: The result of job '\w+' is \d+ bytes, over the 16-byte limit of queue '" + QueueName + @"' \(JobQueueOptions\.Results\.MaxBytes\)\. Nothing was stored\.$");
    }

    [Fact]
    public async Task ResultHandler_TimedOut_StoresTheResultOfItsFallback()
    {
        Probe.Behaviour = async (_, ct) => await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        IJobQueue queue = await StartWithResultsAsync<FallbackResultHandler>(o => o.JobTimeout = TimeSpan.FromMilliseconds(200));

        Reply reply = await queue.EnqueueAndWaitAsync<Msg, Reply>(new Msg("slow"), RequestTimeout);

        reply.Should().Be(new Reply("fallback", 1));
        Probe.FallbackCalls.Should().ContainSingle();
    }

    [Fact]
    public async Task ResultHandler_ThatCannotBeCreated_FailsTheStart_NamingTheUsersHandler()
    {
        Func<Task> start = () => StartWithResultsAsync<ThrowingConstructorResultHandler>();

        InvalidOperationException error = (await start.Should().ThrowAsync<InvalidOperationException>()).Which;
        error.Message.Should().StartWith($"The handler {typeof(ThrowingConstructorResultHandler).FullName} of queue '{QueueName}' cannot be created: the result handler's dependencies are misconfigured");
    }

    [Fact]
    public async Task ResultHandler_TheProducerTimesOut_NamingTheJob_AndTheJobStillCompletes()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Probe.Behaviour = async (_, ct) => await gate.Task.WaitAsync(ct);
        IJobQueue queue = await StartWithResultsAsync<UpperCaseHandler>(builder: b => b.ConfigureQueue(QueueName, o => o.CompletedRetention = 10));
        string id = await EnqueueAsync(queue, "slow");

        JobResultTimeoutException timedOut = (await FluentActions.Awaiting(() => queue.WaitForResultAsync<Reply>(id, TimeSpan.FromMilliseconds(300)).AsTask())
            .Should().ThrowAsync<JobResultTimeoutException>()).Which;
        gate.SetResult();

        (timedOut.JobId, timedOut.Waited, timedOut.LastState).Should().Be((id, TimeSpan.FromMilliseconds(300), JobState.Active));
        (await queue.WaitForResultAsync<Reply>(id, RequestTimeout)).Should().Be(new Reply("SLOW", 1), "the job went on and its result can be waited for again");
    }
}
