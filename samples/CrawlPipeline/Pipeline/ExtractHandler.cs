using System.Net;
using System.Text.RegularExpressions;
using ResilientQueue.Processing;

namespace CrawlPipeline.Pipeline;

/// <summary>
/// The extract stage: parses a fetched page (title, words, links) and stores the result. A page that is not a whole
/// HTML document throws <see cref="InvalidDataException"/>: the default classifier makes that a Validation error, and
/// the job is dead-lettered at once (retrying would parse the same bytes again).
/// </summary>
public sealed partial class ExtractHandler(IResultStore store, CrawlSettings settings, TimeProvider time) : IJobHandler<ExtractPage>
{
    /// <inheritdoc />
    public async ValueTask HandleAsync(JobContext<ExtractPage> job, CancellationToken ct)
    {
        ExtractPage page = job.Payload;
        await Task.Delay(settings.ExtractCost, time, ct); // the parsing work a real extractor does
        Match title = Title().Match(page.Html);
        if (!title.Success || (!page.Partial && !page.Html.TrimEnd().EndsWith("</html>", StringComparison.OrdinalIgnoreCase)) || page.Html.Contains('\0'))
        {
            throw new InvalidDataException($"{page.Path} is not a whole HTML page ({page.Html.Length} characters, starting '{Preview(page.Html)}')");
        }

        string text = Tag().Replace(page.Html, " ");
        int words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        int links = Anchor().Count(page.Html);
        await store.SaveAsync(new PageResult(page.Path, WebUtility.HtmlDecode(title.Groups[1].Value), words, links, page.Partial, page.Parts, page.ResumedFromPart), ct);
    }

    private static string Preview(string html) => new([.. html.Take(24).Select(c => char.IsControl(c) ? '?' : c)]);

    [GeneratedRegex("<title>([^<]*)</title>")]
    private static partial Regex Title();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();

    [GeneratedRegex("<a href=")]
    private static partial Regex Anchor();
}
