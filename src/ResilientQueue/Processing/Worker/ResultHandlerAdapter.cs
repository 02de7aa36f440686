namespace ResilientQueue.Processing;

/// <summary>
/// Lets the hosted worker run a result handler as it runs every handler: it calls the user's
/// <see cref="IJobHandler{TPayload, TResult}"/> and hands what it returns to the job's context, which serializes it,
/// checks its size and keeps it for the completion the worker writes (<see cref="OutcomeWriter"/>). Registered transient
/// by <c>AddHandler&lt;THandler, TPayload, TResult&gt;</c>, so the user's handler is resolved in the job's scope (or
/// from the root, without a scope, when the application registered it as a singleton).
/// </summary>
internal sealed class ResultHandlerAdapter<THandler, TPayload, TResult>(THandler handler) : IJobHandler<TPayload>, ITimeoutFallbackSource<TPayload>
    where THandler : class, IJobHandler<TPayload, TResult>
{
    public IJobTimeoutFallback<TPayload>? TimeoutFallback => handler switch
    {
        IJobTimeoutFallback<TPayload, TResult> withResult => new Fallback(withResult),
        IJobTimeoutFallback<TPayload> withoutResult => withoutResult, // completes the job without a result
        _ => null,
    };

    public async ValueTask HandleAsync(JobContext<TPayload> context, CancellationToken cancellationToken) =>
        context.SetResult(await handler.HandleAsync(context, cancellationToken).ConfigureAwait(false));

    private sealed class Fallback(IJobTimeoutFallback<TPayload, TResult> fallback) : IJobTimeoutFallback<TPayload>
    {
        public async ValueTask HandleTimeoutAsync(JobContext<TPayload> context, CancellationToken cancellationToken) =>
            context.SetResult(await fallback.HandleTimeoutAsync(context, cancellationToken).ConfigureAwait(false));
    }
}

/// <summary>A handler that says itself which timeout fallback it has (an adapter whose wrapped handler may have one), instead of implementing <see cref="IJobTimeoutFallback{TPayload}"/>.</summary>
internal interface ITimeoutFallbackSource<TPayload>
{
    /// <summary>The fallback, or <see langword="null"/> when there is none (the timed-out job fails).</summary>
    IJobTimeoutFallback<TPayload>? TimeoutFallback { get; }
}

/// <summary>The handler type the user registered, for messages: the wrapped handler of a <see cref="ResultHandlerAdapter{THandler, TPayload, TResult}"/>.</summary>
internal static class HandlerTypes
{
    public static Type Registered(Type handler) =>
        handler.IsGenericType && handler.GetGenericTypeDefinition() == typeof(ResultHandlerAdapter<,,>) ? handler.GetGenericArguments()[0] : handler;
}
