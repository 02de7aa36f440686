using System.Text;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Tests.Infrastructure;
using ResilientQueue.Telemetry;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary>
/// The seed-004 metrics (<c>AddQueueMetrics</c>) and the dashboard over a stream queue that no worker of the process
/// handles (observed by name), on a real server: both read the queue as the configured group sees it.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisStreamDashboardTests(RedisServerFixture redis) : RedisTestBase(redis)
{
    private const string Name = "stream-metrics";

    [Fact]
    public async Task MetricsAndDashboard_OverAStreamQueue_ReportTheGroupsDepthStaleLeasesAndAges()
    {
        using var stale = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.queue.stale");
        using var depth = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.queue.depth");
        using var oldestReady = new MetricCollector<double>(null, ResilientQueueTelemetry.Name, "resilientqueue.queue.oldest_ready_age");
        using var oldestActive = new MetricCollector<double>(null, ResilientQueueTelemetry.Name, "resilientqueue.queue.oldest_active_age");
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<IConnectionMultiplexer>(Redis.Multiplexer);
        builder.Services.AddResilientQueue()
            .UseRedisStreams(o => { o.Group = "llm"; o.Groups = ["llm", "audit"]; })
            .AddQueueMetrics(o => { o.Interval = TimeSpan.FromSeconds(1); o.Queues.Add(Name); });
        builder.Services.AddResilientQueueDashboard(o => o.Queues.Add(Name));
        await using WebApplication app = builder.Build();
        app.MapResilientQueueDashboard("/queues");
        await app.StartAsync();
        string url = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();

        // Group llm: one job stale (its lease ran out), one dead-lettered, two ready. Group audit: all four ready.
        IJobQueue queue = app.Services.GetRequiredService<IJobQueueProvider>().GetQueue(Name);
        await queue.EnqueueManyAsync([.. Enumerable.Range(0, 4).Select(i => new JobSubmission(Encoding.UTF8.GetBytes("job " + i)))]);
        IReadOnlyList<LeasedJob> leased = await queue.FetchAsync(2, TimeSpan.FromMilliseconds(200));
        await queue.FailAsync(leased[1].Lease, new JobError("JsonException", "bad", ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison"));
        await Task.Delay(300);

        var tag = (ResilientQueueTelemetry.QueueTag, (object?)Name);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!(stale.Observe(tag).SequenceEqual([1L]) && depth.Observe(tag, ("resilientqueue.state", "dead")).SequenceEqual([1L])) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200); // the sampler reads every second: wait for a read taken after the jobs were made
        }

        stale.Observe(tag).Should().Equal(1);
        depth.Observe(tag, ("resilientqueue.state", "ready")).Should().Equal(2);
        depth.Observe(tag, ("resilientqueue.state", "active")).Should().Equal(1);
        depth.Observe(tag, ("resilientqueue.state", "dead")).Should().Equal(1);
        oldestReady.Observe(tag).Should().ContainSingle().Which.Should().BePositive("two jobs wait in group llm since their enqueue");
        oldestActive.Observe(tag).Should().ContainSingle().Which.Should().BeGreaterThanOrEqualTo(0.3, "the stale job has been active since its fetch");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string overview = await http.GetStringAsync(url + "/queues/");
        overview.Should().Contain(Name);
        string page = await http.GetStringAsync(url + "/queues/q/" + Name);
        page.Should().Contain("data-card=\"ready\"><div class=\"v\">2<", "the queue page shows group llm's counts");
        page.Should().Contain("data-card=\"dead\"><div class=\"v\">1<");
        string dead = await http.GetStringAsync(url + "/queues/q/" + Name + "/dead");
        dead.Should().Contain(leased[1].Job.Id).And.Contain("poison");
        await app.StopAsync();
    }
}
