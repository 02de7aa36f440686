using ResilientQueue.Backpressure;

namespace ResilientQueue.AspNetCore.Dashboard;

/// <summary>One queue as the overview and the queue page show it, read live in a few bounded calls.</summary>
/// <param name="Name">The queue.</param>
/// <param name="Status">Counts by state, paused flag, dead-letter trims.</param>
/// <param name="Backpressure">The backpressure signal.</param>
/// <param name="Stale">Expired leases not yet reaped (a dry-run reap of at most <see cref="MaxStale"/>).</param>
/// <param name="Ages">The ages, or null when the backend cannot tell them.</param>
/// <param name="Error">Why the queue could not be read, or null.</param>
internal sealed record QueueView(string Name, QueueStatus Status, BackpressureSignal Backpressure, int Stale, QueueAges? Ages, string? Error)
{
    public const int MaxStale = JobQueueOptions.MaxBatchSize;

    public static async Task<QueueView> ReadAsync(IJobQueue queue, CancellationToken cancellationToken, int maxActive = 1)
    {
        try
        {
            QueueStatus status = await queue.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            BackpressureSignal backpressure = await queue.GetBackpressureAsync(cancellationToken).ConfigureAwait(false);
            IReadOnlyList<ReapedJob> stale = await queue.ReapExpiredAsync(MaxStale, dryRun: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            QueueAges? ages = await queue.GetAgesAsync(maxActive, cancellationToken).ConfigureAwait(false);
            return new QueueView(queue.Name, status, backpressure, stale.Count, ages, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new QueueView(queue.Name, default, default, 0, null, $"{ex.GetType().Name}: {ex.Message}");
        }
    }

    public string StaleText => Stale >= MaxStale ? $"{MaxStale}+" : Stale.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
