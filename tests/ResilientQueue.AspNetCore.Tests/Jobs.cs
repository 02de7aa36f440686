using System.Reflection;
using System.Text;
using Microsoft.Playwright;
using ResilientQueue.Errors;
using ResilientQueue.Leases;
using ResilientQueue.Recovery;

namespace ResilientQueue.AspNetCore.Tests;

/// <summary>Puts jobs into the states a test needs, through the queue's public API, and saves screenshots.</summary>
internal static class Jobs
{
    public static async Task<string> DeadLetterAsync(IJobQueue queue, string error, ErrorCategory category = ErrorCategory.Validation, string payload = "{\"order\":1}")
    {
        string id = (await queue.EnqueueAsync(Encoding.UTF8.GetBytes(payload))).JobId;
        LeasedJob leased = (await queue.FetchAsync(1, TimeSpan.FromMinutes(5))).Single(j => j.Job.Id == id);
        await queue.FailAsync(leased.Lease, new JobError("FormatException", error, category), RecoveryDecision.DeadLetter("poison payload"));
        return id;
    }

    /// <summary>Fetches one job with a lease of 50 ms and lets it run out: the job is stale.</summary>
    public static async Task<string> StaleAsync(IJobQueue queue)
    {
        string id = (await queue.EnqueueAsync("{}"u8.ToArray())).JobId;
        (await queue.FetchAsync(1, TimeSpan.FromMilliseconds(50))).Should().ContainSingle().Which.Job.Id.Should().Be(id, "the queue had no other ready job");
        await Task.Delay(150);
        return id;
    }

    /// <summary>
    /// A screenshot of the page: into docs/images/ when RESILIENTQUEUE_SCREENSHOTS=1 (how docs/dashboard.md's images are
    /// made), else beside the test assembly.
    /// </summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        string folder = Environment.GetEnvironmentVariable("RESILIENTQUEUE_SCREENSHOTS") == "1"
            ? Path.Combine(RepositoryRoot, "docs", "images")
            : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        byte[] png = await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(folder, name + ".png"), FullPage = true });
        png.Should().NotBeEmpty();
    }

    private static string RepositoryRoot =>
        typeof(Jobs).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepositoryRoot").Value!;
}
