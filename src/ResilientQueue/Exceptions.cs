namespace ResilientQueue;

/// <summary>The base of the exceptions this library throws for queue conditions (not for bad arguments, which are <see cref="ArgumentException"/>s).</summary>
public abstract class ResilientQueueException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened.</param>
    protected ResilientQueueException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    protected ResilientQueueException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A worker presented a lease that is no longer the job's current lease; nothing was changed.</summary>
public sealed class LeaseLostException : ResilientQueueException
{
    /// <summary>Creates the exception for a job and the stale token.</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="token">The token that was presented.</param>
    public LeaseLostException(string jobId, string token)
        : base($"The lease on job '{jobId}' (token {token}) is no longer held: the job was reaped, re-leased, completed or removed. Its outcome was not written.")
    {
        JobId = jobId;
        Token = token;
    }

    /// <summary>The job whose lease was lost.</summary>
    public string JobId { get; }

    /// <summary>The stale token that was presented.</summary>
    public string Token { get; }
}

/// <summary>An enqueue or requeue was rejected because the queue is at capacity; nothing was added.</summary>
public sealed class QueueFullException : ResilientQueueException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The queue.</param>
    /// <param name="capacity">The queue's capacity.</param>
    /// <param name="depth">The depth (ready + delayed + active) when the request was rejected.</param>
    /// <param name="requested">How many jobs the request would have added.</param>
    public QueueFullException(string queueName, long capacity, long depth, int requested)
        : base($"Queue '{queueName}' is full: {depth} of {capacity} jobs are ready, delayed or active, so {requested} more cannot be added. Nothing was enqueued.")
    {
        QueueName = queueName;
        Capacity = capacity;
        Depth = depth;
        Requested = requested;
    }

    /// <summary>The queue that is full.</summary>
    public string QueueName { get; }

    /// <summary>The queue's capacity.</summary>
    public long Capacity { get; }

    /// <summary>The depth (ready + delayed + active) when the request was rejected.</summary>
    public long Depth { get; }

    /// <summary>How many jobs the rejected request would have added.</summary>
    public int Requested { get; }
}

/// <summary>
/// An enqueue that was asked to wait for room (<see cref="Backpressure.QueueFullMode.Wait"/>), or a producer waiting for
/// the queue to drop below its high watermark, gave up after its timeout; nothing was enqueued. A
/// <see cref="TimeoutException"/>, so callers and classifiers that treat timeouts as transient do so here too.
/// </summary>
public sealed class QueueFullTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The queue.</param>
    /// <param name="waited">How long the caller waited.</param>
    /// <param name="capacity">The queue's capacity.</param>
    /// <param name="depth">The depth (ready + delayed + active) when the caller gave up.</param>
    /// <param name="what">What was waited for, e.g. <c>room for 1 job</c>.</param>
    /// <param name="innerException">The last <see cref="QueueFullException"/>, if any.</param>
    public QueueFullTimeoutException(string queueName, TimeSpan waited, long capacity, long depth, string what, Exception? innerException = null)
        : base($"Queue '{queueName}' did not have {what} within the wait timeout of {waited.TotalSeconds:0.###} s: {depth} of {capacity} jobs are ready, delayed or active. Nothing was enqueued.", innerException)
    {
        QueueName = queueName;
        Waited = waited;
        Capacity = capacity;
        Depth = depth;
    }

    /// <summary>The queue that stayed full.</summary>
    public string QueueName { get; }

    /// <summary>How long the caller waited.</summary>
    public TimeSpan Waited { get; }

    /// <summary>The queue's capacity.</summary>
    public long Capacity { get; }

    /// <summary>The depth (ready + delayed + active) when the caller gave up.</summary>
    public long Depth { get; }
}

/// <summary>No job with the given id exists in the queue (in any state).</summary>
public sealed class JobNotFoundException : ResilientQueueException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The queue that was searched.</param>
    /// <param name="jobId">The id that was not found.</param>
    public JobNotFoundException(string queueName, string jobId)
        : base($"Queue '{queueName}' has no job '{jobId}' in any state.")
    {
        QueueName = queueName;
        JobId = jobId;
    }

    /// <summary>The queue that was searched.</summary>
    public string QueueName { get; }

    /// <summary>The id that was not found.</summary>
    public string JobId { get; }
}

/// <summary>Options (of a job, a queue or a store) are invalid; the message names the option and the rule. Nothing was changed.</summary>
public sealed class InvalidOptionsException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="optionName">The option that is invalid, e.g. <c>EnqueueOptions.Delay</c>.</param>
    /// <param name="message">What is wrong with it.</param>
    public InvalidOptionsException(string optionName, string message)
        : base($"{optionName}: {message}", optionName)
    {
        OptionName = optionName;
    }

    /// <summary>The option that is invalid.</summary>
    public string OptionName { get; }
}

/// <summary>A payload is larger than <see cref="JobQueueOptions.MaxPayloadBytes"/>; nothing was enqueued.</summary>
public sealed class PayloadTooLargeException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queueName">The queue.</param>
    /// <param name="size">The payload's size in bytes.</param>
    /// <param name="limit">The configured limit in bytes.</param>
    public PayloadTooLargeException(string queueName, int size, int limit)
        : base($"The payload is {size} bytes, over the {limit}-byte limit of queue '{queueName}' (JobQueueOptions.MaxPayloadBytes). Nothing was enqueued.", "payload")
    {
        QueueName = queueName;
        Size = size;
        Limit = limit;
    }

    /// <summary>The queue.</summary>
    public string QueueName { get; }

    /// <summary>The payload's size in bytes.</summary>
    public int Size { get; }

    /// <summary>The configured limit in bytes.</summary>
    public int Limit { get; }
}
