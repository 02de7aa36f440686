using ResilientQueue.Results;

namespace ResilientQueue.InMemory;

public sealed partial class InMemoryJobQueue
{
    // Results by job id, and their expiry times in completion order (every result of the queue is kept equally long, so
    // that order is the expiry order): expired results are dropped at the next completion.
    private readonly Dictionary<string, JobResult> _results = new(StringComparer.Ordinal);
    private readonly Queue<(string JobId, long ExpiresTicks)> _resultExpiry = new();

    /// <inheritdoc />
    protected override ValueTask<IReadOnlyList<bool>> CompleteCoreAsync(IReadOnlyList<JobCompletion> completions, DateTimeOffset now, DateTimeOffset resultExpiresAt, CancellationToken cancellationToken)
    {
        var applied = new bool[completions.Count];
        lock (_gate)
        {
            PruneResults(now.UtcTicks);
            for (int i = 0; i < applied.Length; i++)
            {
                if (TryGetLeased(completions[i].Lease, out Entry? entry))
                {
                    applied[i] = true;
                    LeaveActive(entry);
                    Complete(entry);
                    _results[entry.Id] = new JobResult { JobId = entry.Id, Queue = Name, Value = completions[i].Result.ToArray(), CompletedAt = now, ExpiresAt = resultExpiresAt };
                    _resultExpiry.Enqueue((entry.Id, resultExpiresAt.UtcTicks));
                }
            }
        }

        return ValueTask.FromResult<IReadOnlyList<bool>>(applied);
    }

    /// <inheritdoc />
    protected override ValueTask<JobResult?> GetResultCoreAsync(string jobId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_results.GetValueOrDefault(jobId));
        }
    }

    /// <summary>Drops every result (the last step of a clear); under the lock.</summary>
    private void ClearResults()
    {
        _results.Clear();
        _resultExpiry.Clear();
    }

    private void PruneResults(long nowTicks)
    {
        while (_resultExpiry.TryPeek(out var head) && head.ExpiresTicks <= nowTicks)
        {
            _resultExpiry.Dequeue();
            if (_results.TryGetValue(head.JobId, out JobResult? kept) && kept.ExpiresAt.UtcTicks == head.ExpiresTicks)
            {
                _results.Remove(head.JobId);
            }
        }
    }
}
