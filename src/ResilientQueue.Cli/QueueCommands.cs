using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace ResilientQueue.Cli;

/// <summary><c>resq queues</c>, <c>status</c>, <c>pause</c>, <c>resume</c> and <c>enqueue</c>.</summary>
internal static class QueueCommands
{
    /// <summary>A dry-run reap looks at this many expired leases at most; more shows as "1000+".</summary>
    public const int StaleScanLimit = JobQueueOptions.MaxBatchSize;

    public static IEnumerable<Command> Create(CliContext context) =>
        [Queues(context), Status(context), Pause(context, pause: true), Pause(context, pause: false), Enqueue(context)];

    public static Argument<string> QueueArgument(string description = "The queue's name.") => new("queue") { Description = description };

    private static Command Queues(CliContext context)
    {
        var command = new Command("queues", "List every queue (found by its {rq:<queue>}:meta hash) with its depth by state, stale leases, paused flag and dead-letter trims.");
        command.SetAction((parse, _) => ShowStatusAsync(context, parse, queueName: null));
        return command;
    }

    private static Command Status(CliContext context)
    {
        var queue = new Argument<string?>("queue") { Description = "The queue; omit for every queue.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "Show one queue (or every queue): ready, delayed, active, dead, completed, stale (expired leases; 1000+ when capped), paused, dead-letter trims.")
        {
            queue,
        };
        command.SetAction((parse, _) => ShowStatusAsync(context, parse, parse.GetValue(queue)));
        return command;
    }

    private static Command Pause(CliContext context, bool pause)
    {
        Argument<string> queue = QueueArgument();
        var command = new Command(
            pause ? "pause" : "resume",
            pause
                ? "Pause fetching: workers get nothing until 'resq resume'. Enqueues are still accepted; leased jobs are unaffected."
                : "Resume fetching after 'resq pause' and wake idle workers.")
        {
            queue,
        };
        command.SetAction(async (parse, _) =>
        {
            await using RedisSession session = await context.ConnectAsync(parse);
            IJobQueueAdmin q = await session.OpenQueueAsync(parse.GetValue(queue)!);
            if (pause)
            {
                await q.PauseAsync();
            }
            else
            {
                await q.ResumeAsync();
            }

            if (context.Json(parse))
            {
                context.WriteJson(new PauseDocument(q.Name, pause));
            }
            else
            {
                context.Line(pause
                    ? $"queue '{q.Name}' paused: fetches return nothing until 'resq resume {q.Name}'; enqueues are still accepted"
                    : $"queue '{q.Name}' resumed: workers fetch again");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Enqueue(CliContext context)
    {
        Argument<string> queue = QueueArgument("The queue; created if it does not exist yet.");
        var payload = new Option<string>("--payload") { Description = "The job's payload: JSON text, checked to parse, enqueued as its UTF-8 bytes.", Required = true, HelpName = "json" };
        var command = new Command("enqueue", "Enqueue one job with a JSON payload (for smoke tests).")
        {
            queue, payload,
        };
        command.SetAction(async (parse, _) =>
        {
            string json = parse.GetValue(payload)!;
            try
            {
                using JsonDocument document = JsonDocument.Parse(json);
            }
            catch (JsonException ex)
            {
                throw CliException.Usage($"--payload is not valid JSON: {ex.Message}", ex);
            }

            await using RedisSession session = await context.ConnectAsync(parse);
            IJobProducer q = await session.CreateQueueAsync(parse.GetValue(queue)!);
            bool created = !await session.QueueExistsAsync(q.Name);
            EnqueueResult result = await q.EnqueueAsync(Encoding.UTF8.GetBytes(json));
            if (context.Json(parse))
            {
                context.WriteJson(new EnqueueDocument(q.Name, result.JobId, result.Duplicate, created));
            }
            else
            {
                context.Line($"enqueued job {result.JobId} on queue '{q.Name}'{(created ? " (a new queue)" : string.Empty)}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<int> ShowStatusAsync(CliContext context, ParseResult parse, string? queueName)
    {
        await using RedisSession session = await context.ConnectAsync(parse);
        var statuses = new List<QueueStatusDocument>();
        if (queueName is not null)
        {
            IJobQueue queue = await session.OpenQueueAsync(queueName);
            statuses.Add(await ReadStatusAsync(queue, session.Group ?? (await session.ListGroupsAsync(queueName)).SingleOrDefault()));
        }
        else
        {
            foreach (string name in await session.ListQueuesAsync())
            {
                // A stream queue has a row per consumer group (or only the --group one); a list queue, one row.
                IReadOnlyList<string> groups = await session.ListGroupsAsync(name);
                IEnumerable<string?> rows = groups.Count == 0 ? [null] : groups.Where(g => session.Group is null || g == session.Group).Select(g => (string?)g);
                foreach (string? group in rows)
                {
                    statuses.Add(await session.UseQueueAsync(name, group, q => ReadStatusAsync(q, group)));
                }
            }
        }

        if (context.Json(parse))
        {
            if (queueName is not null)
            {
                context.WriteJson(statuses[0]);
            }
            else
            {
                context.WriteJson(new QueueListDocument(statuses));
            }

            return ExitCodes.Ok;
        }

        if (statuses.Count == 0)
        {
            context.Line($"no queues found at {session.Endpoints} (no {{rq:<queue>}}:meta keys)");
            return ExitCodes.Ok;
        }

        var table = CliContext.Table("Queue", "Ready", "Delayed", "Active", "Stale", "Dead", "Completed", "Paused", "DLQ trimmed");
        foreach (QueueStatusDocument s in statuses)
        {
            CliContext.AddRow(table, s.Group is null ? s.Name : $"{s.Name} (group {s.Group})", s.Ready, s.Delayed, s.Active, StaleText(s.Stale, s.StaleCapped), s.Dead, s.Completed, s.Paused, s.DeadLetterTrimmed);
        }

        context.Write(table);
        foreach (QueueStatusDocument s in statuses)
        {
            string target = s.Group is null ? s.Name : $"{s.Name} --group {s.Group}";
            string label = s.Group is null ? s.Name : $"{s.Name} (group {s.Group})";
            if (s.Stale > 0)
            {
                context.Line($"{label}: {StaleText(s.Stale, s.StaleCapped)} job(s) past their lease; see 'resq stale {target}', take them back with 'resq reap {target}'");
            }

            if (s.Paused)
            {
                context.Line($"{label}: paused; workers fetch nothing until 'resq resume {target}'");
            }
        }

        return ExitCodes.Ok;
    }

    public static string StaleText(int count, bool capped) => capped ? $"{count}+" : CliContext.Cell(count);

    /// <param name="queue">The queue.</param>
    /// <param name="group">The consumer group it was opened as, for a stream queue.</param>
    private static async Task<QueueStatusDocument> ReadStatusAsync(IJobQueueAdmin queue, string? group)
    {
        QueueStatus status = await queue.GetStatusAsync();
        int stale = (await queue.ReapExpiredAsync(StaleScanLimit, dryRun: true)).Count;
        return new QueueStatusDocument(
            queue.Name, status.Ready, status.Delayed, status.Active, status.Dead, status.Completed, status.Depth,
            stale, stale >= StaleScanLimit, status.IsPaused, status.DeadLetterTrimmed, group);
    }
}

/// <summary>The JSON of <c>resq queues</c> and <c>resq status</c> without a queue.</summary>
internal sealed record QueueListDocument(IReadOnlyList<QueueStatusDocument> Queues);

/// <summary>The JSON of <c>resq status &lt;queue&gt;</c>; <c>stale</c> stops at 1000 with <c>staleCapped</c> true; <c>group</c> is the consumer group of a stream queue (null for a list queue).</summary>
internal sealed record QueueStatusDocument(
    string Name, long Ready, long Delayed, long Active, long Dead, long Completed, long Depth, int Stale, bool StaleCapped, bool Paused, long DeadLetterTrimmed, string? Group = null);

/// <summary>The JSON of <c>resq pause</c> and <c>resq resume</c>.</summary>
internal sealed record PauseDocument(string Queue, bool Paused);

/// <summary>The JSON of <c>resq enqueue</c>.</summary>
internal sealed record EnqueueDocument(string Queue, string JobId, bool Duplicate, bool CreatedQueue);
