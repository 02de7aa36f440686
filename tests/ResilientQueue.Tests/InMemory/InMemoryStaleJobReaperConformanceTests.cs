using ResilientQueue.Conformance.Processing;
using ResilientQueue.InMemory;

namespace ResilientQueue.Tests.InMemory;

/// <summary>The stale-job reaper on the in-memory backend.</summary>
public sealed class InMemoryStaleJobReaperConformanceTests : StaleJobReaperConformanceTests
{
    protected override IJobQueue CreateQueue(string name, JobQueueOptions options, TimeProvider time) => new InMemoryJobQueue(name, options, time);
}
