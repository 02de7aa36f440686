using System.Collections.Concurrent;
using ResilientQueue.Processing;

namespace ResilientQueue.Conformance.Processing;

/// <summary>The payload of the worker tests.</summary>
public sealed record Msg(string Text);

/// <summary>What the worker tests' handlers do and saw: the test sets <see cref="Behaviour"/>, the handler records every call.</summary>
public sealed class WorkerProbe
{
    private int _running;
    private int _maxRunning;
    private bool _failHandlerConstruction;

    public Func<JobContext<Msg>, CancellationToken, ValueTask> Behaviour { get; set; } = (_, _) => ValueTask.CompletedTask;

    public Func<JobContext<Msg>, CancellationToken, ValueTask>? Fallback { get; set; }

    /// <summary>Makes <see cref="SometimesThrowingConstructorHandler"/>'s constructor throw.</summary>
    public bool FailHandlerConstruction
    {
        get => Volatile.Read(ref _failHandlerConstruction);
        set => Volatile.Write(ref _failHandlerConstruction, value);
    }

    public ConcurrentQueue<(string JobId, string Text, int Attempt, DateTimeOffset StartedAt)> Calls { get; } = new();

    public ConcurrentQueue<string> Completed { get; } = new();

    public ConcurrentQueue<string> Cancelled { get; } = new();

    public ConcurrentQueue<string> FallbackCalls { get; } = new();

    public int MaxRunning => Volatile.Read(ref _maxRunning);

    internal async ValueTask RunAsync(JobContext<Msg> context, CancellationToken cancellationToken)
    {
        Calls.Enqueue((context.JobId, context.Payload.Text, context.Attempt, DateTimeOffset.UtcNow));
        int running = Interlocked.Increment(ref _running);
        int max;
        while (running > (max = Volatile.Read(ref _maxRunning)) && Interlocked.CompareExchange(ref _maxRunning, running, max) != max)
        {
        }

        try
        {
            await Behaviour(context, cancellationToken);
            Completed.Enqueue(context.JobId);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Cancelled.Enqueue(context.JobId);
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }
}

/// <summary>A handler that does what the probe says.</summary>
public sealed class ProbeHandler(WorkerProbe probe) : IJobHandler<Msg>
{
    public ValueTask HandleAsync(JobContext<Msg> context, CancellationToken cancellationToken) => probe.RunAsync(context, cancellationToken);
}

/// <summary>A handler with a timeout fallback that does what the probe says.</summary>
public sealed class FallbackProbeHandler(WorkerProbe probe) : IJobHandler<Msg>, IJobTimeoutFallback<Msg>
{
    public ValueTask HandleAsync(JobContext<Msg> context, CancellationToken cancellationToken) => probe.RunAsync(context, cancellationToken);

    public async ValueTask HandleTimeoutAsync(JobContext<Msg> context, CancellationToken cancellationToken)
    {
        probe.FallbackCalls.Enqueue(context.JobId);
        if (probe.Fallback is { } fallback)
        {
            await fallback(context, cancellationToken);
        }
    }
}
