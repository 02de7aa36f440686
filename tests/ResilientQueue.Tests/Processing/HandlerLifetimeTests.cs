using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ResilientQueue.Conformance.Processing;
using ResilientQueue.DependencyInjection;
using ResilientQueue.InMemory;
using ResilientQueue.Leases;
using ResilientQueue.Processing;
using Xunit;

namespace ResilientQueue.Tests.Processing;

/// <summary>
/// How the worker gets its handler: <c>AddHandler</c> registers it as transient (a new one per job, in the job's
/// scope) unless the application registered it; one the application registered as a singleton runs without a scope.
/// </summary>
public sealed class HandlerLifetimeTests
{
    [Fact]
    public void AddHandler_RegistersTheHandlerAsTransient_UnlessTheApplicationDid()
    {
        var services = new ServiceCollection();
        services.AddSingleton<OtherHandler>();
        services.AddResilientQueue().UseInMemory()
            .AddHandler<ProbeHandler, Msg>("a")
            .AddHandler<OtherHandler, Msg>("b")
            .AddHandler<UpperCaseHandler, Msg, Reply>("c");

        services.Single(d => d.ServiceType == typeof(ProbeHandler)).Lifetime.Should().Be(ServiceLifetime.Transient);
        services.Single(d => d.ServiceType == typeof(OtherHandler)).Lifetime.Should().Be(ServiceLifetime.Singleton, "the application's own registration is kept");
        services.Single(d => d.ServiceType == typeof(UpperCaseHandler)).Lifetime.Should().Be(ServiceLifetime.Transient, "a result handler too");
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 3)]
    public async Task Invoker_ASingletonHandlerRunsWithoutAScope_OthersInAScopeOfTheirOwnPerJob(bool singleton, int scopesExpected)
    {
        var probe = new WorkerProbe();
        var services = new ServiceCollection();
        services.AddSingleton(probe);
        services.AddSingleton<ProbeHandler>();
        await using ServiceProvider provider = services.BuildServiceProvider();
        var scopes = new CountingScopes(provider.GetRequiredService<IServiceScopeFactory>());
        await using var queue = new InMemoryJobQueue("lifetime");
        var invoker = new HandlerInvoker<ProbeHandler, Msg>(queue, scopes, singleton ? provider : null, queue.Serializer, new JobWorkerOptions(), CancellationToken.None, NullLogger.Instance);
        using var slot = new JobSlot(TimeProvider.System, CancellationToken.None);

        for (int i = 0; i < 3; i++)
        {
            await queue.EnqueueObjectAsync(new Msg($"job {i}"));
            LeasedJob leased = (await queue.FetchAsync(1, TimeSpan.FromMinutes(1))).Single();
            (HandlerOutcome outcome, Exception? error) = await invoker.RunAsync(new TrackedJob(leased, TimeProvider.System.GetTimestamp()), slot, slot.Begin(null));
            outcome.Should().Be(HandlerOutcome.Completed, error?.ToString());
        }

        probe.Calls.Should().HaveCount(3);
        scopes.Created.Should().Be(scopesExpected);
    }

    public sealed class OtherHandler(WorkerProbe probe) : IJobHandler<Msg>
    {
        public ValueTask HandleAsync(JobContext<Msg> job, CancellationToken cancellationToken)
        {
            probe.Completed.Enqueue(job.JobId);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class CountingScopes(IServiceScopeFactory inner) : IServiceScopeFactory
    {
        public int Created { get; private set; }

        public IServiceScope CreateScope()
        {
            Created++;
            return inner.CreateScope();
        }
    }
}
