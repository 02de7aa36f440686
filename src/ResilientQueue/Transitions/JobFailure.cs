using ResilientQueue.Errors;
using ResilientQueue.Leases;
using ResilientQueue.Recovery;

namespace ResilientQueue.Transitions;

/// <summary>One failure for <see cref="IJobConsumer.FailManyAsync"/>.</summary>
/// <param name="Lease">The lease on the failed job.</param>
/// <param name="Error">The error to record.</param>
/// <param name="Decision">What to do with the job.</param>
public readonly record struct JobFailure(JobLease Lease, JobError Error, RecoveryDecision Decision);
