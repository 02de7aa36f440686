using ResilientQueue;
using ResilientQueue.Backpressure;

namespace LlmExtraction.Monitoring;

/// <summary>Everything the live view shows at one moment.</summary>
internal sealed record Snapshot
{
    public required string Backend { get; init; }

    public required TimeSpan At { get; init; }

    public required QueueStatus Queue { get; init; }

    public required BackpressureSignal Backpressure { get; init; }

    public required long BackpressureWaits { get; init; }

    public required int Documents { get; init; }

    public required long DocumentsDone { get; init; }

    public required int Chunks { get; init; }

    public required int Answered { get; init; }

    public required int TimedOut { get; init; }

    public required int Failed { get; init; }

    public required long Completed { get; init; }

    public required long Limit { get; init; }

    public required long InFlight { get; init; }

    public required int Workers { get; init; }

    public required double LatencyMs { get; init; }

    public required long Retried { get; init; }

    public required IReadOnlyDictionary<string, long> RetriedByCategory { get; init; }

    public required IReadOnlyDictionary<string, long> Errors { get; init; }

    public required int Capacity { get; init; }

    public required int ModelRunning { get; init; }

    public required int ModelWaiting { get; init; }

    public required long TooManyRequests { get; init; }

    public required long Unavailable { get; init; }

    public required long Malformed { get; init; }

    public required long Stuck { get; init; }

    public required IReadOnlyList<string> Recent { get; init; }

    public required string Phase { get; init; }
}
