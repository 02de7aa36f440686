using System.Net;

namespace ResilientQueue.AspNetCore.Tests;

/// <summary>What the sample host answers over HTTP: the loopback guard and the Prometheus scrape.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardHttpTests(BrowserFixture fixture)
{
    private static readonly HttpClient Http = new();

    [Fact]
    public async Task ARequestFromAnotherMachine_WithoutAuthorizationConfigured_IsRefused()
    {
        // The request comes over loopback; the sample's test-only startup filter gives its connection a remote address
        // (TEST-NET-3) before any other middleware runs, as a request from another machine would have.
        using var remote = new HttpRequestMessage(HttpMethod.Get, fixture.Actions.BaseUrl + "/queues");
        remote.Headers.Add(SampleServer.RemoteAddressHeader, "203.0.113.9");
        using HttpResponseMessage refused = await Http.SendAsync(remote);
        using HttpResponseMessage local = await Http.GetAsync(fixture.Actions.BaseUrl + "/queues");

        refused.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await refused.Content.ReadAsStringAsync()).Should().Contain("answers only loopback requests until authorization is configured");
        local.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Metrics_Scrape_HasTheStaleGauge_TheProcessingAgeHistogram_AndDepthByState()
    {
        await fixture.Actions.ClearAsync();
        IJobQueue orders = fixture.Actions.Queue("orders");
        await Jobs.StaleAsync(orders);
        await Jobs.DeadLetterAsync(orders, "bad total");

        // The sampler reads every 5 s (the sample's QueueMetricsOptions.Interval) and a scrape reports its last read:
        // wait (up to three intervals) for a read taken after both jobs were made, not one of an earlier test's state.
        string metrics = "";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!(metrics.Contains(Line("resilientqueue_queue_stale", "orders") + " 1", StringComparison.Ordinal) && Depth(metrics, "orders", "dead") == "1" && Depth(metrics, "orders", "active") == "1") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            metrics = await Http.GetStringAsync(fixture.Actions.BaseUrl + "/metrics");
        }

        metrics.Should().Contain("# TYPE resilientqueue_queue_stale gauge");
        metrics.Should().Contain(Line("resilientqueue_queue_stale", "orders") + " 1");
        metrics.Should().Contain("# TYPE resilientqueue_job_processing_age_seconds histogram");
        foreach (string le in new[] { "30", "60", "120", "300", "600" })
        {
            metrics.Should().MatchRegex($"resilientqueue_job_processing_age_seconds_bucket\\{{[^}}]*messaging_destination_name=\"orders\",le=\"{le}\"\\}} [1-9]");
        }

        Depth(metrics, "orders", "dead").Should().Be("1");
        Depth(metrics, "orders", "active").Should().Be("1");
        Depth(metrics, "orders", "ready").Should().Be("0");
        Depth(metrics, "orders", "delayed").Should().Be("0");
        metrics.Should().Contain("# TYPE resilientqueue_queue_depth gauge");
        System.Text.RegularExpressions.Match oldestActive = System.Text.RegularExpressions.Regex.Match(metrics, "resilientqueue_queue_oldest_active_age_seconds\\{[^}]*messaging_destination_name=\"orders\"\\} (?<v>\\S+)");
        oldestActive.Success.Should().BeTrue("the oldest-active gauge reports the queue");
        double.Parse(oldestActive.Groups["v"].Value, System.Globalization.CultureInfo.InvariantCulture).Should().BePositive("the stale job has been active since its fetch");
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "metrics.txt"), metrics);
    }

    /// <summary>The value of <c>resilientqueue_queue_depth</c> of a queue and state in a scrape, or null when it has none.</summary>
    private static string? Depth(string metrics, string queue, string state)
    {
        System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(
            metrics, $"resilientqueue_queue_depth\\{{[^}}]*messaging_destination_name=\"{queue}\",resilientqueue_state=\"{state}\"\\}} (?<v>\\S+)");
        return m.Success ? m.Groups["v"].Value : null;
    }

    private static string Line(string metric, string queue) =>
        $"{metric}{{otel_scope_name=\"ResilientQueue\",otel_scope_version=\"{typeof(IJobQueue).Assembly.GetName().Version}\",messaging_destination_name=\"{queue}\"}}";
}
