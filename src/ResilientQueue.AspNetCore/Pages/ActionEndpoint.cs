using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ResilientQueue.AspNetCore.Dashboard;
using ResilientQueue.Backpressure;
using ResilientQueue.DeadLetter;

namespace ResilientQueue.AspNetCore.Pages;

/// <summary>
/// The POST behind every confirmation: refused with 403 unless <see cref="DashboardOptions.AllowActions"/>, with 400
/// without a valid antiforgery token; then the store's own atomic steps (a requeue moves an entry exactly once even
/// when two operators confirm at the same time), logged, and a redirect (303) to the page with the outcome.
/// </summary>
internal static partial class ActionEndpoint
{
    public static async Task<IResult> HandleAsync(DashboardContext ctx, string queueName, string action)
    {
        HttpContext http = ctx.Http;
        if (!ctx.Options.AllowActions)
        {
            return TypedResults.Text("This dashboard is read-only (DashboardOptions.AllowActions is false).", "text/plain; charset=utf-8", statusCode: StatusCodes.Status403Forbidden);
        }

        try
        {
            await http.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(http).ConfigureAwait(false);
        }
        catch (AntiforgeryValidationException)
        {
            return TypedResults.Text("The form's antiforgery token is missing or invalid: open the confirmation page again.", "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }

        if (ctx.Queues.Find(queueName) is not { } queue)
        {
            return ctx.NotFound($"The dashboard lists no queue '{queueName}'.");
        }

        IFormCollection form = await http.Request.ReadFormAsync(ctx.Aborted).ConfigureAwait(false);
        if (!ActionRequest.TryRead(action, form["id"], form["category"], form["olderThan"], ctx.Options.PageSize, out ActionRequest request, out string problem))
        {
            return TypedResults.Text(problem, "text/plain; charset=utf-8", statusCode: StatusCodes.Status400BadRequest);
        }

        (string message, bool failed, string back) = await RunAsync(ctx, queue, request).ConfigureAwait(false);
        LogAction(ctx.Logger, request.Action, queueName, http.User.Identity?.Name ?? "(anonymous)", http.Connection.RemoteIpAddress?.ToString() ?? "(none)", message);
        return TypedResults.Redirect(back + (back.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "flash=" + Uri.EscapeDataString(message) + (failed ? "&error=1" : string.Empty));
    }

    private static async Task<(string Message, bool Failed, string Back)> RunAsync(DashboardContext ctx, IJobQueue queue, ActionRequest request)
    {
        string name = queue.Name;
        CancellationToken ct = ctx.Aborted;
        try
        {
            switch (request.Action)
            {
                case "requeue":
                    return await RequeueAsync(ctx, queue, request.Ids).ConfigureAwait(false);
                case "purge":
                    int purged = 0;
                    foreach (string id in request.Ids)
                    {
                        purged += await queue.DeadLetters.PurgeAsync(id, ct).ConfigureAwait(false) ? 1 : 0;
                    }

                    return ($"Purged {purged} of {request.Ids.Count} dead letters ({request.Ids.Count - purged} were no longer in the store).", false, ctx.QueueUrl(name, "dead"));
                case "requeue-all":
                    RequeueSummary s = await queue.DeadLetters.RequeueManyAsync(request.Filter.Query(DeadLetterQuery.MaxLimit, null), maxEntries: ctx.Options.MaxBulkRequeue, cancellationToken: ct).ConfigureAwait(false);
                    return ($"Requeued {s.Requeued} dead letters (already requeued by someone else: {s.NotDeadLettered}; gone: {s.NotFound}; at most {ctx.Options.MaxBulkRequeue} per request).", false, ctx.QueueUrl(name, "dead"));
                case "purge-all":
                    long removed = request.Filter.OlderThan is { } age
                        ? await queue.DeadLetters.PurgeOlderThanAsync(age, ct).ConfigureAwait(false)
                        : await queue.DeadLetters.PurgeAllAsync(ct).ConfigureAwait(false);
                    return ($"Purged {removed} dead letters.", false, ctx.QueueUrl(name, "dead"));
                case "pause":
                    await queue.PauseAsync(ct).ConfigureAwait(false);
                    return ($"Queue '{name}' is paused.", false, ctx.QueueUrl(name));
                case "resume":
                    await queue.ResumeAsync(ct).ConfigureAwait(false);
                    return ($"Queue '{name}' is resumed.", false, ctx.QueueUrl(name));
                default:
                    return await ReapAsync(ctx, queue, request.Filter.OlderThan ?? TimeSpan.Zero).ConfigureAwait(false);
            }
        }
        catch (QueueFullException ex)
        {
            return ("Stopped: " + ex.Message, true, ctx.QueueUrl(name, "dead"));
        }
    }

    private static async Task<(string, bool, string)> RequeueAsync(DashboardContext ctx, IJobQueue queue, IReadOnlyList<string> ids)
    {
        int requeued = 0, notDead = 0, notFound = 0;
        foreach (string id in ids)
        {
            switch ((await queue.DeadLetters.RequeueAsync(id, cancellationToken: ctx.Aborted).ConfigureAwait(false)).Outcome)
            {
                case RequeueOutcome.Requeued: requeued++; break;
                case RequeueOutcome.NotDeadLettered: notDead++; break;
                default: notFound++; break;
            }
        }

        if (ids.Count == 1)
        {
            string back = ctx.QueueUrl(queue.Name, "jobs/" + DashboardContext.Segment(ids[0]));
            return requeued == 1 ? ($"Requeued job {ids[0]}: it is ready again.", false, back)
                : notDead == 1 ? ($"Job {ids[0]} was not requeued: it is no longer a dead letter (requeued by someone else first).", true, back)
                : ($"Job {ids[0]} was not requeued: no such job (purged or trimmed).", true, ctx.QueueUrl(queue.Name, "dead"));
        }

        return ($"Requeued {requeued} of {ids.Count} dead letters (already requeued by someone else: {notDead}; gone: {notFound}).", requeued < ids.Count, ctx.QueueUrl(queue.Name, "dead"));
    }

    private static async Task<(string, bool, string)> ReapAsync(DashboardContext ctx, IJobQueue queue, TimeSpan olderThan)
    {
        int requeued = 0, dead = 0;
        for (int round = 0; round < 10; round++)
        {
            IReadOnlyList<ReapedJob> reaped = await queue.ReapExpiredAsync(JobQueueOptions.MaxBatchSize, olderThan, dryRun: false, ctx.Aborted).ConfigureAwait(false);
            requeued += reaped.Count(r => r.Action == ReapAction.Requeued);
            dead += reaped.Count(r => r.Action == ReapAction.DeadLettered);
            if (reaped.Count < JobQueueOptions.MaxBatchSize)
            {
                break;
            }
        }

        return ($"Reaped {requeued + dead} expired leases: {requeued} requeued, {dead} dead-lettered.", false, ctx.QueueUrl(queue.Name, "reap"));
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Dashboard action {Action} on queue {Queue} by {User} from {RemoteAddress}: {Outcome}")]
    private static partial void LogAction(ILogger logger, string action, string queue, string user, string remoteAddress, string outcome);
}
