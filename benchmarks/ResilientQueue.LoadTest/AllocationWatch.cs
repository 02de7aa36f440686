namespace ResilientQueue.LoadTest;

/// <summary>
/// Bytes allocated over a window, from <see cref="GC.GetTotalAllocatedBytes"/>, with a check that the count stayed
/// monotonic. Under server GC's dynamic adaptation (DATAS, on by default since .NET 9) the .NET 10 runtime sums only the
/// heaps active at the moment, so the count drops by a heap's whole lifetime total when DATAS retires a heap and jumps
/// back when it adds one (dotnet/runtime#131069, merged for a later runtime; 10.0.12 here has it: one measured run read -10,055 B/job, and
/// about one warm-up round in five sees a heap come or go). A
/// window whose ends see different heap counts is then off by that much. The watch samples the count every
/// <see cref="SampleEvery"/>; a drop, or a rise no allocation rate reaches (a heap's frozen total coming back), makes the
/// window's figure <see langword="null"/>, reported as missing rather than wrong (a heap whose total is under the
/// limits below would pass unseen: the figure is then off by at most that). The samples use the cheap count
/// (<c>precise: false</c>); the precise one suspends the process, so only the window's ends read it.
/// </summary>
internal sealed class AllocationWatch : IAsyncDisposable
{
    /// <summary>How often the count is read.</summary>
    public static readonly TimeSpan SampleEvery = TimeSpan.FromMilliseconds(10);

    /// <summary>How far a sample (not precise) may read below the precise start: bytes in threads' allocation contexts.</summary>
    private const long DropToleranceBytes = 4_000_000;

    /// <summary>The fastest rise taken as allocation: 1 GB/s (this process allocates up to ~0.3 GB/s), and at least <see cref="MinRiseLimitBytes"/> per step.</summary>
    private const double MaxBytesPerSecond = 1e9;

    private const long MinRiseLimitBytes = 8_000_000;

    private readonly long _start = GC.GetTotalAllocatedBytes(precise: true);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private readonly object _gate = new();
    private long _last;
    private long _lastAt = System.Diagnostics.Stopwatch.GetTimestamp();
    private string? _broken;

    public AllocationWatch()
    {
        _last = _start;
        _sampling = SampleAsync();
    }

    /// <summary>Ends the window: the bytes allocated in it, or null when the count was not monotonic meanwhile.</summary>
    public async Task<long?> StopAsync()
    {
        long end = GC.GetTotalAllocatedBytes(precise: true);
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sampling.ConfigureAwait(false);
        Check(end);
        string? broken;
        lock (_gate)
        {
            broken = _broken;
        }

        if (broken is not null)
        {
            Console.Error.WriteLine($"allocated bytes: GC.GetTotalAllocatedBytes was not monotonic in this window ({broken}: a server GC heap retired or added by DATAS, dotnet/runtime#131069); reported as missing");
            return null;
        }

        return end - _start;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _sampling.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(SampleEvery);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                Check(GC.GetTotalAllocatedBytes(precise: false));
            }
        }
        catch (OperationCanceledException)
        {
            // The window ended.
        }
    }

    private void Check(long now)
    {
        lock (_gate)
        {
            long at = System.Diagnostics.Stopwatch.GetTimestamp();
            double seconds = System.Diagnostics.Stopwatch.GetElapsedTime(_lastAt, at).TotalSeconds;
            if (now < _last - DropToleranceBytes || now - _last > Math.Max(MinRiseLimitBytes, seconds * MaxBytesPerSecond))
            {
                _broken ??= $"a step of {now - _last:N0} B in {seconds * 1000:F1} ms";
            }

            _last = Math.Max(_last, now);
            _lastAt = at;
        }
    }
}
