namespace ResilientQueue.Leases;

/// <summary>A job handed to a worker by a fetch, with the lease that proves the worker holds it.</summary>
public sealed class LeasedJob
{
    /// <summary>Creates a leased job.</summary>
    /// <param name="job">The job's snapshot, taken at fetch (its attempts include this fetch).</param>
    /// <param name="lease">The lease.</param>
    public LeasedJob(Job job, JobLease lease)
    {
        ArgumentNullException.ThrowIfNull(job);
        Job = job;
        Lease = lease;
    }

    /// <summary>The job's snapshot, taken at fetch.</summary>
    public Job Job { get; }

    /// <summary>The lease to present to ack, fail, renew, release or checkpoint.</summary>
    public JobLease Lease { get; }
}
