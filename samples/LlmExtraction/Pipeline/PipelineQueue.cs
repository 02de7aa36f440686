using Microsoft.Extensions.DependencyInjection;
using ResilientQueue.Backpressure;
using ResilientQueue.Concurrency;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Errors;

namespace LlmExtraction.Pipeline;

/// <summary>The queue of extraction requests: its backend, its options and its worker, in one place.</summary>
internal static class PipelineQueue
{
    /// <summary>The queue's name (the seed's stream was <c>llm:requests</c>).</summary>
    public const string Name = "llm-requests";

    /// <summary>The most requests ready, delayed or running at once (the seed's queue depth threshold).</summary>
    public const int Capacity = 500;

    /// <summary>Producers are told to slow down from here on (80 %: 400 requests).</summary>
    public const double HighWatermark = 0.8;

    /// <summary>Attempts before a request is dead-lettered.</summary>
    public const int MaxAttempts = 3;

    /// <summary>The adaptive limiter's range and start (the seed's worker: 10 initial, 5–50).</summary>
    public static AdaptiveConcurrencyLimiterOptions Limiter => new()
    {
        InitialLimit = 10,
        MinLimit = 5,
        MaxLimit = 50,
        Algorithm = ConcurrencyLimitAlgorithm.Vegas, // a queueing downstream: find its capacity, not its error cliff
    };

    /// <summary>The consumer group every process of the sample reads the stream as, on Redis.</summary>
    public const string Group = "extractors";

    /// <summary>Which backend a run uses: the in-memory queue, or Redis at <c>--redis host:port</c>.</summary>
    public static string Backend(SampleOptions options) =>
        options.Redis is null ? "in-memory" : $"a Redis stream (consumer group '{Group}') at {options.Redis}";

    /// <summary>Registers the queue, and its worker when <paramref name="worker"/> is set, calling the model at <paramref name="llm"/>.</summary>
    public static ResilientQueueBuilder AddPipelineQueue(this IServiceCollection services, SampleOptions options, Uri llm, bool worker)
    {
        ResilientQueueBuilder queues = services.AddResilientQueue();
        if (options.Redis is { } redis)
        {
            // Seed 000 ran its requests on a Redis stream: every process here (the producer and each worker) reads as the
            // one consumer group, declared, so that the producer's waits are for that group's results.
            queues.UseRedisStreams(redis, configure: s =>
            {
                s.Group = Group;
                s.Groups.Add(Group);
            });
        }

        Scale scale = options.Scale;
        queues.ConfigureQueue(Name, q =>
            {
                q.Capacity = Capacity;
                q.HighWatermark = HighWatermark;
                q.DefaultMaxAttempts = MaxAttempts;
                q.FullMode = QueueFullMode.Wait; // a producer that got past the signal waits for room instead of failing
                q.FullWaitTimeout = scale.RequestTimeout;
                q.Results.Retention = TimeSpan.FromMinutes(15); // longer than any wait, the requeue's included
                q.Results.PollInterval = TimeSpan.FromSeconds(1);
            })
            .ConfigureErrors(e => e.Add<MalformedAnswerException>(ErrorCategory.Unknown));
        if (worker)
        {
            services.AddSingleton(new LlmEndpoint(new HttpClient { BaseAddress = llm, Timeout = Timeout.InfiniteTimeSpan }));
            services.AddSingleton<LatencyRecorder>();
            queues.AddHandler<ExtractionHandler, ExtractionRequest, Extraction>(Name, w =>
            {
                w.AdaptiveConcurrency = Limiter;
                w.JobTimeout = scale.JobTimeout; // a hung call is cut here: a drop, retried
                w.Backoff = scale.Backoff;
                w.PollInterval = TimeSpan.FromMilliseconds(100);
            });
        }

        return queues;
    }
}
