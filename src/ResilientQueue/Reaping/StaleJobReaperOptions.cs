namespace ResilientQueue.Reaping;

/// <summary>Options of the stale-job reaper. Validated at start-up; the reaper copies them.</summary>
public sealed class StaleJobReaperOptions
{
    /// <summary>The queues to reap besides those that have a handler in this app. Default: none.</summary>
    public IList<string> Queues { get; } = [];

    /// <summary>How often each queue is reaped; one process per queue does it per interval (a turn claimed on the queue). Default: 30 seconds. From 1 second to 1 hour.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Only leases that ran out at least this long ago are taken back (a grace for slow renewals). Default: zero. From zero to 1 day.</summary>
    public TimeSpan OlderThan { get; set; } = TimeSpan.Zero;

    /// <summary>The most jobs taken back from one queue per interval (in steps of 1,000). Default: 10,000. From 1 to 1,000,000.</summary>
    public int MaxPerInterval { get; set; } = 10_000;

    /// <summary>Checks every option and throws for the first that is out of range.</summary>
    /// <exception cref="InvalidOptionsException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        foreach ((string option, string message) in Problems())
        {
            throw new InvalidOptionsException(option, message);
        }
    }

    /// <summary>Every option out of range, each with what is wrong (at start-up, DI reports them all).</summary>
    internal IEnumerable<(string Option, string Message)> Problems()
    {
        const string P = "StaleJobReaperOptions.";
        if (Interval < TimeSpan.FromSeconds(1) || Interval > TimeSpan.FromHours(1))
        {
            yield return (P + nameof(Interval), $"must be from 1 second to 1 hour, was {Interval}.");
        }

        if (OlderThan < TimeSpan.Zero || OlderThan > TimeSpan.FromDays(1))
        {
            yield return (P + nameof(OlderThan), $"must be from zero to 1 day, was {OlderThan}.");
        }

        if (MaxPerInterval is < 1 or > 1_000_000)
        {
            yield return (P + nameof(MaxPerInterval), $"must be from 1 to 1000000, was {MaxPerInterval}.");
        }

        foreach (string queue in Queues)
        {
            if (!QueueNames.IsValid(queue))
            {
                yield return (P + nameof(Queues), $"'{queue}' is not a valid queue name: 1 to {QueueNames.MaxLength} ASCII letters, digits or - _ . : #.");
            }
        }
    }
}
