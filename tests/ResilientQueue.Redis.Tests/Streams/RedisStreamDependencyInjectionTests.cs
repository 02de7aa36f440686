using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary><c>UseRedisStreams</c>: the app's multiplexer shared, the stream options applied to every queue and validated at start-up.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamDependencyInjectionTests(RedisServerFixture redis) : RedisTestBase(redis)
{
    [Fact]
    public async Task UseRedisStreams_GivesStreamQueuesOfTheConfiguredGroup_OnTheAppsMultiplexer()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConnectionMultiplexer>(Redis.Multiplexer);
        services.AddResilientQueue().UseRedisStreams(o => { o.Group = "billing"; o.Groups = ["billing", "audit"]; });
        await using ServiceProvider provider = services.BuildServiceProvider();

        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue("orders");
        await queue.EnqueueAsync(new byte[] { 1 });

        queue.Should().BeOfType<RedisStreamJobQueue>().Which.Group.Should().Be("billing");
        (await RedisJobQueues.ListGroupsAsync(Redis.Multiplexer, "orders")).Should().Equal("audit", "billing");
        (await queue.FetchAsync(1, TimeSpan.FromMinutes(1))).Should().ContainSingle();
    }

    [Fact]
    public async Task UseRedisStreams_WithInvalidOptions_FailsTheHostsStart_NamingEveryProblem()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<IConnectionMultiplexer>(Redis.Multiplexer);
        builder.Services.AddResilientQueue().UseRedisStreams(o => { o.Group = "has space"; o.HistoryMaxAge = TimeSpan.FromHours(1); });
        using IHost host = builder.Build();

        OptionsValidationException error = (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;

        error.Failures.Should().HaveCount(2);
        error.Failures.Should().Contain(f => f.StartsWith("RedisStreamOptions.Group:", StringComparison.Ordinal) && f.Contains("'has space'"));
        error.Failures.Should().Contain(f => f.StartsWith("RedisStreamOptions.HistoryMaxAge:", StringComparison.Ordinal) && f.Contains("HistoryMaxCount"));
    }

    [Fact]
    public void RedisStreamJobQueue_WithInvalidOptions_ThrowsNamingTheOption()
    {
        FluentActions.Invoking(() => new RedisStreamJobQueue(Redis.Multiplexer, "orders", stream: new RedisStreamOptions { HousekeepingInterval = TimeSpan.Zero }))
            .Should().Throw<InvalidOptionsException>().WithMessage("RedisStreamOptions.HousekeepingInterval*10 ms*");
        FluentActions.Invoking(() => new RedisStreamJobQueue(Redis.Multiplexer, "orders", stream: new RedisStreamOptions { Groups = ["ok", "not:ok"] }))
            .Should().Throw<InvalidOptionsException>().WithMessage("RedisStreamOptions.Groups*'not:ok'*");
    }
}
