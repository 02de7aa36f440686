using ResilientQueue.Leases;
using ResilientQueue.Results;

namespace ResilientQueue.Processing;

internal sealed partial class OutcomeWriter
{
    /// <summary>The most result bytes one completion call carries (at least one job's): a batch of large results is split so one script call stays bounded.</summary>
    internal const int MaxCompletionBatchBytes = 8 * 1024 * 1024;

    /// <summary>
    /// Writes acknowledgements of which some carry a result handler's result: those with <see cref="IJobConsumer.CompleteManyAsync"/>
    /// (result and acknowledgement in one atomic step), split so one call carries at most <see cref="MaxCompletionBatchBytes"/>,
    /// each call tried again on its own; any without a result (none, for a queue's one handler type) with an ack.
    /// </summary>
    private async Task WriteCompletionsAsync(List<TrackedJob> jobs, CancellationToken cancellationToken)
    {
        List<TrackedJob> plain = jobs.FindAll(static j => j.Result is null);
        if (plain.Count > 0)
        {
            await WriteAcksAsync(plain, cancellationToken).ConfigureAwait(false);
        }

        var batch = new List<JobCompletion>();
        long bytes = 0;
        foreach (TrackedJob job in jobs)
        {
            if (job.Result is not { } result)
            {
                continue;
            }

            if (batch.Count > 0 && bytes + result.Length > MaxCompletionBatchBytes)
            {
                await CompleteAsync(batch, cancellationToken).ConfigureAwait(false);
                batch.Clear();
                bytes = 0;
            }

            batch.Add(new JobCompletion(job.Lease, result));
            bytes += result.Length;
        }

        await CompleteAsync(batch, cancellationToken).ConfigureAwait(false);
        foreach (TrackedJob job in jobs)
        {
            job.Finish();
        }
    }

    private async Task CompleteAsync(List<JobCompletion> batch, CancellationToken cancellationToken)
    {
        JobCompletion[] completions = [.. batch];
        IReadOnlyList<LeaseResult>? results = await WriteAsync(() => queue.CompleteManyAsync(completions, cancellationToken), completions.Length, cancellationToken).ConfigureAwait(false);
        CountAcks(results);
    }
}
