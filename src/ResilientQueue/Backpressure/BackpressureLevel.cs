namespace ResilientQueue.Backpressure;

/// <summary>How full a queue is, against its <see cref="JobQueueOptions.HighWatermark"/> and <see cref="JobQueueOptions.Capacity"/>.</summary>
public enum BackpressureLevel
{
    /// <summary>Below the high watermark: send freely.</summary>
    Normal = 0,

    /// <summary>At or above the high watermark, below capacity: enqueues still succeed, but producers should slow down.</summary>
    Elevated = 1,

    /// <summary>At capacity: enqueues are rejected (or wait, with <see cref="QueueFullMode.Wait"/>).</summary>
    Saturated = 2,
}
