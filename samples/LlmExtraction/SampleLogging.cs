using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace LlmExtraction;

/// <summary>
/// The sample's logging: errors only, on stderr, so that they do not tear the live view. The worker's own events
/// (retries, dead letters: log events 2001–2025, see docs/telemetry.md) are what the view shows, so its logger is
/// quieter still (critical only).
/// </summary>
internal static class SampleLogging
{
    public static void Configure(ILoggingBuilder logging, IServiceCollection services)
    {
        logging.ClearProviders().AddSimpleConsole().AddFilter((category, level) =>
            level >= (category?.StartsWith("ResilientQueue.Worker", StringComparison.Ordinal) == true ? LogLevel.Critical : LogLevel.Error));
        services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    }
}
