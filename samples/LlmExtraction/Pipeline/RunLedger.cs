using System.Collections.Concurrent;
using ResilientQueue.Backpressure;
using ResilientQueue.Results;

namespace LlmExtraction.Pipeline;

/// <summary>What the producer saw, chunk by chunk: the answer, a wait that timed out, or a failure for good.</summary>
internal sealed class RunLedger
{
    private const int RecentEvents = 6;
    private readonly ConcurrentQueue<string> _recent = new();
    private long _backpressureWaits;
    private long _backpressureWaitTicks;
    private long _maxDepth;
    private long _documentsDone;
    private int _level;

    /// <summary>The job id of each chunk submitted.</summary>
    public ConcurrentDictionary<string, string> JobIds { get; } = new(StringComparer.Ordinal);

    /// <summary>Answers by chunk: those the producer got while it waited, and later the late and requeued ones.</summary>
    public ConcurrentDictionary<string, Extraction> Answers { get; } = new(StringComparer.Ordinal);

    /// <summary>Chunks answered while their producer waited (the first wait).</summary>
    public ConcurrentDictionary<string, bool> AnsweredInTime { get; } = new(StringComparer.Ordinal);

    /// <summary>Chunks whose producer stopped waiting: the RequestTimeout of seed 000, with the library's message.</summary>
    public ConcurrentDictionary<string, JobResultTimeoutException> TimedOut { get; } = new(StringComparer.Ordinal);

    /// <summary>Chunks that failed for good (dead-lettered), with what the producer was told.</summary>
    public ConcurrentDictionary<string, JobFailedException> Failed { get; } = new(StringComparer.Ordinal);

    /// <summary>Anything else the producer got (a queue that stayed full, a backend error): none expected.</summary>
    public ConcurrentDictionary<string, Exception> Errors { get; } = new(StringComparer.Ordinal);

    /// <summary>Every notable event in order, for the plain output and the end of the run.</summary>
    public ConcurrentQueue<string> Events { get; } = new();

    public long BackpressureWaits => Interlocked.Read(ref _backpressureWaits);

    public TimeSpan BackpressureWaited => TimeSpan.FromTicks(Interlocked.Read(ref _backpressureWaitTicks));

    public long MaxDepth => Interlocked.Read(ref _maxDepth);

    public long DocumentsDone => Interlocked.Read(ref _documentsDone);

    /// <summary>The last backpressure level the producer read.</summary>
    public BackpressureLevel Level => (BackpressureLevel)Volatile.Read(ref _level);

    public IReadOnlyList<string> Recent => [.. _recent];

    public void Observe(BackpressureSignal signal)
    {
        Volatile.Write(ref _level, (int)signal.Level);
        long depth = signal.Depth;
        long max;
        while (depth > (max = Interlocked.Read(ref _maxDepth)) && Interlocked.CompareExchange(ref _maxDepth, depth, max) != max)
        {
        }
    }

    public void BackpressureWait(TimeSpan waited)
    {
        Interlocked.Increment(ref _backpressureWaits);
        Interlocked.Add(ref _backpressureWaitTicks, waited.Ticks);
    }

    public void DocumentDone() => Interlocked.Increment(ref _documentsDone);

    public void Note(string message)
    {
        Events.Enqueue(message);
        _recent.Enqueue(message);
        while (_recent.Count > RecentEvents && _recent.TryDequeue(out _))
        {
        }
    }
}
