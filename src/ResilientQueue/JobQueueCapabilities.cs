namespace ResilientQueue;

/// <summary>
/// Contracts a backend may not offer, each named, so that a caller can ask before relying on one
/// (<see cref="Backends.JobQueueBase.Capabilities"/>) and a backend that lacks one rejects its use with a
/// <see cref="NotSupportedException"/> naming it, before anything is stored.
/// </summary>
[Flags]
public enum JobQueueCapabilities
{
    /// <summary>None of the optional contracts.</summary>
    None = 0,

    /// <summary>
    /// Jobs enqueued with an <see cref="EnqueueOptions.Priority"/> above <see cref="JobPriority.Lowest"/> are fetched
    /// before lower ones (FIFO within a priority). Without it, only <see cref="JobPriority.Lowest"/> is accepted.
    /// </summary>
    Priorities = 1,

    /// <summary>Every contract this version knows.</summary>
    All = Priorities,
}
