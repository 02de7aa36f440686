using System.Globalization;
using LlmExtraction.FakeLlm;
using ResilientQueue;
using ResilientQueue.DeadLetter;

namespace LlmExtraction.Pipeline;

/// <summary>One check of the run's outcome.</summary>
internal sealed record Check(string Name, bool Passed, string Detail);

/// <summary>
/// What a run must end with, from the fault plan the fake model followed: every chunk answered (nothing lost), a
/// RequestTimeout for every hung call and its answer later all the same, exactly the poison chunks dead-lettered after
/// their 3 attempts, each requeued exactly once and answered by a 4th call, the producer slowed down by backpressure,
/// and the queue and its dead-letter store empty at the end.
/// </summary>
internal static class Outcome
{
    public static IReadOnlyList<Check> Evaluate(
        IReadOnlyList<Document> corpus, FaultPlan plan, RunLedger ledger, IReadOnlyList<ReviewedDeadLetter> review,
        FakeLlmServer llm, QueueStatus end, long deadLettersAtEnd)
    {
        string[] chunks = [.. corpus.SelectMany(d => d.Chunks).Select(c => c.ChunkId)];
        IReadOnlyList<string> poison = plan.Chunks(ChunkFate.Poison);
        IReadOnlyList<string> stuck = plan.Chunks(ChunkFate.StuckOnce);
        string[] missing = [.. chunks.Where(c => !ledger.Answers.ContainsKey(c))];
        string[] failed = [.. ledger.Failed.Keys.Order(StringComparer.Ordinal)];
        string[] badFailures = [.. ledger.Failed.Where(p => p.Value.Attempts != PipelineQueue.MaxAttempts
            || !p.Value.Error.StartsWith(nameof(MalformedAnswerException) + ":", StringComparison.Ordinal)).Select(p => p.Key)];
        string[] stuckNotTimedOut = [.. stuck.Where(c => !ledger.TimedOut.ContainsKey(c))];
        string[] listed = [.. review.Select(r => r.ChunkId).Order(StringComparer.Ordinal)];
        string[] notOnce = [.. review.Where(r => r.RequeueOutcomes.Count(o => o == RequeueOutcome.Requeued) != 1).Select(r => r.ChunkId)];
        string[] notRun = [.. review.Where(r => r.Answer is null || llm.CallsFor(r.ChunkId) != FaultPlan.PoisonCalls + 1).Select(r => r.ChunkId)];
        return
        [
            new("every chunk sent", ledger.JobIds.Count == chunks.Length, N($"{ledger.JobIds.Count} of {chunks.Length} chunks enqueued")),
            new("nothing lost", missing.Length == 0 && ledger.Errors.IsEmpty,
                N($"{chunks.Length - missing.Length} of {chunks.Length} chunks answered{List(" missing", missing)}; {ledger.Errors.Count} other errors{List("", [.. ledger.Errors.Select(e => $"{e.Key}: {e.Value.GetType().Name}")])}")),
            new("dead-lettered = the poison chunks", failed.SequenceEqual(poison, StringComparer.Ordinal) && badFailures.Length == 0,
                N($"{failed.Length} dead-lettered after {PipelineQueue.MaxAttempts} attempts with {nameof(MalformedAnswerException)} (plan: {poison.Count}){List(" unexpected", badFailures)}")),
            new("RequestTimeout for each hung call", stuckNotTimedOut.Length == 0,
                N($"{ledger.TimedOut.Count} timed out (plan: {stuck.Count} hung calls){List(" not timed out", stuckNotTimedOut)}; their jobs went on: {ledger.TimedOut.Keys.Count(c => !ledger.Failed.ContainsKey(c))} answered later, {ledger.TimedOut.Keys.Count(ledger.Failed.ContainsKey)} dead-lettered later")),
            new("dead letters listed", listed.SequenceEqual(failed, StringComparer.Ordinal), N($"{listed.Length} listed, {failed.Length} reported to producers")),
            new("each requeued exactly once", notOnce.Length == 0 && review.Count == failed.Length,
                N($"{review.Count} entries, each requeued by two callers at once: {review.Count - notOnce.Length} with exactly one Requeued{List(" not", notOnce)}")),
            new("requeued jobs ran again", notRun.Length == 0,
                N($"{review.Count - notRun.Length} of {review.Count} answered by a call {FaultPlan.PoisonCalls + 1} to the model{List(" not", notRun)}")),
            new("producer slowed down", ledger.BackpressureWaits > 0 && ledger.MaxDepth >= (long)(PipelineQueue.Capacity * PipelineQueue.HighWatermark),
                N($"{ledger.BackpressureWaits} waits at the high watermark ({ledger.BackpressureWaited.TotalSeconds:0.0} s in all); depth at most {ledger.MaxDepth} of {PipelineQueue.Capacity}")),
            new("queue drained", end.Depth == 0 && deadLettersAtEnd == 0, N($"{end.Depth} ready, delayed or active; {deadLettersAtEnd} dead letters")),
        ];
    }

    private static string List(string label, IReadOnlyCollection<string> items) =>
        items.Count == 0 ? "" : $";{label}: {string.Join(", ", items.Take(5))}{(items.Count > 5 ? ", …" : "")}";

    private static string N(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
