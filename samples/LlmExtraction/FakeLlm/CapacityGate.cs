namespace LlmExtraction.FakeLlm;

/// <summary>
/// The fake model's hidden capacity: at most C calls are served at once, later ones wait in FIFO order (so the
/// latency grows with the load past C), and a call that finds C calls already waiting is turned away (overload).
/// C follows a schedule it reads at every admission, so it can drop and rise while calls are running.
/// </summary>
internal sealed class CapacityGate(Func<int> capacity)
{
    private readonly Lock _lock = new();
    private readonly Queue<TaskCompletionSource> _waiting = new();
    private int _running;
    private int _waitingCount;

    /// <summary>Calls being served.</summary>
    public int Running
    {
        get { lock (_lock) { return _running; } }
    }

    /// <summary>Calls waiting for a slot.</summary>
    public int Waiting
    {
        get { lock (_lock) { return _waitingCount; } }
    }

    /// <summary>The most calls served at once so far.</summary>
    public int MaxRunning { get; private set; }

    /// <summary>A task that completes when the call may be served, or <c>null</c> when the model is overloaded.</summary>
    public Task? TryEnter(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            int c = capacity();
            if (_running < c && _waitingCount == 0)
            {
                Admit();
                return Task.CompletedTask;
            }

            if (_waitingCount >= c)
            {
                return null;
            }

            var admitted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiting.Enqueue(admitted);
            _waitingCount++;
            cancellationToken.Register(() =>
            {
                lock (_lock)
                {
                    if (admitted.TrySetCanceled(cancellationToken))
                    {
                        _waitingCount--;
                    }
                }
            });
            return admitted.Task;
        }
    }

    /// <summary>A served call is done: its slot goes to the next waiting call.</summary>
    public void Exit()
    {
        lock (_lock)
        {
            _running--;
            PumpLocked();
        }
    }

    /// <summary>Admits waiting calls while there are free slots (called when the capacity may have risen).</summary>
    public void Pump()
    {
        lock (_lock)
        {
            PumpLocked();
        }
    }

    private void PumpLocked()
    {
        int c = capacity();
        while (_running < c && _waiting.TryDequeue(out TaskCompletionSource? next))
        {
            if (next.TrySetResult())
            {
                _waitingCount--;
                Admit();
            }
        }
    }

    private void Admit()
    {
        _running++;
        MaxRunning = Math.Max(MaxRunning, _running);
    }
}
