using Microsoft.Extensions.DependencyInjection;
using ResilientQueue.Conformance.Processing;
using ResilientQueue.DependencyInjection;

namespace ResilientQueue.Tests.InMemory;

/// <summary>The worker's behaviour on the in-memory backend.</summary>
public sealed class InMemoryJobWorkerConformanceTests : JobWorkerConformanceTests
{
    protected override void UseBackend(ResilientQueueBuilder builder, IServiceCollection services) => builder.UseInMemory();
}
