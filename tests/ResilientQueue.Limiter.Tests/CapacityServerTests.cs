using System.Diagnostics;
using System.Net;

namespace ResilientQueue.Limiter.Tests;

/// <summary>The test double itself: it must serve at most C at once, queue the rest FIFO and answer as told.</summary>
public sealed class CapacityServerTests
{
    [Fact]
    public async Task Flood_ServesAtMostCapacityAtOnce_AtItsFullRate_AndFollowsACapacityChange()
    {
        await using CapacityServer server = await CapacityServer.StartAsync(12, TimeSpan.FromMilliseconds(40));
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(10) };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task[] clients = Enumerable.Range(0, 20).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                using HttpResponseMessage response = await http.GetAsync("work");
                response.StatusCode.Should().Be(HttpStatusCode.OK);
            }
        }).ToArray();

        // 20 clients fill the 12 slots once their connections are up (on a busy machine that can take more than a second).
        await WaitAsync(() => server.Counters.MaxActive >= 12);
        server.Capacity = 4;
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        ServerCounters from = server.Counters;
        await Task.Delay(TimeSpan.FromSeconds(1));
        ServerCounters to = server.Counters;
        stop.Cancel();
        await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(15));

        from.MaxActive.Should().Be(12, "the server never serves more than its capacity at once");
        to.Active.Should().BeLessThanOrEqualTo(4);
        to.Waiting.Should().BeGreaterThan(0, "20 clients for 4 slots: the rest wait");
        ((to.BusyTicks - from.BusyTicks) / (4.0 * (to.Timestamp - from.Timestamp))).Should().BeInRange(0.95, 1.02, "4 slots always busy");
        double rate = (to.Served - from.Served) / ((to.Timestamp - from.Timestamp) / (double)Stopwatch.Frequency);
        // 4 slots of 40 ms serve 100 calls a second; up to 4 more complete at the window's edges, and .NET's timers fire on
        // a millisecond tick, so a 40 ms delay may end up to ~1 ms early (4 / 39 ms = 102.6 a second).
        rate.Should().BeInRange(80, 108, "4 slots of 40 ms serve about 100 calls a second, never many more");
    }

    [Fact]
    public async Task Answers_503PastTheQueueLength_And429WithRetryAfterWhileThrottled()
    {
        await using CapacityServer server = await CapacityServer.StartAsync(1, TimeSpan.FromMilliseconds(300));
        server.RejectQueueLength = 1;
        using var http = new HttpClient { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(10) };

        Task<HttpResponseMessage> served = http.GetAsync("work");
        await WaitAsync(() => server.Counters.Active == 1);
        Task<HttpResponseMessage> queued = http.GetAsync("work");
        await WaitAsync(() => server.Counters.Waiting == 1);
        using HttpResponseMessage rejected = await http.GetAsync("work");
        server.Throttle(HttpStatusCode.TooManyRequests, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));
        using HttpResponseMessage throttled = await http.GetAsync("work");

        rejected.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        rejected.Headers.RetryAfter.Should().BeNull();
        throttled.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        throttled.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(2));
        (await served).StatusCode.Should().Be(HttpStatusCode.OK);
        (await queued).StatusCode.Should().Be(HttpStatusCode.OK);
        server.Counters.Should().Match<ServerCounters>(c => c.Served == 2 && c.Rejected == 1 && c.Throttled == 1);
    }

    private static async Task WaitAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
            await Task.Delay(5);
        }
    }
}
