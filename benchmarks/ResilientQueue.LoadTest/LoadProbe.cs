using System.Diagnostics;

namespace ResilientQueue.LoadTest;

/// <summary>
/// Counts the jobs the handlers ran and records pickup latencies (enqueue start to handler start) of the samples that
/// carry a stamp; completes <see cref="WaitAsync"/> when the target is reached. One per scenario run.
/// </summary>
internal sealed class LoadProbe
{
    private readonly long _clockStart = Stopwatch.GetTimestamp();
    private readonly double[] _latencies;
    private readonly long _target;
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _handled;

    public LoadProbe(long target, int samples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(target, 1);
        _target = target;
        _latencies = new double[samples];
    }

    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>The stamp a latency sample carries: now, in Stopwatch ticks since this probe was made (never 0).</summary>
    public long Stamp() => Math.Max(Stopwatch.GetTimestamp() - _clockStart, 1);

    /// <summary>Called by a handler at its start.</summary>
    public void OnHandled(Payload payload)
    {
        if (payload.Stamp != 0 && payload.N >= 0 && payload.N < _latencies.Length)
        {
            _latencies[payload.N] = Stopwatch.GetElapsedTime(_clockStart + payload.Stamp).TotalMilliseconds;
        }

        if (Interlocked.Increment(ref _handled) == _target)
        {
            _reached.TrySetResult();
        }
    }

    /// <summary>Completes when the handlers ran the target number of jobs.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _reached.Task.WaitAsync(cancellationToken);

    /// <summary>p50, p99 and max of the recorded latencies, in ms.</summary>
    public (double P50, double P99, double Max) Percentiles()
    {
        double[] sorted = [.. _latencies];
        Array.Sort(sorted);
        return sorted.Length == 0 ? (0, 0, 0) : (sorted[sorted.Length / 2], sorted[(int)(sorted.Length * 0.99)], sorted[^1]);
    }
}
