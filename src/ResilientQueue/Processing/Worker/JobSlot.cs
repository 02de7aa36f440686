namespace ResilientQueue.Processing;

/// <summary>
/// One handler loop's reusable cancellation: the token a running job's handler gets, cancelled when the job's lease is
/// lost (<see cref="TrackedJob.MarkLost"/>), when its timeout passes (the source's own timer, on the worker's
/// <see cref="TimeProvider"/>) or when the worker stops hard. Reset for the next job when it was not cancelled, so a job
/// costs no cancellation source, linked source or timer of its own.
/// </summary>
internal sealed class JobSlot : IDisposable
{
    private readonly TimeProvider _time;
    private readonly CancellationToken _hardStop;
    private readonly object _gate = new();
    private CancellationTokenSource _source;
    private CancellationTokenRegistration _onHardStop;

    public JobSlot(TimeProvider time, CancellationToken hardStop)
    {
        _time = time;
        _hardStop = hardStop;
        _source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _onHardStop = hardStop.UnsafeRegister(static s => ((JobSlot)s!).Cancel(), this);
    }

    /// <summary>The token of the job that runs now.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>Starts a job: the token cancels after <paramref name="timeout"/> (if any).</summary>
    public CancellationToken Begin(TimeSpan? timeout)
    {
        if (timeout is { } limit)
        {
            _source.CancelAfter(limit);
        }

        return _source.Token;
    }

    /// <summary>After a job: the source is reused when it was not cancelled, or replaced.</summary>
    public void End()
    {
        lock (_gate)
        {
            if (!_source.TryReset())
            {
                _source.Dispose();
                _source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
            }
        }

        if (_hardStop.IsCancellationRequested)
        {
            Cancel(); // a hard stop that raced with the reset still cancels the next job
        }
    }

    /// <summary>
    /// A fresh, uncancelled token for the same job (its timeout fallback runs after the timeout cancelled the first);
    /// lease loss and a hard stop cancel it as before.
    /// </summary>
    public CancellationToken Replace()
    {
        lock (_gate)
        {
            _source = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time); // the old one is left to the collector: its token may still be held
        }

        if (_hardStop.IsCancellationRequested)
        {
            Cancel();
        }

        return _source.Token;
    }

    /// <summary>Cancels the running job's token.</summary>
    public void Cancel()
    {
        lock (_gate)
        {
            try
            {
                _source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Disposed with its worker.
            }
        }
    }

    public void Dispose()
    {
        _onHardStop.Dispose();
        lock (_gate)
        {
            _source.Dispose();
        }
    }
}
