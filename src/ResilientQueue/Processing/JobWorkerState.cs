namespace ResilientQueue.Processing;

/// <summary>What the health check of one worker reads: fetch-loop liveness, the Auth stop, the last backend error.</summary>
internal sealed class JobWorkerState(string queueName, TimeProvider time, TimeSpan stallThreshold)
{
    private long _lastFetchAttemptTicks = time.GetUtcNow().UtcTicks;
    private volatile string? _abortReason;
    private volatile string? _lastBackendError;
    private volatile bool _running;
    private volatile bool _reachedBackend;

    public string QueueName { get; } = queueName;

    public TimeSpan StallThreshold { get; } = stallThreshold;

    public bool Running => _running;

    public DateTimeOffset LastFetchAttempt => new(Interlocked.Read(ref _lastFetchAttemptTicks), TimeSpan.Zero);

    public string? AbortReason => _abortReason;

    public string? LastBackendError => _lastBackendError;

    /// <summary>Whether a fetch has succeeded since the worker started: until then the backend has not answered.</summary>
    public bool ReachedBackend => _reachedBackend;

    public void Started()
    {
        Interlocked.Exchange(ref _lastFetchAttemptTicks, time.GetUtcNow().UtcTicks);
        _reachedBackend = false;
        _running = true;
    }

    public void Stopped() => _running = false;

    /// <summary>A fetch attempt completed (with or without jobs): the loop is alive and the backend answered.</summary>
    public void FetchSucceeded()
    {
        Interlocked.Exchange(ref _lastFetchAttemptTicks, time.GetUtcNow().UtcTicks);
        _lastBackendError = null;
        _reachedBackend = true;
    }

    /// <summary>A fetch attempt failed: the loop is alive, the backend is not answering.</summary>
    public void FetchFailed(string error)
    {
        Interlocked.Exchange(ref _lastFetchAttemptTicks, time.GetUtcNow().UtcTicks);
        _lastBackendError = error;
    }

    /// <summary>The fetch loop is idle by design (paused for a rate limit, or waiting for work): it is alive.</summary>
    public void Alive() => Interlocked.Exchange(ref _lastFetchAttemptTicks, time.GetUtcNow().UtcTicks);

    public void Aborted(string reason) => _abortReason = reason;

    public TimeProvider Time => time;
}
