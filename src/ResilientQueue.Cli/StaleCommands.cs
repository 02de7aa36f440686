using System.CommandLine;
using System.Text.Json.Serialization;

namespace ResilientQueue.Cli;

/// <summary><c>resq stale</c> and <c>resq reap</c>: jobs whose lease ran out (their worker crashed, hung or lost Redis).</summary>
internal static class StaleCommands
{
    /// <summary>A real reap stops after this many rounds of 1000 jobs; run it again for more.</summary>
    public const int MaxReapRounds = 100;

    private const int MaxTableRows = 50;

    public static IEnumerable<Command> Create(CliContext context) => [Stale(context), Reap(context)];

    public static Option<TimeSpan?> OlderThanOption(string description) => new("--older-than")
    {
        Description = description + " " + Durations.Help,
        HelpName = "duration",
        CustomParser = r => Durations.ParseOption(r, "--older-than"),
    };

    public static Option<bool> YesOption() => new("--yes", "-y") { Description = "Do it without asking (required when stdin is not a terminal)." };

    private static Command Stale(CliContext context)
    {
        Argument<string> queue = QueueCommands.QueueArgument();
        Option<TimeSpan?> olderThan = OlderThanOption("Only leases that ran out at least this long ago.");
        var command = new Command("stale", "List jobs past their lease (a dry-run reap, oldest deadline first, at most 1000): id, attempts/max, when the lease ran out, for how long, and what a reap would do.")
        {
            queue, olderThan,
        };
        command.SetAction(async (parse, _) =>
        {
            await using RedisSession session = await context.ConnectAsync(parse);
            IJobQueueAdmin q = await session.OpenQueueAsync(parse.GetValue(queue)!);
            TimeSpan minAge = parse.GetValue(olderThan) ?? TimeSpan.Zero;
            IReadOnlyList<ReapedJob> jobs = await q.ReapExpiredAsync(QueueCommands.StaleScanLimit, minAge, dryRun: true);
            var document = new ReapDocument(q.Name, DryRun: true, Durations.Seconds(minAge), jobs.Count >= QueueCommands.StaleScanLimit, ToRows(jobs, context.Clock));
            if (context.Json(parse))
            {
                context.WriteJson(document);
                return ExitCodes.Ok;
            }

            if (jobs.Count == 0)
            {
                context.Line($"no job of queue '{q.Name}' is past its lease{AgeText(minAge)}");
                return ExitCodes.Ok;
            }

            WriteJobs(context, document);
            context.Line($"{QueueCommands.StaleText(jobs.Count, document.Capped)} job(s) past their lease{AgeText(minAge)}: {document.Requeued} would be requeued, {document.DeadLettered} dead-lettered (no attempt left)");
            context.Line($"take them back with 'resq reap {q.Name}{(minAge > TimeSpan.Zero ? " --older-than " + Durations.Compact(minAge) : string.Empty)}'");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Reap(CliContext context)
    {
        Argument<string> queue = QueueCommands.QueueArgument();
        Option<TimeSpan?> olderThan = OlderThanOption("Only leases that ran out at least this long ago.");
        var dryRun = new Option<bool>("--dry-run") { Description = "Change nothing; show what would be done (the first 1000)." };
        Option<bool> yes = YesOption();
        var command = new Command("reap", "Take back jobs whose lease ran out: with attempts left they become ready again (keeping their count), otherwise they are dead-lettered as LeaseExpired. Runs in rounds of 1000 until fewer come back (at most 100 rounds).")
        {
            queue, olderThan, dryRun, yes,
        };
        command.SetAction(async (parse, _) =>
        {
            await using RedisSession session = await context.ConnectAsync(parse);
            IJobQueueAdmin q = await session.OpenQueueAsync(parse.GetValue(queue)!);
            TimeSpan minAge = parse.GetValue(olderThan) ?? TimeSpan.Zero;
            IReadOnlyList<ReapedJob> preview = await q.ReapExpiredAsync(QueueCommands.StaleScanLimit, minAge, dryRun: true);
            bool previewCapped = preview.Count >= QueueCommands.StaleScanLimit;
            ReapDocument document;
            if (parse.GetValue(dryRun) || preview.Count == 0)
            {
                document = new ReapDocument(q.Name, DryRun: parse.GetValue(dryRun), Durations.Seconds(minAge), previewCapped, parse.GetValue(dryRun) ? ToRows(preview, context.Clock) : []);
            }
            else
            {
                int requeue = preview.Count(j => j.Action == ReapAction.Requeued);
                context.Confirm(
                    parse.GetValue(yes),
                    $"reap {QueueCommands.StaleText(preview.Count, previewCapped)} expired lease(s) of queue '{q.Name}' ({requeue} to requeue, {preview.Count - requeue} to dead-letter)");
                var reaped = new List<ReapedJob>();
                bool capped = false;
                for (int round = 1; ; round++)
                {
                    IReadOnlyList<ReapedJob> batch = await q.ReapExpiredAsync(QueueCommands.StaleScanLimit, minAge);
                    reaped.AddRange(batch);
                    if (batch.Count < QueueCommands.StaleScanLimit)
                    {
                        break;
                    }

                    if (round == MaxReapRounds)
                    {
                        capped = true;
                        break;
                    }
                }

                document = new ReapDocument(q.Name, DryRun: false, Durations.Seconds(minAge), capped, ToRows(reaped, context.Clock));
            }

            if (context.Json(parse))
            {
                context.WriteJson(document);
                return ExitCodes.Ok;
            }

            if (document.Jobs.Count == 0)
            {
                context.Line($"nothing to reap: no job of queue '{q.Name}' is past its lease{AgeText(minAge)}");
                return ExitCodes.Ok;
            }

            WriteJobs(context, document);
            context.Line(document.DryRun
                ? $"dry run, nothing changed: {QueueCommands.StaleText(document.Jobs.Count, document.Capped)} job(s) would be taken back: {document.Requeued} requeued, {document.DeadLettered} dead-lettered"
                : $"reaped {document.Jobs.Count} job(s) of queue '{q.Name}': {document.Requeued} requeued, {document.DeadLettered} dead-lettered");
            if (!document.DryRun && document.Capped)
            {
                context.Line($"stopped after {MaxReapRounds} rounds of {QueueCommands.StaleScanLimit}; more expired leases may remain: run it again");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static List<ReapedJobDocument> ToRows(IEnumerable<ReapedJob> jobs, TimeProvider time)
    {
        DateTimeOffset now = time.GetUtcNow();
        return jobs.Select(j => new ReapedJobDocument(j.JobId, j.Attempts, j.MaxAttempts, j.LeaseExpiredAt, Durations.Seconds(now - j.LeaseExpiredAt), j.Action, j.AttemptRefunded)).ToList();
    }

    private static void WriteJobs(CliContext context, ReapDocument document)
    {
        var table = CliContext.Table(CliContext.JobIdColumn, "Attempts", "Lease expired at", "Stale for", document.DryRun ? "Reap would" : "Done");
        foreach (ReapedJobDocument job in document.Jobs.Take(MaxTableRows))
        {
            CliContext.AddRow(
                table, job.JobId, $"{job.Attempts}/{job.MaxAttempts}", job.LeaseExpiredAt, TimeSpan.FromSeconds(job.StaleForSeconds),
                (job.Action, document.DryRun) switch
                {
                    (ReapAction.Requeued, true) when job.AttemptRefunded => "requeue, attempt back (never started)",
                    (ReapAction.Requeued, false) when job.AttemptRefunded => "requeued, attempt back (never started)",
                    (ReapAction.Requeued, true) => "requeue",
                    (_, true) => "dead-letter",
                    (ReapAction.Requeued, false) => "requeued",
                    _ => "dead-lettered",
                });
        }

        context.Write(table);
        if (document.Jobs.Count > MaxTableRows)
        {
            context.Line($"… and {document.Jobs.Count - MaxTableRows} more (use --json for all)");
        }
    }

    private static string AgeText(TimeSpan minAge) => minAge > TimeSpan.Zero ? $" by at least {Durations.Format(minAge)}" : string.Empty;
}

/// <summary>The JSON of <c>resq stale</c> and <c>resq reap</c>.</summary>
internal sealed record ReapDocument(string Queue, bool DryRun, double OlderThanSeconds, bool Capped, [property: JsonPropertyOrder(1)] IReadOnlyList<ReapedJobDocument> Jobs)
{
    public int Count => Jobs.Count;

    public int Requeued => Jobs.Count(j => j.Action == ReapAction.Requeued);

    public int DeadLettered => Jobs.Count(j => j.Action == ReapAction.DeadLettered);
}

/// <summary>One job past its lease; <c>action</c> is what was (or would be) done: <c>Requeued</c> or <c>DeadLettered</c>.</summary>
internal sealed record ReapedJobDocument(string JobId, int Attempts, int MaxAttempts, DateTimeOffset LeaseExpiredAt, double StaleForSeconds, ReapAction Action, bool AttemptRefunded);
