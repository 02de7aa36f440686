using ResilientQueue.Serialization;

namespace ResilientQueue.Backpressure;

/// <summary>Producer helpers that honour a queue's backpressure signal before they send.</summary>
public static class JobQueueBackpressureExtensions
{
    private static readonly TimeSpan LongestTimeout = TimeSpan.FromHours(1);

    /// <summary>
    /// Waits until the queue is below its high watermark (<see cref="BackpressureSignal.ShouldWait"/> is
    /// <see langword="false"/>), reading the signal again after each <see cref="BackpressureSignal.SuggestedRetryAfter"/>.
    /// </summary>
    /// <param name="queue">The queue.</param>
    /// <param name="timeout">The longest wait; zero to check once. At most 1 hour.</param>
    /// <param name="timeProvider">The clock of the waits; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The signal that allowed sending (level <see cref="BackpressureLevel.Normal"/>).</returns>
    /// <exception cref="QueueFullTimeoutException">The queue stayed at or above its high watermark for <paramref name="timeout"/>.</exception>
    public static async ValueTask<BackpressureSignal> WaitForRoomAsync(this IJobQueue queue, TimeSpan timeout, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        CheckTimeout(timeout);
        TimeProvider time = timeProvider ?? TimeProvider.System;
        long started = time.GetTimestamp();
        while (true)
        {
            BackpressureSignal signal = await queue.GetBackpressureAsync(cancellationToken).ConfigureAwait(false);
            if (!signal.ShouldWait)
            {
                return signal;
            }

            TimeSpan left = timeout - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                long below = (long)Math.Ceiling(signal.HighWatermark * signal.Capacity);
                throw new QueueFullTimeoutException(queue.Name, timeout, signal.Capacity, signal.Depth, $"fewer than {below} jobs (its high watermark)");
            }

            TimeSpan pause = signal.SuggestedRetryAfter > TimeSpan.Zero ? signal.SuggestedRetryAfter : TimeSpan.FromMilliseconds(10);
            await Task.Delay(pause < left ? pause : left, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until the queue is below its high watermark (<see cref="WaitForRoomAsync"/>), then enqueues the payload,
    /// waiting for room (<see cref="QueueFullMode.Wait"/>) for whatever is left of <paramref name="timeout"/> in case other
    /// producers filled the queue in between. The capacity check stays atomic with the enqueue.
    /// </summary>
    /// <typeparam name="TPayload">The payload's type.</typeparam>
    /// <param name="queue">The queue.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="timeout">The longest the whole call may wait; zero to check once and not wait. At most 1 hour.</param>
    /// <param name="options">The job's options; <see langword="null"/> for the defaults. Its <see cref="EnqueueOptions.FullMode"/> and <see cref="EnqueueOptions.FullWaitTimeout"/> are replaced.</param>
    /// <param name="serializer">The serializer; <see langword="null"/> for <see cref="SystemTextJsonJobSerializer.Default"/>.</param>
    /// <param name="timeProvider">The clock of the waits; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="cancellationToken">Cancels the call; nothing is enqueued then.</param>
    /// <returns>The job's id, or the existing job's id when the idempotency key was known.</returns>
    /// <exception cref="QueueFullTimeoutException">The queue did not get below its high watermark, or did not have room, within <paramref name="timeout"/>; nothing was enqueued.</exception>
    public static async ValueTask<EnqueueResult> EnqueueWithBackpressureAsync<TPayload>(this IJobQueue queue, TPayload payload, TimeSpan timeout, EnqueueOptions? options = null, IJobSerializer? serializer = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        CheckTimeout(timeout);
        TimeProvider time = timeProvider ?? TimeProvider.System;
        long started = time.GetTimestamp();
        ReadOnlyMemory<byte> bytes = (serializer ?? SystemTextJsonJobSerializer.Default).Serialize(payload);
        await queue.WaitForRoomAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        TimeSpan left = timeout - time.GetElapsedTime(started);
        EnqueueOptions waiting = options?.Copy() ?? new EnqueueOptions();
        waiting.FullMode = QueueFullMode.Wait;
        waiting.FullWaitTimeout = left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1);
        return await queue.EnqueueAsync(bytes, waiting, cancellationToken).ConfigureAwait(false);
    }

    private static void CheckTimeout(TimeSpan timeout)
    {
        if (timeout < TimeSpan.Zero || timeout > LongestTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "Must be from zero to 1 hour.");
        }
    }
}
