using System.CommandLine;

namespace ResilientQueue.Cli;

/// <summary><c>resq clear</c>: empties a queue for good, so it no longer exists.</summary>
internal static class ClearCommand
{
    public static Command Create(CliContext context)
    {
        Argument<string> queue = QueueCommands.QueueArgument();
        Option<bool> yes = StaleCommands.YesOption();
        var command = new Command(
            "clear",
            "Delete a queue's contents for good: every job in every state (ready, delayed, active, dead, completed), its idempotency keys, " +
            "maintenance turns, paused flag and counters. The queue then no longer exists (until a job is enqueued). Shows the counts by state and asks first. " +
            "Workers holding leases on it lose them. No undo.")
        {
            queue, yes,
        };
        command.SetAction(async (parse, _) =>
        {
            await using RedisSession session = await context.ConnectAsync(parse);
            IJobQueueAdmin q = await session.OpenQueueAsync(parse.GetValue(queue)!);
            QueueStatus before = await q.GetStatusAsync();
            var found = new ClearedStatesDocument(before.Ready, before.Delayed, before.Active, before.Dead, before.Completed, before.IsPaused);
            context.Confirm(
                parse.GetValue(yes),
                $"clear queue '{q.Name}' for good ({CliContext.Plural(found.Jobs, "job", "jobs")}: {found.Ready} ready, {found.Delayed} delayed, {found.Active} active, {found.Dead} dead, {found.Completed} completed" +
                $"{(found.Active > 0 ? "; the workers holding the active ones lose their leases" : string.Empty)}; and its idempotency keys, paused flag and counters)");
            long removed = await q.ClearAsync();
            var document = new ClearDocument(q.Name, removed, found);
            if (context.Json(parse))
            {
                context.WriteJson(document);
                return ExitCodes.Ok;
            }

            var table = CliContext.Table("Queue", "Ready", "Delayed", "Active", "Dead", "Completed", "Paused");
            CliContext.AddRow(table, q.Name, found.Ready, found.Delayed, found.Active, found.Dead, found.Completed, found.Paused);
            context.Write(table);
            context.Line($"cleared queue '{q.Name}': deleted {CliContext.Plural(removed, "job", "jobs")} and its idempotency keys, paused flag and counters; it no longer exists until a job is enqueued");
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary>The JSON of <c>resq clear</c>: the jobs deleted, and what the queue held just before (read once, before asking).</summary>
internal sealed record ClearDocument(string Queue, long Removed, ClearedStatesDocument Before);

/// <summary>A queue's counts by state and paused flag, read just before <c>resq clear</c>.</summary>
internal sealed record ClearedStatesDocument(long Ready, long Delayed, long Active, long Dead, long Completed, bool Paused)
{
    /// <summary>The jobs in every state.</summary>
    public long Jobs => Ready + Delayed + Active + Dead + Completed;
}
