namespace ResilientQueue.Results;

/// <summary>
/// How a queue keeps the results of its jobs (<see cref="JobQueueOptions.Results"/>) and how its producers wait for them.
/// A result is stored with the job when it completes, atomically with the acknowledgement, and kept for
/// <see cref="Retention"/> (in the queue's clock); results are bounded in size by <see cref="MaxBytes"/> and in number by
/// how many jobs complete within the retention.
/// </summary>
public sealed class JobResultOptions
{
    /// <summary>
    /// How long a result is kept after its job completed; a producer that waits longer (or looks later) finds nothing.
    /// Keep it longer than your producers' wait timeouts. Default: 1 hour. From 1 second to 30 days.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The largest result accepted, in bytes; a larger one is refused with <see cref="JobResultTooLargeException"/> (in the
    /// hosted worker the job fails with it, classified as a validation error: dead-lettered, not retried). Default: 1 MiB.
    /// From 1 byte to 256 MiB.
    /// </summary>
    public int MaxBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How often a producer waiting for a result looks at the job when no completion notification arrives: the fallback
    /// for notifications lost (a reconnect, a dropped pub/sub connection) and for jobs that end without one (completed
    /// without a result, the queue cleared). A notification wakes a waiter at once. Default: 5 seconds. From 10 ms to 1 hour.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks every option and throws for the first that is out of range.</summary>
    /// <exception cref="InvalidOptionsException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        foreach ((string option, string message) in Problems())
        {
            throw new InvalidOptionsException(option, message);
        }
    }

    /// <summary>Every option out of range, each with what is wrong.</summary>
    internal IEnumerable<(string Option, string Message)> Problems()
    {
        const string P = "JobResultOptions.";
        if (Retention < TimeSpan.FromSeconds(1) || Retention > TimeSpan.FromDays(30))
        {
            yield return (P + nameof(Retention), $"must be from 1 second to 30 days, was {Retention}.");
        }

        if (MaxBytes is < 1 or > 256 * 1024 * 1024)
        {
            yield return (P + nameof(MaxBytes), $"must be from 1 to 268435456 bytes, was {MaxBytes}.");
        }

        if (PollInterval < TimeSpan.FromMilliseconds(10) || PollInterval > TimeSpan.FromHours(1))
        {
            yield return (P + nameof(PollInterval), $"must be from 10 ms to 1 hour, was {PollInterval}.");
        }
    }

    internal JobResultOptions Copy() => (JobResultOptions)MemberwiseClone();
}
