using ResilientQueue.Leases;

namespace ResilientQueue.Results;

/// <summary>One completion for <see cref="IJobConsumer.CompleteManyAsync"/>: the lease on the job and the result to store with it.</summary>
/// <param name="Lease">The lease from the fetch.</param>
/// <param name="Result">The serialized result; at most <see cref="JobResultOptions.MaxBytes"/>. It is copied.</param>
public readonly record struct JobCompletion(JobLease Lease, ReadOnlyMemory<byte> Result);
