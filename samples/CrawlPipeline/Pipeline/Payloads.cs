namespace CrawlPipeline.Pipeline;

/// <summary>A crawl job: fetch the page at a path of the site.</summary>
/// <param name="Path">The site-relative path (the site's address changes between runs; the path does not).</param>
public sealed record CrawlPage(string Path);

/// <summary>An extract job: parse a fetched page and store what it says.</summary>
/// <param name="Path">The page's path.</param>
/// <param name="Html">The page as fetched (every part of a paginated page).</param>
/// <param name="Partial">Whether the fetch timed out and this is what had arrived.</param>
/// <param name="Parts">How many parts were fetched.</param>
/// <param name="ResumedFromPart">The part the successful crawl attempt resumed at from a checkpoint, if it did.</param>
public sealed record ExtractPage(string Path, string Html, bool Partial, int Parts, int? ResumedFromPart);

/// <summary>Where a paginated page's crawl stopped: the next part to fetch and what came before it.</summary>
/// <param name="NextUrl">The next part's path and query.</param>
/// <param name="Html">The parts fetched so far.</param>
/// <param name="Parts">How many parts were fetched.</param>
public sealed record LongPageCheckpoint(string NextUrl, string Html, int Parts);

/// <summary>What the extract stage stores for a page.</summary>
/// <param name="Path">The page's path.</param>
/// <param name="Title">Its title.</param>
/// <param name="Words">Its number of words.</param>
/// <param name="Links">Its number of links.</param>
/// <param name="Partial">Whether only part of it had arrived (the crawl timed out).</param>
/// <param name="Parts">How many parts it had.</param>
/// <param name="ResumedFromPart">The part its crawl resumed at from a checkpoint, if it did.</param>
public sealed record PageResult(string Path, string Title, int Words, int Links, bool Partial, int Parts, int? ResumedFromPart);

/// <summary>What the store knows about a path: a result, or why it was skipped.</summary>
/// <param name="Path">The path.</param>
/// <param name="Result">The extracted result, or <see langword="null"/> when skipped.</param>
/// <param name="SkipReason">Why the crawl skipped it.</param>
public sealed record PageRecord(string Path, PageResult? Result, string? SkipReason);
