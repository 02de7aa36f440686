using System.Diagnostics;
using FluentAssertions;
using ResilientQueue.Processing;
using ResilientQueue.Telemetry;
using Xunit;

namespace ResilientQueue.Tests.Telemetry;

/// <summary>
/// The worker's consumer span per job: a child of the job's stored traceparent, with its tags on a recorded span only.
/// Each test listens to an activity source of its own, so listeners of other tests (which sample every span of the
/// library's source) cannot change the sampling decision these tests assert on.
/// </summary>
public sealed class WorkerActivityTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    [Fact]
    public void StartProcess_OnARecordedSpan_ContinuesTheJobsTrace_AndTagsQueueOperationIdAndAttempt()
    {
        using var source = new ActivitySource($"test-{Guid.NewGuid():N}");
        using ActivityListener listener = Listen(source, ActivitySamplingResult.AllDataAndRecorded);

        using Activity? activity = WorkerActivity.StartProcess(source, NewJob(attempts: 2), "process orders");

        activity.Should().NotBeNull();
        activity!.Kind.Should().Be(ActivityKind.Consumer);
        activity.TraceId.ToHexString().Should().Be("0af7651916cd43dd8448eb211c80319c");
        activity.ParentSpanId.ToHexString().Should().Be("b7ad6b7169203331");
        activity.GetTagItem(ResilientQueueTelemetry.QueueTag).Should().Be("orders");
        activity.GetTagItem("messaging.operation.type").Should().Be("process");
        activity.GetTagItem("messaging.message.id").Should().Be("job-1");
        activity.GetTagItem("resilientqueue.attempt").Should().Be(2);
    }

    [Fact]
    public void StartProcess_OnASpanThatOnlyPropagates_ContinuesTheJobsTrace_WithoutTags()
    {
        // OpenTelemetry's answer for a span its sampler drops: the span exists, so what the handler calls still joins
        // the job's trace, but nothing of it is recorded, so the worker adds no tags to it.
        using var source = new ActivitySource($"test-{Guid.NewGuid():N}");
        using ActivityListener listener = Listen(source, ActivitySamplingResult.PropagationData);

        using Activity? activity = WorkerActivity.StartProcess(source, NewJob(attempts: 1), "process orders");

        activity.Should().NotBeNull();
        activity!.IsAllDataRequested.Should().BeFalse();
        activity.TraceId.ToHexString().Should().Be("0af7651916cd43dd8448eb211c80319c");
        Activity.Current.Should().BeSameAs(activity, "the handler's own spans are its children");
        activity.TagObjects.Should().BeEmpty();
    }

    [Fact]
    public void StartProcess_WithoutAListener_StartsNoSpan()
    {
        using var source = new ActivitySource($"test-{Guid.NewGuid():N}");

        WorkerActivity.StartProcess(source, NewJob(attempts: 1), "process orders").Should().BeNull();
    }

    private static ActivityListener Listen(ActivitySource source, ActivitySamplingResult result)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => ReferenceEquals(s, source),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => result,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private static Job NewJob(int attempts) => new()
    {
        Id = "job-1",
        Queue = "orders",
        Payload = "{}"u8.ToArray(),
        State = JobState.Active,
        Attempts = attempts,
        MaxAttempts = 5,
        EnqueuedAt = DateTimeOffset.UnixEpoch,
        AvailableAt = DateTimeOffset.UnixEpoch,
        TraceParent = TraceParent,
    };
}
