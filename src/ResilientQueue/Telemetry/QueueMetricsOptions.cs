namespace ResilientQueue.Telemetry;

/// <summary>
/// Options of the queue metrics sampler (<c>AddQueueMetrics</c>): which queues it observes and how often. Validated at
/// start-up; the sampler copies them.
/// </summary>
public sealed class QueueMetricsOptions
{
    /// <summary>
    /// The queues to observe besides those that have a handler in this app: a dashboard or exporter process that runs no
    /// worker names them here. Default: none.
    /// </summary>
    public IList<string> Queues { get; } = [];

    /// <summary>How often each observed queue is read (a few bounded reads per queue); gauges report the last read. Default: 15 seconds. From 1 second to 10 minutes.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The most active jobs whose processing age one sample records per queue. Default: 1,000. From 1 to 1,000.</summary>
    public int MaxActiveSampled { get; set; } = JobQueueOptions.MaxStepWork;

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
        const string P = "QueueMetricsOptions.";
        if (Interval < TimeSpan.FromSeconds(1) || Interval > TimeSpan.FromMinutes(10))
        {
            yield return (P + nameof(Interval), $"must be from 1 second to 10 minutes, was {Interval}.");
        }

        if (MaxActiveSampled is < 1 or > JobQueueOptions.MaxStepWork)
        {
            yield return (P + nameof(MaxActiveSampled), $"must be from 1 to {JobQueueOptions.MaxStepWork}, was {MaxActiveSampled}.");
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
