namespace ResilientQueue;

/// <summary>
/// How long a queue's jobs have waited and run, read in one bounded step (<see cref="IJobQueueAdmin.GetAgesAsync"/>):
/// for the oldest-age gauges, the processing-age histogram and dashboards.
/// </summary>
/// <param name="OldestReadySince">
/// Since when the ready job that has waited longest has been available (its <see cref="Job.AvailableAt"/>), looking at
/// the next job of each priority; <see langword="null"/> when nothing is ready.
/// </param>
/// <param name="ActiveSince">
/// When each active job's current attempt was fetched, for at most the <c>maxActive</c> active jobs asked for, those
/// whose lease runs out first; empty when nothing is active.
/// </param>
/// <param name="ActiveCapped"><see langword="true"/> when more jobs are active than <paramref name="ActiveSince"/> holds.</param>
public sealed record QueueAges(DateTimeOffset? OldestReadySince, IReadOnlyList<DateTimeOffset> ActiveSince, bool ActiveCapped)
{
    /// <summary>The earliest of <see cref="ActiveSince"/>: when the longest-running job of the sample was fetched; <see langword="null"/> when none is active.</summary>
    public DateTimeOffset? OldestActiveSince => ActiveSince.Count == 0 ? null : ActiveSince.Min();
}
