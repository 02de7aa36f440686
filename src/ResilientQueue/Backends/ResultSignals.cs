namespace ResilientQueue.Backends;

/// <summary>
/// The producers of this process waiting for results of one queue, by job id: each wait registers once and takes a
/// signal before every look, and a completion notification (in-process or from the backend's pub/sub) completes the
/// signals of that job's waiters only. One slot per awaited job id, removed when its last waiter leaves, so it holds no
/// more than the waits in progress; with nobody waiting a notification costs one volatile read.
/// </summary>
internal sealed class ResultSignals
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private int _count;

    /// <summary>Whether anyone in this process waits (a cheap check before parsing a notification).</summary>
    public bool HasWaiters => Volatile.Read(ref _count) > 0;

    /// <summary>Registers a waiter of <paramref name="jobId"/>; dispose the registration when the wait ends.</summary>
    public Registration Register(string jobId)
    {
        lock (_gate)
        {
            if (!_slots.TryGetValue(jobId, out Slot? slot))
            {
                slot = new Slot();
                _slots.Add(jobId, slot);
                Volatile.Write(ref _count, _slots.Count);
            }

            slot.Waiters++;
            return new Registration(this, jobId, slot);
        }
    }

    /// <summary>Wakes the waiters of one job: its result may be stored, or it failed for good.</summary>
    public void Signal(string jobId)
    {
        if (!HasWaiters)
        {
            return;
        }

        TaskCompletionSource? signal;
        lock (_gate)
        {
            if (!_slots.TryGetValue(jobId, out Slot? slot))
            {
                return;
            }

            signal = slot.Signal;
            slot.Signal = null;
        }

        signal?.TrySetResult();
    }

    /// <summary>Wakes every waiter (a reconnect, the queue cleared): each looks again.</summary>
    public void SignalAll()
    {
        if (!HasWaiters)
        {
            return;
        }

        var signals = new List<TaskCompletionSource>();
        lock (_gate)
        {
            foreach (Slot slot in _slots.Values)
            {
                if (slot.Signal is { } signal)
                {
                    signals.Add(signal);
                    slot.Signal = null;
                }
            }
        }

        foreach (TaskCompletionSource signal in signals)
        {
            signal.TrySetResult();
        }
    }

    private Task Next(Slot slot)
    {
        lock (_gate)
        {
            slot.Signal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return slot.Signal.Task;
        }
    }

    private void Unregister(string jobId, Slot slot)
    {
        lock (_gate)
        {
            if (--slot.Waiters == 0)
            {
                _slots.Remove(jobId);
                Volatile.Write(ref _count, _slots.Count);
            }
        }
    }

    /// <summary>The waiters of one job id and the signal they wait on (created when a waiter takes it).</summary>
    internal sealed class Slot
    {
        public int Waiters;

        public TaskCompletionSource? Signal;
    }

    /// <summary>One wait's registration.</summary>
    public sealed class Registration(ResultSignals owner, string jobId, Slot slot) : IDisposable
    {
        private int _disposed;

        /// <summary>The signal to wait on after the next look: taken before looking, so a notification that comes after the look is not missed.</summary>
        public Task Next() => owner.Next(slot);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unregister(jobId, slot);
            }
        }
    }
}
