using System.Globalization;

namespace ResilientQueue.Results;

/// <summary>
/// No result for the job arrived within the time the producer was willing to wait (the request timeout). The job itself
/// is not affected: it goes on and may still complete; wait again, or look it up later while its result is kept.
/// The default error classifier treats it as <see cref="Errors.ErrorCategory.Transient"/>.
/// </summary>
public sealed class JobResultTimeoutException : ResilientQueueException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The job's queue.</param>
    /// <param name="jobId">The job waited for.</param>
    /// <param name="waited">How long the producer waited (its timeout).</param>
    /// <param name="lastState">The job's state at the last look, or <see langword="null"/> when it was not known.</param>
    public JobResultTimeoutException(string queueName, string jobId, TimeSpan waited, JobState? lastState)
        : base(string.Create(
            CultureInfo.InvariantCulture,
            $"No result for job '{jobId}' of queue '{queueName}' within {waited.TotalSeconds:0.###} s{(lastState is { } state ? $"; the job was {state} at the last look" : string.Empty)}. The job goes on: wait again, or look its result up later."))
    {
        QueueName = queueName;
        JobId = jobId;
        Waited = waited;
        LastState = lastState;
    }

    /// <summary>The job's queue.</summary>
    public string QueueName { get; }

    /// <summary>The job waited for.</summary>
    public string JobId { get; }

    /// <summary>How long the producer waited (its timeout).</summary>
    public TimeSpan Waited { get; }

    /// <summary>The job's state at the last look (<see cref="JobState.Ready"/>, <see cref="JobState.Delayed"/> or <see cref="JobState.Active"/>), or <see langword="null"/>.</summary>
    public JobState? LastState { get; }
}
