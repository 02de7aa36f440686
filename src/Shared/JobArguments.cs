// Linked as source into every backend package so all backends reject bad input the same way.
using ResilientQueue.Recovery;

namespace ResilientQueue;

/// <summary>The argument checks every backend makes before it changes anything.</summary>
internal static class JobArguments
{
    internal const int MaxKeyLength = 256;

    internal readonly record struct NormalizedEnqueue(TimeSpan Delay, int Priority, int MaxAttempts, string? IdempotencyKey, string? CorrelationId, string? TraceParent);

    internal static NormalizedEnqueue Enqueue(string queueName, ReadOnlyMemory<byte> payload, EnqueueOptions? options, JobQueueOptions queueOptions)
    {
        if (payload.Length > queueOptions.MaxPayloadBytes)
        {
            throw new PayloadTooLargeException(queueName, payload.Length, queueOptions.MaxPayloadBytes);
        }

        if (options is null)
        {
            return new NormalizedEnqueue(TimeSpan.Zero, JobPriority.Normal, queueOptions.DefaultMaxAttempts, null, null, null);
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

        if (options.Priority is < JobPriority.Normal or > JobPriority.Highest)
        {
            throw new InvalidOptionsException("EnqueueOptions.Priority", $"must be from {JobPriority.Normal} to {JobPriority.Highest}, was {options.Priority}.");
        }

        int maxAttempts = options.MaxAttempts ?? queueOptions.DefaultMaxAttempts;
        if (maxAttempts is < 1 or > 1000)
        {
            throw new InvalidOptionsException("EnqueueOptions.MaxAttempts", $"must be from 1 to 1000, was {maxAttempts}.");
        }

        CheckText(options.IdempotencyKey, "EnqueueOptions.IdempotencyKey", MaxKeyLength);
        CheckText(options.CorrelationId, "EnqueueOptions.CorrelationId", MaxKeyLength);
        CheckText(options.TraceParent, "EnqueueOptions.TraceParent", 128);
        return new NormalizedEnqueue(delay, options.Priority, maxAttempts, options.IdempotencyKey, options.CorrelationId, options.TraceParent);
    }

    internal static void Batch<T>(IReadOnlyList<T> items, int max, string paramName)
    {
        ArgumentNullException.ThrowIfNull(items, paramName);
        if (items.Count == 0 || items.Count > max)
        {
            throw new ArgumentOutOfRangeException(paramName, items.Count, $"A batch holds 1 to {max} items.");
        }
    }

    internal static void Fetch(int maxCount, TimeSpan leaseDuration)
    {
        if (maxCount is < 1 or > JobQueueOptions.MaxBatchSize)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount), maxCount, $"A fetch takes 1 to {JobQueueOptions.MaxBatchSize} jobs.");
        }

        LeaseDuration(leaseDuration);
    }

    internal static void LeaseDuration(TimeSpan leaseDuration, string paramName = "leaseDuration")
    {
        if (leaseDuration <= TimeSpan.Zero || leaseDuration > JobQueueOptions.MaxLeaseDuration)
        {
            throw new ArgumentOutOfRangeException(paramName, leaseDuration, $"A lease lasts more than zero and at most {JobQueueOptions.MaxLeaseDuration}.");
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

    internal static void JobId(string jobId, string paramName = "jobId") => ArgumentException.ThrowIfNullOrEmpty(jobId, paramName);

    private static void CheckText(string? value, string name, int maxLength)
    {
        if (value is not null && (value.Length == 0 || value.Length > maxLength))
        {
            throw new InvalidOptionsException(name, $"must be 1 to {maxLength} characters when set, was {value.Length}.");
        }
    }
}
