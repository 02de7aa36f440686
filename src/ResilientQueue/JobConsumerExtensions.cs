using ResilientQueue.Backends;
using ResilientQueue.Errors;
using ResilientQueue.Leases;
using ResilientQueue.Recovery;
using ResilientQueue.Transitions;

namespace ResilientQueue;

/// <summary>The single-lease forms of <see cref="IJobConsumer"/>'s batch calls; bad arguments are named as these methods name them.</summary>
public static class JobConsumerExtensions
{
    /// <summary>Marks a leased job completed (see <see cref="IJobConsumer.AckManyAsync"/>).</summary>
    /// <param name="consumer">The queue.</param>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/> with nothing changed.</returns>
    public static async ValueTask<LeaseResult> AckAsync(this IJobConsumer consumer, JobLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        JobArguments.Lease(lease);
        return (await consumer.AckManyAsync([lease], cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>Records a failure of a leased job and applies the decision (see <see cref="IJobConsumer.FailManyAsync"/>).</summary>
    /// <param name="consumer">The queue.</param>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="error">The error; stored as <c>TypeName: message</c> with its category.</param>
    /// <param name="decision">What to do with the job.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What was applied, or <see cref="FailResult.LeaseLost"/> with nothing changed.</returns>
    public static async ValueTask<FailResult> FailAsync(this IJobConsumer consumer, JobLease lease, JobError error, RecoveryDecision decision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        JobArguments.Lease(lease);
        JobArguments.Error(error);
        JobArguments.Decision(decision);
        return (await consumer.FailManyAsync([new JobFailure(lease, error, decision)], cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>Extends a lease to <paramref name="leaseDuration"/> from now (see <see cref="IJobConsumer.RenewManyAsync"/>).</summary>
    /// <param name="consumer">The queue.</param>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="leaseDuration">The new duration from now.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/>: stop working on the job.</returns>
    public static async ValueTask<LeaseResult> RenewAsync(this IJobConsumer consumer, JobLease lease, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        JobArguments.Lease(lease);
        return (await consumer.RenewManyAsync([lease], leaseDuration, cancellationToken).ConfigureAwait(false))[0];
    }

    /// <summary>Gives a leased job back without spending an attempt (see <see cref="IJobConsumer.ReleaseManyAsync"/>).</summary>
    /// <param name="consumer">The queue.</param>
    /// <param name="lease">The lease from the fetch.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see cref="LeaseResult.Succeeded"/>, or <see cref="LeaseResult.LeaseLost"/> with nothing changed.</returns>
    public static async ValueTask<LeaseResult> ReleaseAsync(this IJobConsumer consumer, JobLease lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(consumer);
        JobArguments.Lease(lease);
        return (await consumer.ReleaseManyAsync([lease], cancellationToken).ConfigureAwait(false))[0];
    }
}
