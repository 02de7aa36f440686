using System.Diagnostics;
using CrawlPipeline.Pipeline;
using CrawlPipeline.Site;
using ResilientQueue.Redis.Lists;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Samples.Tests;

/// <summary>
/// samples/CrawlPipeline run as a user runs it (<c>dotnet CrawlPipeline.dll --quick</c>, output redirected): on the
/// in-memory backend and on a real redis-server, where a run killed with SIGKILL mid-crawl is resumed by the next one.
/// The sample checks its own outcome (exit code 1 when it is not as expected); the tests also check what it printed
/// and, on Redis, what it left there, against the seed's site. One class: the runs are sequential (each is CPU-light
/// but timed).
/// </summary>
public sealed class CrawlPipelineTests(ITestOutputHelper output)
{
    private const string Sample = "CrawlPipeline.dll";
    private static readonly TimeSpan QuickBound = TimeSpan.FromSeconds(30); // the bound for --quick
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(90);
    private static readonly SiteModel QuickSite = new(seed: 14, sections: 3, pagesPerSection: 6); // what --quick crawls

    [Fact]
    public async Task Quick_InMemory_EndsAsExpected_WithinThirtySeconds_InPlainLines()
    {
        var clock = Stopwatch.StartNew();
        await using SampleProcess run = SampleProcess.Start(Sample, "--quick");
        int exit = await run.WaitAsync(ProcessTimeout);
        output.WriteLine(run.Output);

        exit.Should().Be(0, "the outcome of the seed's site is as expected");
        clock.Elapsed.Should().BeLessThan(QuickBound);
        run.Output.Should().Contain("outcome as expected")
            .And.Contain("backend in-memory")
            .And.Contain("summary after")
            .And.Contain("was skipped: 404 Not Found", "the dead links are skipped and logged (event 2009)")
            .And.Contain("pauses fetching for 1 s (rate limited)", "a 429 with Retry-After: 1 pauses the worker")
            .And.Contain("stopped fetching: Authentication failed", "the 401 stops the private realm's worker (event 2008)")
            .And.Contain("the handler's fallback completed it", "the slow page's timeout runs the fallback (event 2006)")
            .And.Contain("Crawl of /long resumes at part 3 from its checkpoint")
            .And.Contain("was dead-lettered after attempt 1 (Validation)")
            .And.Contain("was dead-lettered after attempt 6 (Transient)");
        run.Output.Should().NotContain("\u001b[", "redirected output degrades to plain lines, without ANSI codes");
        run.Output.Should().NotContain("FAIL");
    }

    [Fact]
    public async Task Quick_WithCountMismatchAttempts_ExitsNonZero_AndNamesWhatWasLost()
    {
        // One attempt: the intermittent pages and the long page are dead-lettered instead of retried, so the outcome
        // check must fail, and say which pages ended where.
        await using SampleProcess run = SampleProcess.Start(Sample, "--quick", "--attempts", "1");
        int exit = await run.WaitAsync(ProcessTimeout);
        output.WriteLine(run.Output);

        exit.Should().Be(1);
        run.Output.Should().Contain("FAIL every page has its expected fate")
            .And.Contain("/long: expected Extracted, found DeadInCrawl")
            .And.Contain("outcome NOT as expected");
    }

    [Fact]
    public async Task Quick_OnRedis_EndsAsExpected_AndLeavesEveryPageAccountedForInRedis()
    {
        await using TestRedis redis = await TestRedis.StartAsync();
        var clock = Stopwatch.StartNew();
        await using SampleProcess run = SampleProcess.Start(Sample, "--quick", "--redis", redis.EndPoint);
        int exit = await run.WaitAsync(ProcessTimeout);
        output.WriteLine(run.Output);

        exit.Should().Be(0);
        clock.Elapsed.Should().BeLessThan(QuickBound);
        run.Output.Should().Contain("outcome as expected").And.Contain("backend Redis");
        await ShouldHoldTheExpectedOutcomeAsync(redis.Multiplexer);
    }

    [Fact]
    public async Task KilledMidRun_OnRedis_TheNextRunTakesTheLeasesBack_AndLosesNothing()
    {
        await using TestRedis redis = await TestRedis.StartAsync();

        // Slower pages (150 ms) so that many crawl jobs are leased at once when the process dies.
        await using SampleProcess first = SampleProcess.Start(Sample, "--quick", "--redis", redis.EndPoint, "--latency", "150");
        await using var crawl = new RedisListJobQueue(redis.Multiplexer, CrawlSettings.CrawlQueue);
        var waited = Stopwatch.StartNew();
        QueueStatus status;
        do
        {
            waited.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(30), "the first run gets under way; its output:\n" + first.Output);
            first.HasExited.Should().BeFalse("the first run is killed before it ends; its output:\n" + first.Output);
            await Task.Delay(50);
            status = await crawl.GetStatusAsync();
        }
        while (status.Completed < 3 || status.Active < 2);

        await first.KillAsync(); // SIGKILL mid-crawl: no drain, no release
        QueueStatus orphaned = await crawl.GetStatusAsync();
        output.WriteLine($"killed with {orphaned}");
        orphaned.Active.Should().BeGreaterThan(0, "the killed process held leases that only the reaper can take back");

        await using SampleProcess second = SampleProcess.Start(Sample, "--quick", "--redis", redis.EndPoint);
        int exit = await second.WaitAsync(ProcessTimeout);
        output.WriteLine(second.Output);

        exit.Should().Be(0, "the second run finishes the crawl the first one started");
        second.Output.Should().Contain("(resumed from an earlier run)")
            .And.Contain("Reaper requeued job", "the orphaned leases are taken back once they expire")
            .And.Contain("outcome as expected");
        await ShouldHoldTheExpectedOutcomeAsync(redis.Multiplexer);
    }

    /// <summary>What the seed's site must leave in Redis, read independently of the sample's own check.</summary>
    private static async Task ShouldHoldTheExpectedOutcomeAsync(ConnectionMultiplexer redis)
    {
        IReadOnlyDictionary<string, PageFate> fates = QuickSite.ExpectedFates(authFixed: false);
        int Count(PageFate fate) => fates.Values.Count(f => f == fate);

        await using var crawl = new RedisListJobQueue(redis, CrawlSettings.CrawlQueue);
        await using var realm = new RedisListJobQueue(redis, CrawlSettings.PrivateQueue);
        await using var extract = new RedisListJobQueue(redis, CrawlSettings.ExtractQueue);
        QueueStatus crawled = await crawl.GetStatusAsync(), kept = await realm.GetStatusAsync(), extracted = await extract.GetStatusAsync();
        crawled.Depth.Should().Be(0);
        extracted.Depth.Should().Be(0);
        crawled.Dead.Should().Be(Count(PageFate.DeadInCrawl));
        extracted.Dead.Should().Be(Count(PageFate.DeadInExtract));
        kept.Ready.Should().Be(Count(PageFate.KeptByAuth), "the 401 job is kept, ready, for a run with the right token");

        HashEntry[] pages = await redis.GetDatabase().HashGetAllAsync("crawlpipeline:pages");
        pages.Select(p => p.Name.ToString()).Should().BeEquivalentTo(
            fates.Where(f => f.Value is PageFate.Extracted or PageFate.Partial or PageFate.Skipped).Select(f => f.Key),
            "every extracted, partial and skipped page is stored once");
    }
}
