using System.Globalization;

namespace CrawlPipeline.Site;

/// <summary>What the pipeline should end up doing with a page of the fake site.</summary>
public enum PageFate
{
    /// <summary>Crawled and extracted in full.</summary>
    Extracted,

    /// <summary>The crawl timed out; the timeout fallback sent what had arrived, extracted as a partial result.</summary>
    Partial,

    /// <summary>The link is dead (404): the crawl job is skipped, and the skip recorded.</summary>
    Skipped,

    /// <summary>Always answers 500: retried 1-2-4-8-16 (scaled), then dead-lettered in the crawl queue.</summary>
    DeadInCrawl,

    /// <summary>Served, but malformed: dead-lettered at once in the extract queue (Validation).</summary>
    DeadInExtract,

    /// <summary>Behind the 401 realm while the credentials are wrong: the job is kept in the private crawl queue.</summary>
    KeptByAuth,
}

/// <summary>How a page answers besides its content.</summary>
public enum PageFault
{
    /// <summary>Answers at once.</summary>
    None,

    /// <summary>Answers 429 with <c>Retry-After: 1</c> to its first request.</summary>
    RateLimited,

    /// <summary>Answers 500 to its first <see cref="SitePage.FailFirst"/> requests.</summary>
    Intermittent,

    /// <summary>Always answers 500.</summary>
    AlwaysFails,

    /// <summary>Sends its head and first paragraph, then stalls until the client gives up.</summary>
    Slow,

    /// <summary>Answers 200 with a body that is not a whole HTML page.</summary>
    Malformed,

    /// <summary>Answers 401 unless the request carries the right bearer token.</summary>
    NeedsAuth,

    /// <summary>Paginated (<c>rel="next"</c> parts); one part answers 500 to its first request.</summary>
    Long,
}

/// <summary>One page of the fake site.</summary>
/// <param name="Path">The path, e.g. <c>/s/1/4</c>.</param>
/// <param name="Title">The page's title.</param>
/// <param name="Links">The paths it links to (some are dead).</param>
/// <param name="Fault">How it misbehaves.</param>
/// <param name="FailFirst">For <see cref="PageFault.Intermittent"/>: how many requests fail before it answers.</param>
public sealed record SitePage(string Path, string Title, IReadOnlyList<string> Links, PageFault Fault, int FailFirst = 0);

/// <summary>
/// The fake site's pages, drawn from a seed: an index, sections of pages that link to each other (so links repeat and
/// the crawl must deduplicate them), dead links, and one page for each kind of failure. The same seed always gives the
/// same site, so a run can tell exactly what it should end with (<see cref="ExpectedFate"/>).
/// </summary>
public sealed class SiteModel
{
    /// <summary>The bearer token the private realm accepts.</summary>
    public const string GoodToken = "let-me-in";

    /// <summary>The token the crawler sends until <c>--fix-auth</c>: it has expired.</summary>
    public const string ExpiredToken = "expired-token";

    /// <summary>The paginated page, its number of parts, and the part that fails once.</summary>
    public const string LongPath = "/long";

    /// <summary>Parts of <see cref="LongPath"/>.</summary>
    public const int LongParts = 8;

    /// <summary>The part of <see cref="LongPath"/> that answers 500 to its first request.</summary>
    public const int LongFailingPart = 3;

    /// <summary>The page that stalls.</summary>
    public const string SlowPath = "/slow";

    /// <summary>The page that always answers 500.</summary>
    public const string BrokenPath = "/broken";

    /// <summary>The page whose body is not HTML.</summary>
    public const string MalformedPath = "/malformed";

    /// <summary>The root of the 401 realm.</summary>
    public const string PrivateRoot = "/private/";

    private readonly Dictionary<string, SitePage> _pages = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dead = new(StringComparer.Ordinal);

    /// <summary>Draws the site.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="sections">Sections under the index.</param>
    /// <param name="pagesPerSection">Pages per section.</param>
    public SiteModel(int seed, int sections, int pagesPerSection)
    {
        Seed = seed;
        var random = new Random(seed);
        var all = new List<string>();
        for (int s = 0; s < sections; s++)
        {
            for (int p = 0; p < pagesPerSection; p++)
            {
                all.Add(Inv($"/s/{s}/{p}"));
            }
        }

        // Faults on ordinary pages, drawn without repeats: 429s, intermittent 500s; dead links hang off random pages.
        int rateLimited = Math.Max(2, all.Count / 12);
        int intermittent = Math.Max(3, all.Count / 8);
        int deadLinks = Math.Max(2, all.Count / 10);
        string[] shuffled = [.. all.OrderBy(_ => random.Next())];
        var faults = new Dictionary<string, (PageFault Fault, int FailFirst)>(StringComparer.Ordinal);
        for (int i = 0; i < rateLimited; i++)
        {
            faults[shuffled[i]] = (PageFault.RateLimited, 0);
        }

        for (int i = rateLimited; i < rateLimited + intermittent; i++)
        {
            faults[shuffled[i]] = (PageFault.Intermittent, random.Next(1, 4));
        }

        var extraLinks = all.ToDictionary(p => p, _ => new List<string>(), StringComparer.Ordinal);
        for (int i = 0; i < deadLinks; i++)
        {
            string dead = Inv($"/gone/{i}");
            _dead.Add(dead);
            extraLinks[all[random.Next(all.Count)]].Add(dead);
            extraLinks[all[random.Next(all.Count)]].Add(dead); // often the same dead link twice: one skip
        }

        Add(new SitePage("/", "Index", [.. Enumerable.Range(0, sections).Select(s => Inv($"/s/{s}")), LongPath, SlowPath, BrokenPath, MalformedPath, PrivateRoot], PageFault.None));
        for (int s = 0; s < sections; s++)
        {
            string[] pages = [.. Enumerable.Range(0, pagesPerSection).Select(p => Inv($"/s/{s}/{p}"))];
            Add(new SitePage(Inv($"/s/{s}"), Inv($"Section {s}"), ["/", .. pages], PageFault.None));
            foreach (string page in pages)
            {
                // Back to the section, and two random pages anywhere: most links are seen many times.
                string[] links = [Inv($"/s/{s}"), all[random.Next(all.Count)], all[random.Next(all.Count)], .. extraLinks[page]];
                (PageFault fault, int failFirst) = faults.GetValueOrDefault(page, (PageFault.None, 0));
                Add(new SitePage(page, "Page " + page[3..].Replace('/', '.'), links, fault, failFirst));
            }
        }

        Add(new SitePage(LongPath, "A long article", ["/"], PageFault.Long));
        Add(new SitePage(SlowPath, "A slow page", ["/"], PageFault.Slow));
        Add(new SitePage(BrokenPath, "A broken page", ["/"], PageFault.AlwaysFails));
        Add(new SitePage(MalformedPath, "A malformed page", ["/"], PageFault.Malformed));
        Add(new SitePage(PrivateRoot, "Members", ["/", "/private/1", "/private/2", "/private/3"], PageFault.NeedsAuth));
        for (int i = 1; i <= 3; i++)
        {
            Add(new SitePage(Inv($"/private/{i}"), Inv($"Members page {i}"), [PrivateRoot, "/"], PageFault.NeedsAuth));
        }
    }

    /// <summary>The seed the site was drawn from.</summary>
    public int Seed { get; }

    /// <summary>Every served page (dead links are not pages).</summary>
    public IReadOnlyCollection<SitePage> Pages => _pages.Values;

    /// <summary>The dead links.</summary>
    public IReadOnlyCollection<string> DeadLinks => _dead;

    /// <summary>The page at a path, or <see langword="null"/> (a 404).</summary>
    public SitePage? Find(string path) => _pages.GetValueOrDefault(path);

    /// <summary>Whether a path belongs to the 401 realm (crawled by its own worker).</summary>
    public static bool IsPrivate(string path) => path.StartsWith(PrivateRoot, StringComparison.Ordinal);

    /// <summary>
    /// Every path the crawl reaches from <c>/</c> and what should become of it. With wrong credentials only the realm's
    /// root is reached (its links are never read), and it is kept.
    /// </summary>
    public IReadOnlyDictionary<string, PageFate> ExpectedFates(bool authFixed)
    {
        var fates = new Dictionary<string, PageFate>(StringComparer.Ordinal);
        foreach (SitePage page in _pages.Values)
        {
            if (IsPrivate(page.Path) && !authFixed && page.Path != PrivateRoot)
            {
                continue; // never discovered
            }

            fates[page.Path] = page.Fault switch
            {
                PageFault.Slow => PageFate.Partial,
                PageFault.AlwaysFails => PageFate.DeadInCrawl,
                PageFault.Malformed => PageFate.DeadInExtract,
                PageFault.NeedsAuth when !authFixed => PageFate.KeptByAuth,
                _ => PageFate.Extracted,
            };
        }

        foreach (string dead in _dead)
        {
            fates[dead] = PageFate.Skipped;
        }

        return fates;
    }

    /// <summary>Pages with a fault, for the README's table and the run's expectations.</summary>
    public int Count(PageFault fault) => _pages.Values.Count(p => p.Fault == fault);

    /// <summary>How many 500s the intermittent pages answer in all before they work.</summary>
    public int IntermittentFailures => _pages.Values.Where(p => p.Fault == PageFault.Intermittent).Sum(p => p.FailFirst);

    private void Add(SitePage page) => _pages.Add(page.Path, page);

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
