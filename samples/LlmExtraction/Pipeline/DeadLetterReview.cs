using ResilientQueue;
using ResilientQueue.DeadLetter;
using ResilientQueue.Results;

namespace LlmExtraction.Pipeline;

/// <summary>One dead letter as listed, and what its requeue did.</summary>
internal sealed record ReviewedDeadLetter(string JobId, string ChunkId, int Attempts, string Category, string Reason, string? LastError)
{
    /// <summary>What each of the two concurrent requeues of this entry got (exactly one <see cref="RequeueOutcome.Requeued"/>).</summary>
    public IReadOnlyList<RequeueOutcome> RequeueOutcomes { get; init; } = [];

    /// <summary>The answer of the run after the requeue, when it came.</summary>
    public Extraction? Answer { get; init; }

    public string? AnswerError { get; init; }
}

/// <summary>
/// Seed 003's dead-letter review, done right: list the dead letters (paged), requeue each (an atomic step: here two
/// operators press "retry" at once, and exactly one of them requeues it), and wait for the requeued job's answer, so
/// that "retry" really runs the request again rather than popping it.
/// </summary>
internal sealed class DeadLetterReview(IJobQueue queue, Scale scale)
{
    public async Task<IReadOnlyList<ReviewedDeadLetter>> ListAsync(CancellationToken cancellationToken)
    {
        var listed = new List<ReviewedDeadLetter>();
        string? cursor = null;
        do
        {
            DeadLetterPage page = await queue.DeadLetters.ListAsync(new DeadLetterQuery { Limit = 100, Cursor = cursor }, cancellationToken);
            foreach (DeadLetterEntry entry in page.Entries)
            {
                ExtractionRequest request = entry.Job.GetPayload<ExtractionRequest>(queue.Serializer);
                listed.Add(new ReviewedDeadLetter(entry.Job.Id, request.ChunkId, entry.Job.Attempts, entry.Category.ToString(), entry.Reason, entry.Job.LastError));
            }

            cursor = page.NextCursor;
        }
        while (cursor is not null);

        return listed;
    }

    public async Task<IReadOnlyList<ReviewedDeadLetter>> RequeueAndWaitAsync(IReadOnlyList<ReviewedDeadLetter> listed, CancellationToken cancellationToken)
    {
        var requeued = new List<ReviewedDeadLetter>(listed.Count);
        foreach (ReviewedDeadLetter entry in listed)
        {
            RequeueResult[] both = await Task.WhenAll(
                queue.DeadLetters.RequeueAsync(entry.JobId, resetAttempts: true, cancellationToken).AsTask(),
                queue.DeadLetters.RequeueAsync(entry.JobId, resetAttempts: true, cancellationToken).AsTask());
            requeued.Add(entry with { RequeueOutcomes = [.. both.Select(r => r.Outcome)] });
        }

        // The requeued jobs run again; their producers' answers come as for any request (with their attempts given back).
        ReviewedDeadLetter[] answered = await Task.WhenAll(requeued.Select(async entry =>
        {
            try
            {
                Extraction answer = await queue.WaitForResultAsync<Extraction>(entry.JobId, scale.RequestTimeout, cancellationToken);
                return entry with { Answer = answer };
            }
            catch (Exception ex) when (ex is JobFailedException or JobResultTimeoutException or JobResultNotFoundException)
            {
                return entry with { AnswerError = $"{ex.GetType().Name}: {ex.Message}" };
            }
        }));
        return answered;
    }
}
