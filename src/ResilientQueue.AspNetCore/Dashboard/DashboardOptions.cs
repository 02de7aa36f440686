namespace ResilientQueue.AspNetCore.Dashboard;

/// <summary>Options of the web dashboard (<c>AddResilientQueueDashboard</c>). Validated at start-up; the dashboard copies them.</summary>
public sealed class DashboardOptions
{
    /// <summary>
    /// Queues to list besides those the app configures (with a handler, or observed by <c>AddQueueMetrics</c>), e.g. queues
    /// other services consume. Default: none.
    /// </summary>
    public IList<string> Queues { get; } = [];

    /// <summary>
    /// Whether the dashboard may change anything (requeue, purge, pause, resume, reap). When <see langword="false"/> (the
    /// default) it only reads: the action buttons are not shown and every action request is refused with 403.
    /// </summary>
    public bool AllowActions { get; set; }

    /// <summary>
    /// Whether requests from other machines are answered although no authorization is configured on the dashboard's
    /// endpoints (<c>RequireAuthorization</c>) and no fallback policy applies. Default: <see langword="false"/>: until
    /// authorization is configured, only loopback requests are answered and others get 403.
    /// </summary>
    public bool AllowUnauthenticatedRemoteRequests { get; set; }

    /// <summary>Entries per page of every list. Default: 50. From 1 to 500.</summary>
    public int PageSize { get; set; } = 50;

    /// <summary>The most queues listed. Default: 100. From 1 to 1,000.</summary>
    public int MaxQueues { get; set; } = 100;

    /// <summary>How many bytes of a payload the job page shows (as escaped text or hex). Default: 2,048. From 0 to 65,536.</summary>
    public int PayloadPreviewBytes { get; set; } = 2048;

    /// <summary>
    /// How often the queue page's charts are sampled (each listed queue's counts, in the background). The charts keep the
    /// last hour: at most 3,600 / interval points per queue. Default: 30 seconds. From 5 seconds to 10 minutes.
    /// </summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most entries one "requeue all matching" request moves. Default: 10,000. From 1 to 100,000.</summary>
    public int MaxBulkRequeue { get; set; } = 10_000;

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
        const string P = "DashboardOptions.";
        if (PageSize is < 1 or > 500)
        {
            yield return (P + nameof(PageSize), $"must be from 1 to 500, was {PageSize}.");
        }

        if (MaxQueues is < 1 or > 1000)
        {
            yield return (P + nameof(MaxQueues), $"must be from 1 to 1000, was {MaxQueues}.");
        }

        if (PayloadPreviewBytes is < 0 or > 65_536)
        {
            yield return (P + nameof(PayloadPreviewBytes), $"must be from 0 to 65536, was {PayloadPreviewBytes}.");
        }

        if (SampleInterval < TimeSpan.FromSeconds(5) || SampleInterval > TimeSpan.FromMinutes(10))
        {
            yield return (P + nameof(SampleInterval), $"must be from 5 seconds to 10 minutes, was {SampleInterval}.");
        }

        if (MaxBulkRequeue is < 1 or > 100_000)
        {
            yield return (P + nameof(MaxBulkRequeue), $"must be from 1 to 100000, was {MaxBulkRequeue}.");
        }

        foreach (string queue in Queues)
        {
            if (!QueueNames.IsValid(queue))
            {
                yield return (P + nameof(Queues), $"'{queue}' is not a valid queue name: 1 to {QueueNames.MaxLength} ASCII letters, digits or - _ . : #.");
            }
        }
    }

    /// <summary>A copy, so later changes to the configured instance do not reach the dashboard.</summary>
    internal DashboardOptions Copy()
    {
        var copy = new DashboardOptions
        {
            AllowActions = AllowActions,
            AllowUnauthenticatedRemoteRequests = AllowUnauthenticatedRemoteRequests,
            PageSize = PageSize,
            MaxQueues = MaxQueues,
            PayloadPreviewBytes = PayloadPreviewBytes,
            SampleInterval = SampleInterval,
            MaxBulkRequeue = MaxBulkRequeue,
        };
        foreach (string queue in Queues)
        {
            copy.Queues.Add(queue);
        }

        return copy;
    }
}
