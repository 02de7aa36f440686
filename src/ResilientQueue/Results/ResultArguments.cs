using ResilientQueue.Backends;

namespace ResilientQueue.Results;

/// <summary>The argument checks of request–reply, made before anything changes, the same for every backend.</summary>
internal static class ResultArguments
{
    /// <summary>Checks a batch of completions: its size, each lease, each result's size.</summary>
    internal static void Completions(string queueName, IReadOnlyList<JobCompletion> completions, int maxBytes)
    {
        JobArguments.Batch(completions, JobQueueOptions.MaxBatchSize, nameof(completions));
        foreach (JobCompletion completion in completions)
        {
            JobArguments.Lease(completion.Lease, nameof(completions));
            if (completion.Result.Length > maxBytes)
            {
                throw new JobResultTooLargeException(queueName, completion.Lease.JobId, completion.Result.Length, maxBytes);
            }
        }
    }

    /// <summary>Checks how long a wait for a result may last: zero (look once) to <see cref="JobQueueOptions.MaxWait"/>.</summary>
    internal static void Timeout(TimeSpan timeout, string paramName = "timeout")
    {
        if (timeout < TimeSpan.Zero || timeout > JobQueueOptions.MaxWait)
        {
            throw new ArgumentOutOfRangeException(paramName, timeout, $"A wait for a result lasts from zero to {JobQueueOptions.MaxWait}.");
        }
    }
}
