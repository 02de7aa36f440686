using ResilientQueue.Leases;
using ResilientQueue.Recovery;
using ResilientQueue.Transitions;

namespace ResilientQueue.Backends;

/// <summary>The argument checks <see cref="JobQueueBase"/> makes before any backend changes anything, so every backend rejects bad input the same way.</summary>
internal static class JobArguments
{
    internal const int MaxKeyLength = 256;

    /// <summary>Every backend stores times as whole Unix milliseconds; this truncates a clock reading to that.</summary>
    internal static DateTimeOffset Now(TimeProvider time) => DateTimeOffset.FromUnixTimeMilliseconds(time.GetUtcNow().ToUnixTimeMilliseconds());

    /// <summary>A duration in whole milliseconds, rounded up, so nothing becomes due or expires early.</summary>
    internal static TimeSpan CeilingToMilliseconds(TimeSpan duration)
    {
        long ms = duration.Ticks / TimeSpan.TicksPerMillisecond;
        if (duration.Ticks % TimeSpan.TicksPerMillisecond > 0)
        {
            ms++;
        }

        return TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>Checks one enqueue and makes the job to store: a new id, the payload copied (the caller may reuse its buffer), the delay in whole milliseconds.</summary>
    internal static NewJob Enqueue(string queueName, ReadOnlyMemory<byte> payload, EnqueueOptions? options, JobQueueOptions queueOptions, DateTimeOffset now)
    {
        if (payload.Length > queueOptions.MaxPayloadBytes)
        {
            throw new PayloadTooLargeException(queueName, payload.Length, queueOptions.MaxPayloadBytes);
        }

        string id = Guid.CreateVersion7(now).ToString("N");
        if (options is null)
        {
            return new NewJob(id, payload.ToArray(), JobPriority.Lowest, queueOptions.DefaultMaxAttempts, now, now, null, null, null);
        }

        TimeSpan delay = options.Delay ?? TimeSpan.Zero;
        if (delay < TimeSpan.Zero)
        {
            throw new InvalidOptionsException("EnqueueOptions.Delay", $"cannot be negative, was {delay}.");
        }

        if (delay > TimeSpan.FromDays(3650))
        {
            throw new InvalidOptionsException("EnqueueOptions.Delay", $"must be at most 3650 days, was {delay}.");
        }

        if (options.Priority is < JobPriority.Lowest or > JobPriority.Highest)
        {
            throw new InvalidOptionsException("EnqueueOptions.Priority", $"must be from {JobPriority.Lowest} to {JobPriority.Highest}, was {options.Priority}.");
        }

        int maxAttempts = options.MaxAttempts ?? queueOptions.DefaultMaxAttempts;
        if (maxAttempts is < 1 or > 1000)
        {
            throw new InvalidOptionsException("EnqueueOptions.MaxAttempts", $"must be from 1 to 1000, was {maxAttempts}.");
        }

        CheckText(options.IdempotencyKey, "EnqueueOptions.IdempotencyKey", MaxKeyLength);
        CheckText(options.CorrelationId, "EnqueueOptions.CorrelationId", MaxKeyLength);
        CheckText(options.TraceParent, "EnqueueOptions.TraceParent", 128);
        FullPolicy(options, queueOptions);
        return new NewJob(id, payload.ToArray(), options.Priority, maxAttempts, now, now + CeilingToMilliseconds(delay), options.IdempotencyKey, options.CorrelationId, options.TraceParent);
    }

    /// <summary>What an enqueue does at capacity: the call's <see cref="EnqueueOptions"/> over the queue's, checked.</summary>
    internal static (Backpressure.QueueFullMode Mode, TimeSpan Timeout) FullPolicy(EnqueueOptions? options, JobQueueOptions queueOptions)
    {
        var mode = options?.FullMode ?? queueOptions.FullMode;
        if (!Enum.IsDefined(mode))
        {
            throw new InvalidOptionsException("EnqueueOptions.FullMode", $"must be Reject or Wait, was {(int)mode}.");
        }

        TimeSpan timeout = options?.FullWaitTimeout ?? queueOptions.FullWaitTimeout;
        if (timeout < TimeSpan.FromMilliseconds(1) || timeout > TimeSpan.FromHours(1))
        {
            throw new InvalidOptionsException("EnqueueOptions.FullWaitTimeout", $"must be from 1 ms to 1 hour, was {timeout}.");
        }

        return (mode, timeout);
    }

    /// <summary>Checks and normalizes a batch enqueue: every job is checked before anything is added.</summary>
    internal static NewJob[] EnqueueMany(string queueName, IReadOnlyList<JobSubmission> jobs, JobQueueOptions queueOptions, DateTimeOffset now)
    {
        Batch(jobs, JobQueueOptions.MaxEnqueueBatchSize, nameof(jobs));
        var normalized = new NewJob[jobs.Count];
        for (int i = 0; i < jobs.Count; i++)
        {
            normalized[i] = Enqueue(queueName, jobs[i].Payload, jobs[i].Options, queueOptions, now);
        }

        return normalized;
    }

    /// <summary>Checks a batch of leases (for a batch ack, renew or release).</summary>
    internal static void Leases(IReadOnlyList<JobLease> leases)
    {
        Batch(leases, JobQueueOptions.MaxBatchSize, nameof(leases));
        foreach (JobLease lease in leases)
        {
            Lease(lease, nameof(leases));
        }
    }

    /// <summary>Checks a batch of failures (for a batch fail).</summary>
    internal static void Failures(IReadOnlyList<JobFailure> failures)
    {
        Batch(failures, JobQueueOptions.MaxBatchSize, nameof(failures));
        foreach (JobFailure failure in failures)
        {
            Lease(failure.Lease, nameof(failures));
            Error(failure.Error, nameof(failures));
            Decision(failure.Decision, nameof(failures));
        }
    }

    /// <summary>Checks a dead-letter listing query; <see langword="null"/> means the defaults.</summary>
    internal static DeadLetter.DeadLetterQuery DeadLetterQuery(DeadLetter.DeadLetterQuery? query)
    {
        query ??= new DeadLetter.DeadLetterQuery();
        if (query.Limit is < 1 or > DeadLetter.DeadLetterQuery.MaxLimit)
        {
            throw new InvalidOptionsException("DeadLetterQuery.Limit", $"must be from 1 to {DeadLetter.DeadLetterQuery.MaxLimit}, was {query.Limit}.");
        }

        if (query.OlderThan < TimeSpan.Zero)
        {
            throw new InvalidOptionsException("DeadLetterQuery.OlderThan", $"cannot be negative, was {query.OlderThan}.");
        }

        return query;
    }

    internal static void Batch<T>(IReadOnlyList<T> items, int max, string paramName)
    {
        ArgumentNullException.ThrowIfNull(items, paramName);
        if (items.Count == 0 || items.Count > max)
        {
            throw new ArgumentOutOfRangeException(paramName, items.Count, $"A batch holds 1 to {max} items.");
        }
    }

    /// <summary>Checks a fetch and returns the lease duration in whole milliseconds, rounded up.</summary>
    internal static TimeSpan Fetch(int maxCount, TimeSpan leaseDuration)
    {
        if (maxCount is < 1 or > JobQueueOptions.MaxBatchSize)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, $"A fetch takes 1 to {JobQueueOptions.MaxBatchSize} jobs.");
        }

        return LeaseDuration(leaseDuration);
    }

    /// <summary>Checks a lease duration and returns it in whole milliseconds, rounded up.</summary>
    internal static TimeSpan LeaseDuration(TimeSpan leaseDuration, string paramName = "leaseDuration")
    {
        if (leaseDuration <= TimeSpan.Zero || leaseDuration > JobQueueOptions.MaxLeaseDuration)
        {
            throw new ArgumentOutOfRangeException(paramName, leaseDuration, $"A lease lasts more than zero and at most {JobQueueOptions.MaxLeaseDuration}.");
        }

        return CeilingToMilliseconds(leaseDuration);
    }

    internal static void MaxWait(TimeSpan maxWait)
    {
        if (maxWait < TimeSpan.Zero || maxWait > JobQueueOptions.MaxWait)
        {
            throw new ArgumentOutOfRangeException(nameof(maxWait), maxWait, $"A wait lasts from zero to {JobQueueOptions.MaxWait}.");
        }
    }

    internal static void Reap(int maxCount, TimeSpan olderThan)
    {
        if (maxCount is < 1 or > JobQueueOptions.MaxBatchSize)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, $"A reap takes 1 to {JobQueueOptions.MaxBatchSize} jobs.");
        }

        if (olderThan < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(olderThan), olderThan, "The age of an expired lease cannot be negative.");
        }
    }

    internal static void Error(Errors.JobError error, string paramName = "error")
    {
        if (error.TypeName is null)
        {
            throw new ArgumentException("The error is empty; create it with new JobError(...) or JobError.FromException.", paramName);
        }
    }

    internal static void Lease(JobLease lease, string paramName = "lease")
    {
        if (string.IsNullOrEmpty(lease.JobId) || string.IsNullOrEmpty(lease.Token))
        {
            throw new ArgumentException("The lease has no job id or token; use the lease a fetch returned.", paramName);
        }
    }

    internal static void Decision(RecoveryDecision decision, string paramName = "decision")
    {
        if (!Enum.IsDefined(decision.Action))
        {
            throw new ArgumentException($"Unknown recovery action {(int)decision.Action}; create decisions with the RecoveryDecision factories.", paramName);
        }
    }

    /// <summary>Checks a maintenance turn and returns its duration in whole milliseconds, rounded up.</summary>
    internal static TimeSpan Turn(string name, string holder, TimeSpan turn)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(holder);
        if (name.Length > 64 || name.Any(c => !char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_')))
        {
            throw new ArgumentException($"A turn name has 1 to 64 ASCII letters, digits, '-' or '_'; '{name}' does not.", nameof(name));
        }

        if (turn <= TimeSpan.Zero || turn > TimeSpan.FromDays(1))
        {
            throw new ArgumentOutOfRangeException(nameof(turn), turn, "A turn lasts more than zero and at most one day.");
        }

        return CeilingToMilliseconds(turn);
    }

    internal static void JobId(string jobId, string paramName = "jobId") => ArgumentException.ThrowIfNullOrEmpty(jobId, paramName);

    private static void CheckText(string? value, string name, int maxLength)
    {
        if (value is not null && (value.Length == 0 || value.Length > maxLength))
        {
            throw new InvalidOptionsException(name, $"must be 1 to {maxLength} characters when set, was {value.Length}.");
        }
    }
}
