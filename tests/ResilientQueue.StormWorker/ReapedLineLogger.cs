using Microsoft.Extensions.Logging;

namespace ResilientQueue.StormWorker;

/// <summary>Prints the reaper's requeues (events 3001, 3004) and dead-letters (3002) as lines the test counts; nothing else.</summary>
public sealed class ReapedLineLogger : ILoggerProvider, ILogger
{
    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Id is 3001 or 3002 or 3004 && state is IReadOnlyList<KeyValuePair<string, object?>> fields)
        {
            object? jobId = fields.FirstOrDefault(f => f.Key == "JobId").Value;
            Console.WriteLine($"reaped {eventId.Id} {jobId}");
        }
    }

    public void Dispose()
    {
    }
}
