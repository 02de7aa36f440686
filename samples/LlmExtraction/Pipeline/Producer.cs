using System.Diagnostics;
using ResilientQueue;
using ResilientQueue.Backpressure;
using ResilientQueue.Results;

namespace LlmExtraction.Pipeline;

/// <summary>
/// The extraction pipeline's producer: for each document it reads the queue's backpressure signal and, at the high
/// watermark, waits for room before it sends the document's chunks (in one batch); then it awaits each chunk's answer
/// (request–reply) for at most <see cref="Scale.RequestTimeout"/>, while it goes on with the next document. At most
/// <see cref="Scale.DocumentParallelism"/> documents are awaited at once.
/// </summary>
internal sealed class Producer(IJobQueue queue, Scale scale, RunLedger ledger, string run)
{
    public async Task RunAsync(IReadOnlyList<Document> corpus, CancellationToken cancellationToken)
    {
        using var slots = new SemaphoreSlim(scale.DocumentParallelism);
        var documents = new List<Task>(corpus.Count);
        foreach (Document document in corpus)
        {
            await slots.WaitAsync(cancellationToken);
            await SlowDownAsync(cancellationToken);
            IReadOnlyList<string>? jobIds = await SendAsync(document, cancellationToken);
            documents.Add(Task.Run(async () =>
            {
                try
                {
                    if (jobIds is not null)
                    {
                        await Task.WhenAll(document.Chunks.Select((c, i) => AwaitAnswerAsync(c, jobIds[i], cancellationToken)));
                    }

                    ledger.DocumentDone();
                }
                finally
                {
                    slots.Release();
                }
            }, cancellationToken));
        }

        await Task.WhenAll(documents);
    }

    /// <summary>The backpressure signal: at 80 % of the capacity the producer waits until the queue is below it.</summary>
    private async Task SlowDownAsync(CancellationToken cancellationToken)
    {
        BackpressureSignal signal = await queue.GetBackpressureAsync(cancellationToken);
        ledger.Observe(signal);
        if (!signal.ShouldWait)
        {
            return;
        }

        long started = Stopwatch.GetTimestamp();
        if (ledger.BackpressureWaits == 0)
        {
            ledger.Note($"backpressure: {signal.Level} at {signal.Depth} of {signal.Capacity} ({signal.Utilisation:P0}); the producer waits for room");
        }

        BackpressureSignal room = await queue.WaitForRoomAsync(scale.RequestTimeout, cancellationToken: cancellationToken);
        ledger.Observe(room);
        ledger.BackpressureWait(Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Enqueues a document's chunks in one call (the queue waits for room if it is full); <c>null</c> if that failed.</summary>
    private async Task<IReadOnlyList<string>?> SendAsync(Document document, CancellationToken cancellationToken)
    {
        JobSubmission[] submissions = [.. document.Chunks.Select(c => new JobSubmission(
            queue.Serializer.Serialize(c), new EnqueueOptions { IdempotencyKey = $"{run}/{c.ChunkId}" }))];
        try
        {
            IReadOnlyList<EnqueueResult> enqueued = await queue.EnqueueManyAsync(submissions, cancellationToken);
            for (int i = 0; i < enqueued.Count; i++)
            {
                ledger.JobIds[document.Chunks[i].ChunkId] = enqueued[i].JobId;
            }

            return [.. enqueued.Select(e => e.JobId)];
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            foreach (ExtractionRequest chunk in document.Chunks)
            {
                ledger.Errors[chunk.ChunkId] = ex;
            }

            ledger.Note($"error sending {document.Id}: {ex.GetType().Name}: {ex.Message}");
            return null;
        }
    }

    private async Task AwaitAnswerAsync(ExtractionRequest chunk, string jobId, CancellationToken cancellationToken)
    {
        try
        {
            Extraction answer = await queue.WaitForResultAsync<Extraction>(jobId, scale.RequestTimeout, cancellationToken);
            ledger.Answers[chunk.ChunkId] = answer;
            ledger.AnsweredInTime[chunk.ChunkId] = true;
        }
        catch (JobResultTimeoutException timeout)
        {
            ledger.TimedOut[chunk.ChunkId] = timeout;
            ledger.Note($"RequestTimeout {chunk.ChunkId}: {timeout.Message}");
        }
        catch (JobFailedException failed)
        {
            ledger.Failed[chunk.ChunkId] = failed;
            ledger.Note($"dead-lettered {chunk.ChunkId} after {failed.Attempts} attempts: {failed.Error}");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            ledger.Errors[chunk.ChunkId] = ex;
            ledger.Note($"error {chunk.ChunkId}: {ex.GetType().Name}: {ex.Message}");
        }
    }
}
