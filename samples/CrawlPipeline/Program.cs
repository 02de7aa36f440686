// The crawl pipeline sample: `dotnet run --project samples/CrawlPipeline` (in-memory), `-- --quick` (seconds, checked),
// `-- --redis 127.0.0.1:6379` (resumable). See README.md beside this file.
using CrawlPipeline;
using Spectre.Console;

CrawlOptions options;
try
{
    options = CrawlOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"error: {ex.Message} (see --help)");
    return ExitCodes.Usage;
}

if (options.ShowHelp)
{
    Console.WriteLine(CrawlOptions.Help);
    return ExitCodes.Ok;
}

bool live = !options.Plain && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
IAnsiConsole console = live
    ? AnsiConsole.Console
    : AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No, Out = new AnsiConsoleOutput(Console.Out) });
if (!live)
{
    console.Profile.Width = 200; // redirected: no terminal to fit, and a table wider than 80 columns stays readable
}

return await new CrawlRun(options, console, live).RunAsync();
