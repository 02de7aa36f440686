using ResilientQueue.Backpressure;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Backends;

/// <summary>
/// Runs an enqueue whose capacity check is atomic inside the backend, and, in <see cref="QueueFullMode.Wait"/>, retries it
/// while the queue is full until it fits or the timeout passes. The wait never decides anything: every try is the
/// backend's atomic check-and-add, so waiting producers cannot overfill the queue.
/// </summary>
internal static class RoomWaiter
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestPause = TimeSpan.FromMilliseconds(250);

    /// <param name="queueName">The queue, for errors and metrics.</param>
    /// <param name="policy">Reject or wait, and for how long.</param>
    /// <param name="attempt">One atomic enqueue; throws <see cref="QueueFullException"/> when the jobs do not fit.</param>
    /// <param name="waitForRoom">Waits up to the given time, or less when room may have appeared.</param>
    /// <param name="time">The clock of the timeout.</param>
    /// <param name="cancellationToken">Cancels the wait (nothing is added then).</param>
    public static async ValueTask<T> RunAsync<T>(
        string queueName,
        (QueueFullMode Mode, TimeSpan Timeout) policy,
        Func<ValueTask<T>> attempt,
        Func<TimeSpan, CancellationToken, Task> waitForRoom,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        QueueFullException full;
        try
        {
            return await attempt().ConfigureAwait(false);
        }
        catch (QueueFullException ex)
        {
            // A request larger than the whole capacity can never fit: waiting would only delay the same answer.
            if (policy.Mode != QueueFullMode.Wait || ex.Requested > ex.Capacity)
            {
                ResilientQueueTelemetry.RecordEnqueueRejected(queueName, "full", ex.Requested);
                throw;
            }

            full = ex;
        }

        long started = time.GetTimestamp();
        TimeSpan pause = FirstPause;
        while (true)
        {
            TimeSpan left = policy.Timeout - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                ResilientQueueTelemetry.RecordEnqueueRejected(queueName, "wait_timeout", full.Requested);
                throw new QueueFullTimeoutException(queueName, policy.Timeout, full.Capacity, full.Depth, full.Requested == 1 ? "room for 1 more job" : $"room for {full.Requested} more jobs", full);
            }

            await waitForRoom(pause < left ? pause : left, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            pause = pause * 2 < LongestPause ? pause * 2 : LongestPause;
            try
            {
                return await attempt().ConfigureAwait(false);
            }
            catch (QueueFullException ex)
            {
                full = ex;
            }
        }
    }
}
