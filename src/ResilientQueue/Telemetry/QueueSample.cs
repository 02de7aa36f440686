namespace ResilientQueue.Telemetry;

/// <summary>What one sample of a queue found, for the gauges (seconds; <see langword="null"/> when the backend cannot tell).</summary>
/// <param name="Stale">Expired leases not yet reaped, counted up to <see cref="QueueMetricsSampler.MaxStaleCounted"/>.</param>
/// <param name="OldestReadyAge">The oldest ready job's wait; 0 when nothing is ready.</param>
/// <param name="OldestActiveAge">The longest-running active job's age; 0 when nothing is active.</param>
internal readonly record struct QueueSample(long Stale, double? OldestReadyAge, double? OldestActiveAge);
