using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using ResilientQueue.Errors;
using ResilientQueue.Processing;

namespace LlmExtraction.Pipeline;

/// <summary>The model's answer is not the JSON asked for (it stopped half-way, or misses a field).</summary>
/// <remarks>
/// Not a <see cref="JsonException"/> on purpose: the default classifier takes that for a poison payload
/// (Validation: dead-lettered at once), while a model that broke its JSON may well get it right when asked again.
/// This is <see cref="ErrorCategory.Unknown"/> (registered in <see cref="PipelineQueue"/>): retried with backoff, dead-lettered
/// after the queue's 3 attempts, and no signal of load for the adaptive limiter.
/// </remarks>
public sealed class MalformedAnswerException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>The model's client: an <see cref="HttpClient"/> on the fake model's address.</summary>
internal sealed record LlmEndpoint(HttpClient Http);

/// <summary>
/// The worker's handler: one call to the model per job, the answer as the job's result. A 429, or a 503 with
/// Retry-After, becomes a <see cref="RateLimitedException"/> (the worker pauses for the server's delay, no attempt
/// spent, and the limiter counts a drop); a malformed answer a <see cref="MalformedAnswerException"/>; a hung call is
/// cut by the worker's job timeout (a drop, retried).
/// </summary>
internal sealed class ExtractionHandler(LlmEndpoint llm, LatencyRecorder latencies) : IJobHandler<ExtractionRequest, Extraction>
{
    public async ValueTask<Extraction> HandleAsync(JobContext<ExtractionRequest> job, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        using HttpResponseMessage response = await llm.Http.PostAsJsonAsync("v1/extract", job.Payload, JsonSerializerOptions.Web, cancellationToken);
        response.EnsureSuccessStatusCodeWithRetryAfter();
        string body = await response.Content.ReadAsStringAsync(cancellationToken);
        latencies.Record(Stopwatch.GetElapsedTime(started));
        Extraction? answer;
        try
        {
            answer = JsonSerializer.Deserialize<Extraction>(body, JsonSerializerOptions.Web);
        }
        catch (JsonException ex)
        {
            throw new MalformedAnswerException($"The model's answer for {job.Payload.ChunkId} is not valid JSON ({ex.Message})", ex);
        }

        if (answer is null || answer.ChunkId != job.Payload.ChunkId || answer.Entities is null || answer.Summary is null)
        {
            throw new MalformedAnswerException($"The model's answer for {job.Payload.ChunkId} misses fields or answers another chunk.");
        }

        return answer;
    }
}

/// <summary>The latencies of the model's calls that were answered, gathered between two samples of the probe.</summary>
internal sealed class LatencyRecorder
{
    private readonly Lock _lock = new();
    private List<double> _milliseconds = [];

    public void Record(TimeSpan latency)
    {
        lock (_lock)
        {
            _milliseconds.Add(latency.TotalMilliseconds);
        }
    }

    /// <summary>The latencies since the last call, in milliseconds.</summary>
    public List<double> Drain()
    {
        lock (_lock)
        {
            List<double> drained = _milliseconds;
            _milliseconds = [];
            return drained;
        }
    }
}
