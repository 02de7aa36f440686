using ResilientQueue.Processing;

namespace ResilientQueue.Conformance.Processing;

/// <summary>The result of the worker tests' result handlers.</summary>
public sealed record Reply(string Text, int Attempt);

/// <summary>A result handler: runs what the probe says, then answers with the payload's text upper-cased (or <see cref="WorkerProbe"/>'s <c>Answer</c>).</summary>
public sealed class UpperCaseHandler(WorkerProbe probe) : IJobHandler<Msg, Reply>
{
    public async ValueTask<Reply> HandleAsync(JobContext<Msg> context, CancellationToken cancellationToken)
    {
        await probe.RunAsync(context, cancellationToken);
        return new Reply(context.Payload.Text.ToUpperInvariant(), context.Attempt);
    }
}

/// <summary>A result handler with a timeout fallback that answers <c>fallback</c>.</summary>
public sealed class FallbackResultHandler(WorkerProbe probe) : IJobHandler<Msg, Reply>, IJobTimeoutFallback<Msg, Reply>
{
    public async ValueTask<Reply> HandleAsync(JobContext<Msg> context, CancellationToken cancellationToken)
    {
        await probe.RunAsync(context, cancellationToken);
        return new Reply("handler", context.Attempt);
    }

    public ValueTask<Reply> HandleTimeoutAsync(JobContext<Msg> context, CancellationToken cancellationToken)
    {
        probe.FallbackCalls.Enqueue(context.JobId);
        return ValueTask.FromResult(new Reply("fallback", context.Attempt));
    }
}

/// <summary>A result handler whose construction fails, as with a DI misconfiguration.</summary>
public sealed class ThrowingConstructorResultHandler : IJobHandler<Msg, Reply>
{
    public ThrowingConstructorResultHandler() => throw new InvalidOperationException("the result handler's dependencies are misconfigured");

    public ValueTask<Reply> HandleAsync(JobContext<Msg> context, CancellationToken cancellationToken) => ValueTask.FromResult(new Reply("never", 0));
}
