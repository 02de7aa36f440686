using System.Globalization;
using CrawlPipeline.Pipeline;
using CrawlPipeline.Site;
using ResilientQueue;
using ResilientQueue.DeadLetter;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Errors;

namespace CrawlPipeline;

/// <summary>Where the pipeline ended: the queues, the dead letters and the stored results, read after the workers stopped.</summary>
/// <param name="Queues">Each queue's final status.</param>
/// <param name="DeadLetters">Each queue's dead letters: the path and the category.</param>
/// <param name="Records">What the store holds, by path.</param>
/// <param name="Health">Each worker's health at the end.</param>
public sealed record FinalState(
    IReadOnlyDictionary<string, QueueStatus> Queues,
    IReadOnlyDictionary<string, IReadOnlyList<(string Path, ErrorCategory Category, string Reason)>> DeadLetters,
    IReadOnlyDictionary<string, PageRecord> Records,
    IReadOnlyDictionary<string, string> Health)
{
    /// <summary>Reads the final state.</summary>
    public static async Task<FinalState> ReadAsync(IJobQueueProvider queues, IResultStore store, IReadOnlyDictionary<string, string> health, CancellationToken ct)
    {
        var statuses = new Dictionary<string, QueueStatus>(StringComparer.Ordinal);
        var dead = new Dictionary<string, IReadOnlyList<(string, ErrorCategory, string)>>(StringComparer.Ordinal);
        foreach (string name in new[] { CrawlSettings.CrawlQueue, CrawlSettings.PrivateQueue, CrawlSettings.ExtractQueue })
        {
            IJobQueue queue = queues.GetQueue(name);
            statuses[name] = await queue.GetStatusAsync(ct);
            DeadLetterPage page = await queue.DeadLetters.ListAsync(new DeadLetterQuery { Limit = DeadLetterQuery.MaxLimit }, ct);
            dead[name] = [.. page.Entries.Select(e => (Path(e.Job, name), e.Category, e.Reason))];
        }

        return new FinalState(statuses, dead, await store.ReadAllAsync(ct), health);
    }

    private static string Path(Job job, string queue) =>
        queue == CrawlSettings.ExtractQueue ? job.GetPayload<ExtractPage>().Path : job.GetPayload<CrawlPage>().Path;
}

/// <summary>One check of the expected outcome.</summary>
/// <param name="Name">What it checks.</param>
/// <param name="Passed">Whether it held.</param>
/// <param name="Detail">What was found.</param>
public sealed record Check(string Name, bool Passed, string Detail);

/// <summary>
/// The outcome the seed's site should give, checked against the final state: every page's fate (extracted, partial,
/// skipped, dead-lettered in the right queue, kept by the auth stop), nothing left in flight, the long page resumed
/// from its checkpoint, and, when this run started the crawl, the failures by category this run counted.
/// </summary>
public static class Expectations
{
    /// <summary>Checks the outcome.</summary>
    public static IReadOnlyList<Check> Evaluate(SiteModel site, FakeSite server, CrawlOptions options, CrawlState crawl, FinalState final, PipelineStats stats)
    {
        var checks = new List<Check>();
        IReadOnlyDictionary<string, PageFate> expected = site.ExpectedFates(options.FixAuth);
        var wrong = new List<string>();
        foreach ((string path, PageFate fate) in expected.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            PageFate? actual = FateOf(path, final);
            if (actual != fate)
            {
                wrong.Add($"{path}: expected {fate}, found {actual?.ToString() ?? "nothing (lost)"}");
            }
        }

        int unexpected = final.Records.Keys.Count(p => !expected.ContainsKey(p));
        checks.Add(new Check("every page has its expected fate (nothing lost)", wrong.Count == 0 && unexpected == 0,
            wrong.Count == 0 && unexpected == 0
                ? Inv($"{expected.Count} paths: {Tally(expected.Values)}")
                : string.Join("; ", wrong.Take(6)) + (wrong.Count > 6 ? Inv($"; and {wrong.Count - 6} more") : string.Empty) + (unexpected > 0 ? Inv($"; {unexpected} unexpected paths stored") : string.Empty)));

        QueueStatus crawlStatus = final.Queues[CrawlSettings.CrawlQueue], extractStatus = final.Queues[CrawlSettings.ExtractQueue], privateStatus = final.Queues[CrawlSettings.PrivateQueue];
        checks.Add(new Check("crawl and extract drained (nothing ready, delayed or active)", crawlStatus.Depth == 0 && extractStatus.Depth == 0,
            Inv($"crawl {crawlStatus.Depth}, extract {extractStatus.Depth}")));

        string privateHealth = final.Health.GetValueOrDefault(CrawlSettings.PrivateQueue, "?");
        checks.Add(options.FixAuth
            ? new Check("401 realm crawled with the fixed token", privateStatus.Depth == 0, Inv($"crawl.private depth {privateStatus.Depth}, worker {privateHealth}"))
            : new Check("401 realm: its worker stopped (unhealthy) and kept the job", privateStatus.Ready == 1 && privateStatus.Depth == 1 && privateHealth == "Unhealthy",
                Inv($"crawl.private ready {privateStatus.Ready}, depth {privateStatus.Depth}, worker {privateHealth}")));

        if (final.Records.GetValueOrDefault(SiteModel.LongPath)?.Result is { } longPage)
        {
            bool resumed = crawl.Resumed ? longPage.ResumedFromPart > 0 : longPage.ResumedFromPart == SiteModel.LongFailingPart;
            int[] hits = [.. Enumerable.Range(0, SiteModel.LongParts).Select(p => server.Hits(Inv($"{SiteModel.LongPath}?part={p}")))];
            bool onceEach = crawl.Resumed || hits.Select((h, p) => h == (p == SiteModel.LongFailingPart ? 2 : 1)).All(ok => ok);
            checks.Add(new Check("long page resumed from its checkpoint after the retry", resumed && onceEach && longPage.Parts == SiteModel.LongParts,
                Inv($"{longPage.Parts} parts, resumed at part {longPage.ResumedFromPart?.ToString(CultureInfo.InvariantCulture) ?? "none"}; requests per part this run: {string.Join(" ", hits)}")));
        }

        if (!crawl.Resumed)
        {
            // Counted by the library's meter in this process: only a run that did the whole crawl can expect exact numbers.
            var failures = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (string queue in new[] { CrawlSettings.CrawlQueue, CrawlSettings.PrivateQueue, CrawlSettings.ExtractQueue })
            {
                foreach ((string category, long n) in stats.FailuresByCategory(queue))
                {
                    failures[queue + "/" + category] = n;
                }
            }

            var want = new Dictionary<string, long>(StringComparer.Ordinal)
            {
                ["crawl/RateLimited"] = site.Count(PageFault.RateLimited),
                ["crawl/Transient"] = site.IntermittentFailures + 1 + options.Attempts, // intermittent 500s, the long page's part, the broken page's attempts
                ["crawl/Unknown"] = site.DeadLinks.Count,
                ["extract/Validation"] = 1,
            };
            if (!options.FixAuth)
            {
                want["crawl.private/Auth"] = 1;
            }

            bool same = want.Count == failures.Count && want.All(w => failures.GetValueOrDefault(w.Key) == w.Value);
            checks.Add(new Check("failures by queue and category", same, "expected " + Describe(want) + (same ? string.Empty : "; counted " + Describe(failures))));
            checks.Add(new Check("duplicate links turned away by the idempotency key", stats.Duplicates > 0, Inv($"{stats.Duplicates} of {stats.LinksFound} links")));
        }

        return checks;
    }

    /// <summary>What became of a path, from the store and the dead letters.</summary>
    public static PageFate? FateOf(string path, FinalState final)
    {
        if (final.DeadLetters[CrawlSettings.CrawlQueue].Any(d => d.Path == path && d.Category == ErrorCategory.Transient))
        {
            return PageFate.DeadInCrawl;
        }

        if (final.DeadLetters[CrawlSettings.ExtractQueue].Any(d => d.Path == path && d.Category == ErrorCategory.Validation))
        {
            return PageFate.DeadInExtract;
        }

        if (SiteModel.IsPrivate(path) && final.Queues[CrawlSettings.PrivateQueue].Ready > 0 && !final.Records.ContainsKey(path))
        {
            return PageFate.KeptByAuth;
        }

        return final.Records.GetValueOrDefault(path) switch
        {
            { SkipReason: not null } => PageFate.Skipped,
            { Result.Partial: true } => PageFate.Partial,
            { Result: not null } => PageFate.Extracted,
            _ => null,
        };
    }

    /// <summary>Counts of fates, e.g. <c>Extracted 27, Skipped 2</c>.</summary>
    public static string Tally(IEnumerable<PageFate> fates) =>
        string.Join(", ", fates.GroupBy(f => f).OrderBy(g => g.Key).Select(g => Inv($"{g.Key} {g.Count()}")));

    private static string Describe(IReadOnlyDictionary<string, long> counts) =>
        string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => Inv($"{c.Key} {c.Value}")));

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
