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
/// Runs one job's handler: reads the payload, creates the handler in a DI scope of its own, runs it with the job's token,
/// runs its timeout fallback when the job timed out, and turns what happened into a <see cref="HandlerOutcome"/> (with
/// the exception of a failure). It writes nothing to the queue.
/// </summary>
internal sealed class HandlerInvoker<THandler, TPayload>(IJobQueue queue, IServiceScopeFactory scopes, IJobSerializer serializer, JobWorkerOptions options, CancellationToken hardStop, ILogger logger)
    where THandler : class, IJobHandler<TPayload>
{
    public async Task<(HandlerOutcome Outcome, Exception? Error)> RunAsync(TrackedJob tracked, JobSlot slot, CancellationToken token)
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

        AsyncServiceScope scope = scopes.CreateAsyncScope();
        try
        {
            THandler handler;
            try
            {
                handler = scope.ServiceProvider.GetRequiredService<THandler>();
            }
            catch (Exception ex)
            {
                // The handler cannot be created (a service it needs is not registered, its constructor throws): a
                // configuration error, the same for every job, so it stops the worker instead of failing each job.
                return (HandlerOutcome.HandlerUnavailable, ex);
            }

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
