namespace ResilientQueue.Backpressure;

/// <summary>
/// How full a queue is, read in one step by <see cref="IJobProducer.GetBackpressureAsync"/>: a structured answer a producer
/// can act on before it sends. It is a snapshot: an enqueue checks capacity again, atomically.
/// </summary>
/// <param name="Level">The level: <see cref="BackpressureLevel.Normal"/> below the high watermark, <see cref="BackpressureLevel.Elevated"/> from it, <see cref="BackpressureLevel.Saturated"/> at capacity.</param>
/// <param name="Depth">The jobs ready, delayed or active (what <see cref="JobQueueOptions.Capacity"/> bounds).</param>
/// <param name="Capacity">The queue's capacity.</param>
/// <param name="HighWatermark">The fraction of the capacity from which the level is <see cref="BackpressureLevel.Elevated"/>.</param>
/// <param name="SuggestedRetryAfter">
/// How long a producer should wait before it sends again: zero when <see cref="BackpressureLevel.Normal"/>;
/// <see cref="JobQueueOptions.BackpressureRetryAfter"/> when saturated; in between, that delay scaled by how far the depth is
/// from the watermark towards the capacity (at least 10 ms).
/// </param>
public readonly record struct BackpressureSignal(BackpressureLevel Level, long Depth, long Capacity, double HighWatermark, TimeSpan SuggestedRetryAfter)
{
    /// <summary>Whether a producer should hold back: <see langword="true"/> when the level is not <see cref="BackpressureLevel.Normal"/>.</summary>
    public bool ShouldWait => Level != BackpressureLevel.Normal;

    /// <summary>The depth as a fraction of the capacity (1 is full; above 1 only after the capacity was lowered).</summary>
    public double Utilisation => Capacity <= 0 ? 1 : (double)Depth / Capacity;

    internal static BackpressureSignal From(long depth, JobQueueOptions options)
    {
        long capacity = options.Capacity;
        double watermark = options.HighWatermark;
        double threshold = watermark * capacity;
        if (depth >= capacity)
        {
            return new(BackpressureLevel.Saturated, depth, capacity, watermark, options.BackpressureRetryAfter);
        }

        if (depth < threshold)
        {
            return new(BackpressureLevel.Normal, depth, capacity, watermark, TimeSpan.Zero);
        }

        double past = capacity - threshold <= 0 ? 1 : (depth - threshold) / (capacity - threshold);
        var retryAfter = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(10).Ticks, (long)(options.BackpressureRetryAfter.Ticks * past)));
        return new(BackpressureLevel.Elevated, depth, capacity, watermark, retryAfter < options.BackpressureRetryAfter ? retryAfter : options.BackpressureRetryAfter);
    }
}
