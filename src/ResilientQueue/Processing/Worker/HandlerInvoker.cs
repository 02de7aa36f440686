using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResilientQueue.Leases;
using ResilientQueue.Serialization;

namespace ResilientQueue.Processing;

/// <summary>How a handler's run ended.</summary>
internal enum HandlerOutcome
{
    Completed,
    CompletedByFallback,
    Failed,
    LeaseLost,
    Shutdown,
    HandlerUnavailable,
}

/// <summary>
/// Runs one job's handler: reads the payload, creates the handler in a DI scope of its own (a handler registered as a
/// singleton is taken from <c>singletonRoot</c>, without a scope), runs it with the job's token,
/// runs its timeout fallback when the job timed out, and turns what happened into a <see cref="HandlerOutcome"/> (with
/// the exception of a failure). It writes nothing to the queue.
/// </summary>
internal sealed class HandlerInvoker<THandler, TPayload>(IJobQueue queue, IServiceScopeFactory scopes, IServiceProvider? singletonRoot, IJobSerializer serializer, JobWorkerOptions options, CancellationToken hardStop, ILogger logger)
    where THandler : class, IJobHandler<TPayload>
{
    // ValueTask: a handler that completes synchronously (the common no-I/O or cached case) costs no Task allocation.
    public async ValueTask<(HandlerOutcome Outcome, Exception? Error)> RunAsync(TrackedJob tracked, JobSlot slot, CancellationToken token)
    {
        LeasedJob job = tracked.Job;
        TPayload payload;
        try
        {
            payload = serializer.Deserialize<TPayload>(job.Job.Payload);
        }
        catch (Exception ex)
        {
            return (HandlerOutcome.Failed, ex); // a payload that cannot be read: the classifier makes it a validation failure
        }

        if (singletonRoot is not null)
        {
            // A handler registered as a singleton depends on no scoped service: no scope per job.
            return Resolve(singletonRoot, out THandler? shared, out Exception? unavailable)
                ? await InvokeAsync(tracked, slot, shared!, payload, token).ConfigureAwait(false)
                : (HandlerOutcome.HandlerUnavailable, unavailable);
        }

        AsyncServiceScope scope = scopes.CreateAsyncScope();
        try
        {
            return Resolve(scope.ServiceProvider, out THandler? handler, out Exception? unavailable)
                ? await InvokeAsync(tracked, slot, handler!, payload, token).ConfigureAwait(false)
                : (HandlerOutcome.HandlerUnavailable, unavailable);
        }
        finally
        {
            try
            {
                await scope.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                WorkerLog.ScopeDisposeFailed(logger, ex, queue.Name, job.Job.Id);
            }
        }
    }

    // The handler cannot be created (a service it needs is not registered, its constructor throws): a configuration
    // error, the same for every job, so the worker stops instead of failing each job.
    private static bool Resolve(IServiceProvider provider, out THandler? handler, out Exception? error)
    {
        try
        {
            handler = provider.GetRequiredService<THandler>();
            error = null;
            return true;
        }
        catch (Exception ex)
        {
            handler = null;
            error = ex;
            return false;
        }
    }

    private async ValueTask<(HandlerOutcome Outcome, Exception? Error)> InvokeAsync(TrackedJob tracked, JobSlot slot, THandler handler, TPayload payload, CancellationToken token)
    {
        var context = new JobContext<TPayload>(queue, tracked, payload, serializer, token);
        try
        {
            await handler.HandleAsync(context, token).ConfigureAwait(false);
            return (HandlerOutcome.Completed, null);
        }
        catch (Exception ex) when (tracked.State == TrackedJob.Lost || ex is LeaseLostException)
        {
            return (HandlerOutcome.LeaseLost, null);
        }
        catch (Exception) when (hardStop.IsCancellationRequested)
        {
            return (HandlerOutcome.Shutdown, null); // also a cancellation the handler wrapped in another exception
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested && options.JobTimeout is not null)
        {
            return await TimedOutAsync(tracked, slot, handler, payload).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            return (HandlerOutcome.Failed, ex);
        }
    }

    private async Task<(HandlerOutcome Outcome, Exception? Error)> TimedOutAsync(TrackedJob tracked, JobSlot slot, THandler handler, TPayload payload)
    {
        LeasedJob job = tracked.Job;
        var timedOut = new TimeoutException($"Job '{job.Job.Id}' ran past its {options.JobTimeout!.Value.TotalSeconds:0.###} s timeout (attempt {job.Job.Attempts}).");
        IJobTimeoutFallback<TPayload>? fallback = handler is ITimeoutFallbackSource<TPayload> source ? source.TimeoutFallback : handler as IJobTimeoutFallback<TPayload>;
        if (fallback is null)
        {
            return (HandlerOutcome.Failed, timedOut);
        }

        CancellationToken token = slot.Replace(); // not timed: lease loss and a hard stop still cancel it
        try
        {
            var fallbackContext = new JobContext<TPayload>(queue, tracked, payload, serializer, token);
            await fallback.HandleTimeoutAsync(fallbackContext, token).ConfigureAwait(false);
            return (HandlerOutcome.CompletedByFallback, null);
        }
        catch (Exception ex) when (tracked.State == TrackedJob.Lost || ex is LeaseLostException)
        {
            return (HandlerOutcome.LeaseLost, null);
        }
        catch (Exception) when (hardStop.IsCancellationRequested)
        {
            return (HandlerOutcome.Shutdown, null);
        }
        catch (Exception ex)
        {
            return (HandlerOutcome.Failed, ex);
        }
    }
}
