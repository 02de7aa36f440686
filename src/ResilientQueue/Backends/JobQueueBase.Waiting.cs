namespace ResilientQueue.Backends;

public abstract partial class JobQueueBase
{
    // Completed when jobs may have become ready (or room may have appeared), then replaced. Only waiters create one,
    // so a busy queue with nobody waiting allocates nothing for them.
    private TaskCompletionSource? _jobsSignal;
    private TaskCompletionSource? _roomSignal;

    /// <inheritdoc />
    public async ValueTask<bool> WaitForJobsAsync(TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        JobArguments.MaxWait(maxWait);
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset deadline = TimeProvider.GetUtcNow() + maxWait;
        await EnsureWakeUpsCoreAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            // The signal is taken before looking, so a wake-up that comes after the look is not missed.
            Task signal = Take(ref _jobsSignal);
            QueuePeek peek = await PeekCoreAsync(cancellationToken).ConfigureAwait(false);
            DateTimeOffset now = TimeProvider.GetUtcNow();
            if (!peek.Paused && (peek.HasReady || peek.NextDueAt <= JobArguments.Now(TimeProvider)))
            {
                return true;
            }

            TimeSpan wait = deadline - now;
            if (wait <= TimeSpan.Zero)
            {
                return false;
            }

            if (!peek.Paused && peek.NextDueAt is { } due && due - now < wait)
            {
                wait = due - now;
            }

            // Wake on a signal (a job became ready or delayed, the queue resumed, a connection came back), when the next
            // delayed job falls due, or at the deadline; then look again, so a wake-up that made nothing fetchable (a
            // job delayed an hour, a paused queue) does not return true.
            await WhenSignalledAsync(signal, wait, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Tells consumers waiting in this process that jobs may be fetchable now. Backends call it from their transitions or notifications; cheap when nobody waits.</summary>
    protected void SignalJobsMayBeReady() => Interlocked.Exchange(ref _jobsSignal, null)?.TrySetResult();

    /// <summary>Tells producers waiting for room in this process that the depth may have fallen. Backends that can tell call it; the others are polled.</summary>
    protected void SignalRoomMayBeAvailable() => Interlocked.Exchange(ref _roomSignal, null)?.TrySetResult();

    /// <summary>What a consumer waiting for work needs to know, read in one step: paused, any ready, the earliest due time.</summary>
    /// <param name="cancellationToken">Cancels the step before it starts.</param>
    /// <returns>The peek.</returns>
    protected abstract ValueTask<QueuePeek> PeekCoreAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Makes sure this process hears about new work from other processes (e.g. a pub/sub subscription that calls
    /// <see cref="SignalJobsMayBeReady"/>); called before each wait. The default does nothing (a backend in one process
    /// signals from its own transitions).
    /// </summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when wake-ups are set up.</returns>
    protected virtual ValueTask EnsureWakeUpsCoreAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Waits up to <paramref name="maxWait"/> for room, or less when <see cref="SignalRoomMayBeAvailable"/> is called; the caller tries the atomic enqueue again either way.</summary>
    private Task WaitForRoomAsync(TimeSpan maxWait, CancellationToken cancellationToken) => WhenSignalledAsync(Take(ref _roomSignal), maxWait, cancellationToken);

    private async Task WhenSignalledAsync(Task signal, TimeSpan wait, CancellationToken cancellationToken)
    {
        using var delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task delay = Task.Delay(wait, TimeProvider, delayCancellation.Token);
        await Task.WhenAny(signal, delay).ConfigureAwait(false);
        await delayCancellation.CancelAsync().ConfigureAwait(false);
    }

    private static Task Take(ref TaskCompletionSource? slot)
    {
        TaskCompletionSource? current = Volatile.Read(ref slot);
        if (current is null)
        {
            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            current = Interlocked.CompareExchange(ref slot, created, null) ?? created;
        }

        return current.Task;
    }
}
