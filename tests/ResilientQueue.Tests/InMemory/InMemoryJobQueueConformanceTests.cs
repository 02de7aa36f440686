using Microsoft.Extensions.Logging;
using ResilientQueue.Conformance;
using ResilientQueue.InMemory;

namespace ResilientQueue.Tests.InMemory;

/// <summary>The conformance suite on the embedded in-memory backend.</summary>
public sealed class InMemoryJobQueueConformanceTests : JobQueueConformanceTests
{
    protected override ValueTask<IJobQueue> CreateQueueAsync(string name, JobQueueOptions options, TimeProvider timeProvider, ILogger logger) =>
        ValueTask.FromResult<IJobQueue>(new InMemoryJobQueue(name, options, timeProvider, logger));
}
