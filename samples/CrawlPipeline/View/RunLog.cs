using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CrawlPipeline.View;

/// <summary>
/// The run's log, shown by the view: the library's events (skips, pauses, retries, dead letters, the auth stop, the
/// reaper) and the pipeline's own. The live view shows the last lines under its table; plain output prints each line.
/// </summary>
public sealed class RunLog : ILoggerProvider
{
    private const int Kept = 10;
    private readonly ConcurrentQueue<string> _recent = new();
    private readonly Lock _gate = new();
    private readonly TextWriter? _writer;
    private readonly Func<TimeSpan> _elapsed;

    /// <summary>Creates the log.</summary>
    /// <param name="writer">Where each line is printed at once (plain output), or <see langword="null"/> to only keep the last ones (live view).</param>
    /// <param name="elapsed">The run's clock, for the lines' time stamps.</param>
    public RunLog(TextWriter? writer, Func<TimeSpan> elapsed)
    {
        _writer = writer;
        _elapsed = elapsed;
    }

    /// <summary>The last lines, oldest first.</summary>
    public IReadOnlyList<string> Recent => [.. _recent];

    /// <summary>Every line's count by event id, for the summary (e.g. 2009 skips, 3001 reaped).</summary>
    public ConcurrentDictionary<int, int> EventCounts { get; } = new();

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private void Write(LogLevel level, EventId id, string message)
    {
        EventCounts.AddOrUpdate(id.Id, 1, (_, n) => n + 1);
        string line = $"{_elapsed().TotalSeconds,6:0.0}s {Level(level)} {message}";
        _recent.Enqueue(line);
        while (_recent.Count > Kept && _recent.TryDequeue(out _))
        {
        }

        if (_writer is not null)
        {
            lock (_gate)
            {
                _writer.WriteLine(line);
            }
        }
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Critical => "crit",
        LogLevel.Error => "fail",
        LogLevel.Warning => "warn",
        _ => "info",
    };

    private sealed class Logger(RunLog log, string category) : ILogger
    {
        // The library's and the sample's events; not the health-check service's (it logs every poll of the stopped
        // worker as an error; the view shows the worker's health instead).
        private readonly LogLevel _minimum = category.StartsWith("ResilientQueue", StringComparison.Ordinal) || category.StartsWith("CrawlPipeline", StringComparison.Ordinal)
            ? LogLevel.Information
            : category.StartsWith("Microsoft.Extensions.Diagnostics.HealthChecks", StringComparison.Ordinal) ? LogLevel.None : LogLevel.Warning;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= _minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log.Write(logLevel, eventId, formatter(state, exception)); // the message names the error; no stack traces in the view
            }
        }
    }
}
