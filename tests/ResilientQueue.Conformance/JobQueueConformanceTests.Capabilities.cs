using ResilientQueue.Backends;
using ResilientQueue.Conformance.Infrastructure;

namespace ResilientQueue.Conformance;

/// <summary>
/// Optional contracts (<see cref="JobQueueCapabilities"/>): a backend says which it lacks, the suite skips exactly the
/// scenarios that need those (with the test class's reason), and a use of a lacking one is rejected, naming it.
/// </summary>
public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task Capabilities_AreAllButTheOnesTheTestClassSaysTheBackendLacks()
    {
        IJobQueue queue = await NewQueueAsync();
        JobQueueCapabilities lacking = BackendLacksAttribute.Of(GetType()).Aggregate(JobQueueCapabilities.None, (all, lack) => all | lack.Capability);

        queue.Should().BeAssignableTo<JobQueueBase>().Which.Capabilities.Should().Be(
            JobQueueCapabilities.All & ~lacking,
            "the skipped scenarios are exactly those of the contracts the backend itself says it lacks");
    }

    [CapabilityFact(JobQueueCapabilities.Priorities, WhenLacking = true)]
    public async Task Enqueue_WithAPriority_WhenTheBackendLacksPriorities_ThrowsNotSupportedNamingIt_AndAddsNothing()
    {
        IJobQueue queue = await NewQueueAsync();

        NotSupportedException error = (await FluentActions.Awaiting(() => queue.EnqueueAsync(Bytes("x"), new EnqueueOptions { Priority = 5 }).AsTask())
            .Should().ThrowAsync<NotSupportedException>()).Which;
        await FluentActions.Awaiting(() => queue.EnqueueManyAsync([new JobSubmission(Bytes("a")), new JobSubmission(Bytes("b"), new EnqueueOptions { Priority = JobPriority.Highest })]).AsTask())
            .Should().ThrowAsync<NotSupportedException>("one job of the batch needs a priority");

        error.Message.Should().Contain("JobQueueCapabilities.Priorities").And.Contain(queue.Name);
        ShouldCount(await StatusAsync(queue));
        await EnqueueAsync(queue, "no priority", new EnqueueOptions { Priority = JobPriority.Lowest });
        ShouldCount(await StatusAsync(queue), ready: 1);
    }
}
