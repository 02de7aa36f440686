using ResilientQueue.Processing;
using StackExchange.Redis;

namespace ResilientQueue.StormWorker;

/// <summary>A job of the storm: how long its handler works.</summary>
public sealed record StormJob(int Milliseconds);

/// <summary>Where the handler records starts and ends: one Redis list per queue, in the order they happened.</summary>
public sealed class StormEvents(IDatabase db, string queue)
{
    private readonly RedisKey _key = $"storm-events:{queue}";

    /// <summary>Appends "pid job-id attempt s|e".</summary>
    public Task RecordAsync(string jobId, int attempt, char what) =>
        db.ListRightPushAsync(_key, $"{Environment.ProcessId} {jobId} {attempt} {what}");
}

/// <summary>Records its start, works for the job's time, records its end (the worker acknowledges after that).</summary>
public sealed class StormHandler(StormEvents events) : IJobHandler<StormJob>
{
    public async ValueTask HandleAsync(JobContext<StormJob> context, CancellationToken cancellationToken)
    {
        await events.RecordAsync(context.JobId, context.Attempt, 's');
        await Task.Delay(context.Payload.Milliseconds, cancellationToken);
        await events.RecordAsync(context.JobId, context.Attempt, 'e');
    }
}
