using Microsoft.Playwright;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;

namespace ResilientQueue.AspNetCore.Tests;

/// <summary>The dashboard of the sample host in Chromium: what a user sees and can do.</summary>
[Collection(BrowserCollection.Name)]
public sealed class DashboardBrowserTests(BrowserFixture fixture) : IAsyncLifetime
{
    private IBrowserContext _context = null!;

    public async Task InitializeAsync()
    {
        await fixture.Actions.ClearAsync();
        await fixture.ReadOnly.ClearAsync();
        _context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 800 } });
    }

    public async Task DisposeAsync() => await _context.DisposeAsync();

    [Fact]
    public async Task Overview_ListsEveryQueue_WithItsCountsByState()
    {
        SampleServer server = fixture.Actions;
        IJobQueue emails = server.Queue("emails"), orders = server.Queue("orders"), reports = server.Queue("reports");
        await emails.EnqueueAsync("{}"u8.ToArray());
        await emails.EnqueueAsync("{}"u8.ToArray());
        await emails.EnqueueAsync("{}"u8.ToArray(), new EnqueueOptions { Delay = TimeSpan.FromHours(1) });
        await Jobs.StaleAsync(orders);
        await Jobs.DeadLetterAsync(orders, "total '12,50' is not a number");
        await Jobs.DeadLetterAsync(orders, "total 'abc' is not a number");
        await reports.PauseAsync();

        IPage page = await _context.NewPageAsync();
        IResponse? response = await page.GotoAsync(server.BaseUrl + "/queues");

        response!.Status.Should().Be(200);
        (await page.Locator("#queues tbody tr").AllAsync()).Select(r => r.GetAttributeAsync("data-queue").Result).Should().Equal("emails", "orders", "reports");
        (await Row(page, "emails")).Should().Contain(new Dictionary<string, string> { ["ready"] = "2", ["delayed"] = "1", ["active"] = "0", ["stale"] = "0", ["dead"] = "0", ["paused"] = "no", ["backpressure"] = "Normal" });
        (await Row(page, "orders")).Should().Contain(new Dictionary<string, string> { ["ready"] = "0", ["delayed"] = "0", ["active"] = "1", ["stale"] = "1", ["dead"] = "2", ["trimmed"] = "0", ["oldest-ready"] = "-" });
        (await Row(page, "reports")).Should().Contain(new Dictionary<string, string> { ["ready"] = "0", ["paused"] = "yes" });
        (await Row(page, "emails"))["oldest-ready"].Should().MatchRegex("^[0-9]+(ms|s)$");
        await Jobs.ScreenshotAsync(page, "dashboard-overview");
    }

    [Fact]
    public async Task DeadLetters_ShowTheEntry_AndRequeueFromTwoTabs_MovesItToReadyExactlyOnce()
    {
        SampleServer server = fixture.Actions;
        IJobQueue orders = server.Queue("orders");
        string id = await Jobs.DeadLetterAsync(orders, "total '12,50' is not a number");

        IPage list = await _context.NewPageAsync();
        await list.GotoAsync(server.BaseUrl + "/queues/q/orders/dead");
        ILocator row = list.Locator($"#dead-letters tr[data-job='{id}']");
        (await row.InnerTextAsync()).Should().Contain("Validation").And.Contain("poison payload").And.Contain("FormatException: total '12,50' is not a number");
        await Jobs.ScreenshotAsync(list, "dashboard-dead-letters");

        // Two operators open the confirmation of the same requeue, then both confirm.
        IPage tabA = await _context.NewPageAsync(), tabB = await _context.NewPageAsync();
        foreach (IPage tab in new[] { tabA, tabB })
        {
            await tab.GotoAsync(server.BaseUrl + "/queues/q/orders/dead");
            await tab.Locator($"input[type=checkbox][value='{id}']").CheckAsync();
            await tab.GetByRole(AriaRole.Button, new() { Name = "Requeue selected…" }).ClickAsync();
            (await tab.Locator("#what").InnerTextAsync()).Should().Contain($"Requeue job {id} of queue 'orders'");
        }

        await Jobs.ScreenshotAsync(tabA, "dashboard-confirm");
        await tabA.Locator("#confirm").ClickAsync();
        await tabB.Locator("#confirm").ClickAsync();

        (await tabA.Locator(".flash").InnerTextAsync()).Should().Be($"Requeued job {id}: it is ready again.");
        (await tabB.Locator(".flash.error").InnerTextAsync()).Should().Contain("was not requeued: it is no longer a dead letter");
        Job job = (await orders.GetJobAsync(id))!;
        job.State.Should().Be(JobState.Ready);
        job.Attempts.Should().Be(1, "a requeue keeps the attempt count");
        QueueStatus status = await orders.GetStatusAsync();
        (status.Ready, status.Dead).Should().Be((1, 0), "the entry moved to ready once, not twice");
        await Jobs.ScreenshotAsync(tabA, "dashboard-job");
    }

    [Fact]
    public async Task ReadOnly_HidesEveryAction_AndRefusesAForgedPost()
    {
        SampleServer server = fixture.ReadOnly;
        IJobQueue orders = server.Queue("orders");
        string id = await Jobs.DeadLetterAsync(orders, "bad total");
        IPage page = await _context.NewPageAsync();

        await page.GotoAsync(server.BaseUrl + "/queues/q/orders/dead");
        (await page.Locator($"#dead-letters tr[data-job='{id}']").CountAsync()).Should().Be(1);
        (await page.Locator("input[type=checkbox], button[name=action], form[action*='confirm'] button").CountAsync()).Should().Be(0, "read-only pages offer no action");
        (await page.Locator("header .mode").InnerTextAsync()).Should().Be("read-only");
        await page.GotoAsync(server.BaseUrl + "/queues/q/orders");
        (await page.GetByRole(AriaRole.Button, new() { Name = "Pause fetching…" }).CountAsync()).Should().Be(0);
        await Jobs.ScreenshotAsync(page, "dashboard-read-only");

        IResponse? confirm = await page.GotoAsync($"{server.BaseUrl}/queues/q/orders/confirm?action=requeue&id={id}");
        confirm!.Status.Should().Be(403);
        IAPIResponse forged = await page.APIRequest.PostAsync($"{server.BaseUrl}/queues/q/orders/actions/requeue", new() { Form = page.APIRequest.CreateFormData().Set("id", id) });
        forged.Status.Should().Be(403);
        (await forged.TextAsync()).Should().Contain("read-only");
        (await orders.GetJobAsync(id))!.State.Should().Be(JobState.Dead, "nothing was requeued");
    }

    [Fact]
    public async Task Actions_WithoutTheFormsAntiforgeryToken_AreRefused()
    {
        SampleServer server = fixture.Actions;
        IJobQueue orders = server.Queue("orders");
        string id = await Jobs.DeadLetterAsync(orders, "bad total");
        IPage page = await _context.NewPageAsync();
        await page.GotoAsync(server.BaseUrl + "/queues"); // a session that has the antiforgery cookie, but a form from elsewhere

        IAPIResponse forged = await page.APIRequest.PostAsync($"{server.BaseUrl}/queues/q/orders/actions/requeue", new() { Form = page.APIRequest.CreateFormData().Set("id", id) });

        forged.Status.Should().Be(400);
        (await orders.GetJobAsync(id))!.State.Should().Be(JobState.Dead);
    }

    [Fact]
    public async Task ErrorAndPayload_WithMarkup_AreRenderedAsText()
    {
        SampleServer server = fixture.Actions;
        const string Attack = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>";
        string id = await Jobs.DeadLetterAsync(server.Queue("orders"), Attack, ErrorCategory.Validation, payload: "</pre><b id=\"injected\">" + Attack);
        IPage page = await _context.NewPageAsync();
        var dialogs = new List<string>();
        page.Dialog += (_, d) => dialogs.Add(d.Message);

        await page.GotoAsync($"{server.BaseUrl}/queues/q/orders/jobs/{id}");

        (await page.Locator("#failures td.error").InnerTextAsync()).Should().Be("FormatException: " + Attack);
        (await page.Locator("#payload").InnerTextAsync()).Should().Be("</pre><b id=\"injected\">" + Attack);
        (await page.Locator("main img, main script, #injected").CountAsync()).Should().Be(0, "no markup from a job reaches the page");
        (await page.TitleAsync()).Should().NotBe("pwned");
        await page.GotoAsync(server.BaseUrl + "/queues/q/orders/dead");
        (await page.Locator("main img, main script").CountAsync()).Should().Be(0);
        (await page.Locator($"tr[data-job='{id}'] td.error").InnerTextAsync()).Should().StartWith("FormatException: <img src=x");
        dialogs.Should().BeEmpty();
    }

    [Fact]
    public async Task QueuePage_ChartsTheLastHour_AndReapShowsADryRunBeforeItReaps()
    {
        SampleServer server = fixture.Actions;
        IJobQueue orders = server.Queue("orders");
        string stale = await Jobs.StaleAsync(orders);
        await orders.EnqueueAsync("{}"u8.ToArray());
        var history = (Dashboard.DashboardHistory)server.Services.GetService(typeof(Dashboard.DashboardHistory))!;
        await history.SampleAsync(CancellationToken.None);
        await Task.Delay(1100);
        await history.SampleAsync(CancellationToken.None);
        IPage page = await _context.NewPageAsync();

        await page.GotoAsync(server.BaseUrl + "/queues/q/orders");
        (await page.Locator("svg polyline").CountAsync()).Should().Be(6, "four states and two throughput lines");
        (await page.Locator("[data-card='stale'] .v").InnerTextAsync()).Should().Be("1");
        (await page.Locator("[data-card='ready'] .v").InnerTextAsync()).Should().Be("1");
        await Jobs.ScreenshotAsync(page, "dashboard-queue");

        await page.GetByRole(AriaRole.Link, new() { Name = "Stale leases and reaping" }).ClickAsync();
        (await page.Locator("#preview-count").InnerTextAsync()).Should().Contain("Dry run: 1 expired leases");
        (await page.Locator("#stale tbody").InnerTextAsync()).Should().Contain(stale).And.Contain("requeue");
        (await orders.GetJobAsync(stale))!.State.Should().Be(JobState.Active, "the preview changed nothing");
        await Jobs.ScreenshotAsync(page, "dashboard-reap");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reap now…" }).ClickAsync();
        await page.Locator("#confirm").ClickAsync();

        (await page.Locator(".flash").InnerTextAsync()).Should().Be("Reaped 1 expired leases: 1 requeued, 0 dead-lettered.");
        (await orders.GetJobAsync(stale))!.State.Should().Be(JobState.Ready);
    }

    [Fact]
    public async Task PauseAndResume_AreConfirmedThenApplied()
    {
        SampleServer server = fixture.Actions;
        IPage page = await _context.NewPageAsync();
        await page.GotoAsync(server.BaseUrl + "/queues/q/emails");

        await page.GetByRole(AriaRole.Button, new() { Name = "Pause fetching…" }).ClickAsync();
        (await server.Queue("emails").GetStatusAsync()).IsPaused.Should().BeFalse("the confirmation page changes nothing");
        await page.Locator("#confirm").ClickAsync();
        (await page.Locator(".flash").InnerTextAsync()).Should().Be("Queue 'emails' is paused.");
        (await server.Queue("emails").GetStatusAsync()).IsPaused.Should().BeTrue();

        await page.GetByRole(AriaRole.Button, new() { Name = "Resume fetching…" }).ClickAsync();
        await page.Locator("#confirm").ClickAsync();
        (await server.Queue("emails").GetStatusAsync()).IsPaused.Should().BeFalse();
    }

    [Fact]
    public async Task Pages_WorkWithoutJavaScript()
    {
        SampleServer server = fixture.Actions;
        string id = await Jobs.DeadLetterAsync(server.Queue("orders"), "bad total");
        await using IBrowserContext noScript = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        IPage page = await noScript.NewPageAsync();

        await page.GotoAsync($"{server.BaseUrl}/queues/q/orders/jobs/{id}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Requeue…" }).ClickAsync();
        await page.Locator("#confirm").ClickAsync();

        (await page.Locator(".flash").InnerTextAsync()).Should().Be($"Requeued job {id}: it is ready again.");
        (await page.Locator("link[rel=stylesheet]").GetAttributeAsync("href")).Should().Be("/queues/assets/dashboard.css", "the stylesheet is served by the dashboard itself");
    }

    private static async Task<Dictionary<string, string>> Row(IPage page, string queue)
    {
        var cells = new Dictionary<string, string>();
        foreach (ILocator cell in await page.Locator($"#queues tr[data-queue='{queue}'] td[data-col]").AllAsync())
        {
            cells[(await cell.GetAttributeAsync("data-col"))!] = (await cell.InnerTextAsync()).Trim();
        }

        return cells;
    }
}
