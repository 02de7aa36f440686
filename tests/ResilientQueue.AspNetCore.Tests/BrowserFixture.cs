using Microsoft.Playwright;

namespace ResilientQueue.AspNetCore.Tests;

/// <summary>
/// One Chromium for the browser tests (Debian's <c>/usr/bin/chromium</c>, or <c>RESILIENTQUEUE_CHROMIUM</c>; Playwright
/// downloads nothing) and the two sample hosts they drive: one that allows actions and one read-only.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public static string ChromiumPath => Environment.GetEnvironmentVariable("RESILIENTQUEUE_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public SampleServer Actions { get; private set; } = null!;

    public SampleServer ReadOnly { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"Chromium is needed for the dashboard's browser tests and was not found at {ChromiumPath}: apt-get install -y chromium (./test.sh does), or set RESILIENTQUEUE_CHROMIUM.");
        }

        Actions = await SampleServer.StartAsync();
        ReadOnly = await SampleServer.StartAsync("--read-only");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        if (Actions is not null)
        {
            await Actions.DisposeAsync();
        }

        if (ReadOnly is not null)
        {
            await ReadOnly.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
