using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text;
using System.Text.Json.Serialization;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;

namespace ResilientQueue.Cli;

/// <summary><c>resq dlq list | show | requeue | purge</c>: the dead-letter store of a queue.</summary>
internal static class DeadLetterCommands
{
    private const int DefaultLimit = 50;
    private const int MaxPayloadChars = 4096;
    private const int MaxReasonChars = 80;

    public static Command Create(CliContext context)
    {
        var dlq = new Command("dlq", "The dead-letter store of a queue: jobs that used up their attempts or failed with a dead-letter decision.");
        dlq.Subcommands.Add(List(context));
        dlq.Subcommands.Add(Show(context));
        dlq.Subcommands.Add(Requeue(context));
        dlq.Subcommands.Add(Purge(context));
        return dlq;
    }

    private static Option<ErrorCategory?> CategoryOption() => new("--category")
    {
        Description = "Only entries of this error category: " + string.Join(", ", Enum.GetNames<ErrorCategory>()) + ".",
        HelpName = "category",
        CustomParser = ParseCategory,
    };

    private static Argument<string?> OptionalJobId(string description) => new("job-id") { Description = description, Arity = ArgumentArity.ZeroOrOne };

    private static Command List(CliContext context)
    {
        Argument<string> queue = QueueCommands.QueueArgument();
        var limit = new Option<int>("--limit") { Description = $"How many entries at most, 1 to {DeadLetterQuery.MaxLimit}. Default: {DefaultLimit}.", DefaultValueFactory = _ => DefaultLimit, HelpName = "n" };
        limit.Validators.Add(r =>
        {
            int value = r.GetValueOrDefault<int>();
            if (value is < 1 or > DeadLetterQuery.MaxLimit)
            {
                r.AddError($"--limit must be from 1 to {DeadLetterQuery.MaxLimit}, was {value}");
            }
        });
        Option<ErrorCategory?> category = CategoryOption();
        Option<TimeSpan?> olderThan = StaleCommands.OlderThanOption("Only entries dead-lettered at least this long ago.");
        var cursor = new Option<string?>("--cursor") { Description = "Continue after the previous page: the nextCursor it printed.", HelpName = "cursor" };
        var command = new Command("list", "List dead-letter entries, newest first, a page at a time: id, when and why, category, attempts.")
        {
            queue, limit, category, olderThan, cursor,
        };
        command.SetAction(async (parse, _) =>
        {
            await using RedisSession session = await context.ConnectAsync(parse);
            IJobQueueAdmin q = await session.OpenQueueAsync(parse.GetValue(queue)!);
            DeadLetterPage page;
            try
            {
                page = await q.DeadLetters.ListAsync(new DeadLetterQuery
                {
                    Limit = parse.GetValue(limit),
                    Category = parse.GetValue(category),
                    OlderThan = parse.GetValue(olderThan),
                    Cursor = parse.GetValue(cursor),
                });
            }
            catch (InvalidOptionsException ex) when (ex.OptionName == "DeadLetterQuery.Cursor")
            {
                throw CliException.Usage($"invalid --cursor '{parse.GetValue(cursor)}': pass the nextCursor a previous 'resq dlq list' printed", ex);
            }

            DateTimeOffset now = context.Clock.GetUtcNow();
            var document = new DeadLetterListDocument(
                q.Name,
                page.Entries.Count,
                page.NextCursor,
                page.Entries.Select(e => new DeadLetterSummaryDocument(
                    e.Job.Id, e.DeadLetteredAt, Durations.Seconds(now - e.DeadLetteredAt), e.Category, e.Reason, e.Job.Attempts, e.Job.MaxAttempts, e.Job.LastError, e.Job.EnqueuedAt)).ToList());
            if (context.Json(parse))
            {
                context.WriteJson(document);
                return ExitCodes.Ok;
            }

            if (document.Entries.Count == 0)
            {
                bool filtered = parse.GetValue(category) is not null || parse.GetValue(olderThan) is not null;
                context.Line($"no dead-letter entries in queue '{q.Name}'{(filtered ? " match the filters" : string.Empty)}{(page.NextCursor is null ? string.Empty : " on this page")}");
            }
            else
            {
                var table = CliContext.Table(CliContext.JobIdColumn, "Dead-lettered at", "Age", "Category", "Attempts", "Reason");
                foreach (DeadLetterSummaryDocument e in document.Entries)
                {
                    CliContext.AddRow(table, e.JobId, e.DeadLetteredAt, TimeSpan.FromSeconds(e.AgeSeconds), e.Category, $"{e.Attempts}/{e.MaxAttempts}", Truncate(e.Reason, MaxReasonChars));
                }

                context.Write(table);
                context.Line($"{CliContext.Plural(document.Count, "entry", "entries")}, newest first; details: 'resq dlq show {q.Name} <job-id>'");
            }

            if (page.NextCursor is not null)
            {
                context.Line($"more: add --cursor {page.NextCursor}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(CliContext context)
    {
        Argument<string> queue = QueueCommands.QueueArgument();
        var jobId = new Argument<string>("job-id") { Description = "The dead-lettered job's id." };
        var command = new Command("show", "Show one dead-letter entry in full: attempts, every recorded failure (time, attempt, category, error), first and last failure, reason, original queue, payload (UTF-8 text when printable, else base64).")
        {
            queue, jobId,
        };
        command.SetAction(async (parse, _) =>
        {
            await using RedisSession session = await context.ConnectAsync(parse);
            IJobQueueAdmin q = await session.OpenQueueAsync(parse.GetValue(queue)!);
            string id = parse.GetValue(jobId)!;
            DeadLetterEntry entry = await q.DeadLetters.GetAsync(id) ?? throw await NotDeadLetteredAsync(q, id);
            DeadLetterDetailDocument document = Detail(entry, context.Clock.GetUtcNow());
            if (context.Json(parse))
            {
                context.WriteJson(document);
                return ExitCodes.Ok;
            }

            var fields = CliContext.Table("Field", "Value");
            CliContext.AddRow(fields, CliContext.JobIdColumn, document.JobId);
            CliContext.AddRow(fields, "Queue", document.Queue);
            CliContext.AddRow(fields, "Dead-lettered at", $"{CliContext.Time(document.DeadLetteredAt)} ({Durations.Format(TimeSpan.FromSeconds(document.AgeSeconds))} ago)");
            CliContext.AddRow(fields, "Reason", document.Reason);
            CliContext.AddRow(fields, "Category", document.Category);
            CliContext.AddRow(fields, "Attempts", $"{document.Attempts}/{document.MaxAttempts}");
            CliContext.AddRow(fields, "Priority", document.Priority);
            CliContext.AddRow(fields, "Enqueued at", document.EnqueuedAt);
            CliContext.AddRow(fields, "First failure", document.FirstFailureAt);
            CliContext.AddRow(fields, "Last failure", document.LastFailureAt);
            CliContext.AddRow(fields, "Last error", document.LastError);
            CliContext.AddRow(fields, "Correlation ID", document.CorrelationId);
            CliContext.AddRow(fields, "Idempotency key", document.IdempotencyKey);
            CliContext.AddRow(fields, "Traceparent", document.TraceParent);
            CliContext.AddRow(fields, "Payload", $"{CliContext.Plural(document.Payload.Bytes, "byte", "bytes")}, {document.Payload.Encoding}");
            context.Write(fields);

            if (document.Failures.Count > 0)
            {
                var failures = CliContext.Table("#", "At", "Attempt", "Category", "Error");
                int n = 1;
                foreach (FailureDocument f in document.Failures)
                {
                    CliContext.AddRow(failures, n++, f.At, f.Attempt, f.Category, f.Error);
                }

                context.Line($"failures (first and most recent, at most {Job.MaxFailureHistory}):");
                context.Write(failures);
            }

            context.Line($"payload ({document.Payload.Encoding}):");
            context.Line(Truncate(document.Payload.Data, MaxPayloadChars) + (document.Payload.Data.Length > MaxPayloadChars ? " (truncated; use --json for all of it)" : string.Empty));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Requeue(CliContext context)
    {
        Argument<string> queue = QueueCommands.QueueArgument();
        Argument<string?> jobId = OptionalJobId("The job to requeue; or use --all.");
        var all = new Option<bool>("--all") { Description = "Every entry matching --category and --older-than (all entries without them)." };
        Option<ErrorCategory?> category = CategoryOption();
        Option<TimeSpan?> olderThan = StaleCommands.OlderThanOption("With --all: only entries dead-lettered at least this long ago.");
        var resetAttempts = new Option<bool>("--reset-attempts") { Description = "Give the jobs all their attempts again; without it an exhausted job gets exactly one more attempt." };
        Option<bool> yes = StaleCommands.YesOption();
        var command = new Command("requeue", "Move dead-letter entries back to ready, each exactly once (atomic per entry); with --all it reports how many were requeued, not dead-lettered (someone else was first) and not found.")
        {
            queue, jobId, all, category, olderThan, resetAttempts, yes,
        };
        command.Validators.Add(r =>
        {
            bool hasId = r.GetValue(jobId) is not null;
            if (hasId == r.GetValue(all))
            {
                r.AddError("give either a <job-id> or --all");
            }
            else if (hasId && (Given(r, category) || Given(r, olderThan)))
            {
                r.AddError("--category and --older-than go with --all, not with a <job-id>");
            }
        });
        command.SetAction(async (parse, _) =>
        {
            await using RedisSession session = await context.ConnectAsync(parse);
            IJobQueueAdmin q = await session.OpenQueueAsync(parse.GetValue(queue)!);
            string? single = parse.GetValue(jobId);
            bool reset = parse.GetValue(resetAttempts);
            var results = new List<RequeuedJobDocument>();
            List<string> ids;
            if (single is not null)
            {
                // One entry: any outcome but Requeued is an error, reported on stderr alone (nothing on stdout).
                if (await q.DeadLetters.GetAsync(single) is null)
                {
                    throw await NotDeadLetteredAsync(q, single);
                }

                ids = [single];
            }
            else
            {
                ids = await MatchingIdsAsync(q.DeadLetters, parse.GetValue(category), parse.GetValue(olderThan));
            }

            if (ids.Count > 0)
            {
                context.Confirm(
                    parse.GetValue(yes),
                    $"requeue {(single is not null ? $"dead-letter entry '{single}'" : CliContext.Plural(ids.Count, "dead-letter entry", "dead-letter entries"))} of queue '{q.Name}'{(reset ? " with their attempts reset" : string.Empty)}");
                foreach (string id in ids)
                {
                    results.Add(new RequeuedJobDocument(id, (await q.DeadLetters.RequeueAsync(id, reset)).Outcome));
                }
            }

            if (single is not null && results[0].Result != RequeueOutcome.Requeued)
            {
                // Someone else requeued (or purged) it between the look-up and the requeue.
                throw results[0].Result == RequeueOutcome.NotFound
                    ? CliException.Error($"job '{single}' not found in queue '{q.Name}'")
                    : CliException.Error($"job '{single}' of queue '{q.Name}' is not in the dead-letter store (already requeued?)");
            }

            var document = new RequeueDocument(q.Name, reset, results);
            if (context.Json(parse))
            {
                context.WriteJson(document);
            }
            else if (results.Count == 0)
            {
                context.Line($"no dead-letter entry of queue '{q.Name}' matches; nothing changed");
            }
            else if (single is not null)
            {
                context.Line($"requeued job '{single}' of queue '{q.Name}'{(reset ? " with its attempts reset" : string.Empty)}");
            }
            else
            {
                context.Line($"requeued {document.Requeued} of {CliContext.Plural(document.Matched, "entry", "entries")} of queue '{q.Name}' (not dead-lettered: {document.NotDeadLettered}, not found: {document.NotFound})");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Purge(CliContext context)
    {
        Argument<string> queue = QueueCommands.QueueArgument();
        Argument<string?> jobId = OptionalJobId("The entry to delete; or use --older-than or --all.");
        Option<TimeSpan?> olderThan = StaleCommands.OlderThanOption("Delete the entries dead-lettered at least this long ago.");
        var all = new Option<bool>("--all") { Description = "Delete every entry." };
        Option<bool> yes = StaleCommands.YesOption();
        var command = new Command("purge", "Delete dead-letter entries for good: one <job-id>, those --older-than a duration, or --all.")
        {
            queue, jobId, olderThan, all, yes,
        };
        command.Validators.Add(r =>
        {
            int modes = (r.GetValue(jobId) is null ? 0 : 1) + (Given(r, olderThan) ? 1 : 0) + (r.GetValue(all) ? 1 : 0);
            if (modes != 1)
            {
                r.AddError("give exactly one of <job-id>, --older-than <duration> or --all");
            }
        });
        command.SetAction(async (parse, _) =>
        {
            await using RedisSession session = await context.ConnectAsync(parse);
            IJobQueueAdmin q = await session.OpenQueueAsync(parse.GetValue(queue)!);
            string? single = parse.GetValue(jobId);
            TimeSpan? age = parse.GetValue(olderThan);
            PurgeMode mode = single is not null ? PurgeMode.Job : age is not null ? PurgeMode.OlderThan : PurgeMode.All;
            long matching = single is not null
                ? (await q.DeadLetters.GetAsync(single) is null ? throw await NotDeadLetteredAsync(q, single) : 1)
                : age is not null ? (await MatchingIdsAsync(q.DeadLetters, null, age)).Count : await q.DeadLetters.CountAsync();
            long purged = 0;
            if (matching > 0)
            {
                context.Confirm(
                    parse.GetValue(yes),
                    single is not null
                        ? $"purge dead-letter entry '{single}' of queue '{q.Name}' for good"
                        : $"purge {CliContext.Plural(matching, "dead-letter entry", "dead-letter entries")} of queue '{q.Name}'{(age is null ? string.Empty : $" dead-lettered at least {Durations.Format(age.Value)} ago")} for good");
                purged = single is not null
                    ? (await q.DeadLetters.PurgeAsync(single) ? 1 : 0)
                    : age is not null ? await q.DeadLetters.PurgeOlderThanAsync(age.Value) : await q.DeadLetters.PurgeAllAsync();
            }

            if (context.Json(parse))
            {
                context.WriteJson(new PurgeDocument(q.Name, mode, single, age is null ? null : Durations.Seconds(age.Value), purged));
            }
            else
            {
                context.Line(matching == 0
                    ? $"no dead-letter entry of queue '{q.Name}' matches; nothing changed"
                    : $"purged {CliContext.Plural(purged, "dead-letter entry", "dead-letter entries")} of queue '{q.Name}'");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    // Whether an option is on the command line; reading its value here would throw when it has a parse error.
    private static bool Given(CommandResult result, Option option) => result.GetResult(option) is { Implicit: false };

    /// <summary>The most entries one bulk requeue handles (as IDeadLetterStore.RequeueManyAsync): run it again for the rest.</summary>
    private const int MaxBulkEntries = 100_000;

    // Collects the ids first (bounded) so the confirmation can say how many, then each is requeued on its own.
    private static async Task<List<string>> MatchingIdsAsync(IDeadLetterStore store, ErrorCategory? category, TimeSpan? olderThan)
    {
        var ids = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? cursor = null;
        do
        {
            DeadLetterPage page = await store.ListAsync(new DeadLetterQuery { Limit = DeadLetterQuery.MaxLimit, Category = category, OlderThan = olderThan, Cursor = cursor });
            ids.AddRange(page.Entries.Select(e => e.Job.Id).Where(seen.Add));
            cursor = page.NextCursor;
        }
        while (cursor is not null && ids.Count < MaxBulkEntries);
        return ids.Count > MaxBulkEntries ? ids.GetRange(0, MaxBulkEntries) : ids;
    }

    private static async Task<CliException> NotDeadLetteredAsync(IJobQueueAdmin queue, string jobId) =>
        await queue.GetJobAsync(jobId) is { } job
            ? CliException.Error($"job '{jobId}' of queue '{queue.Name}' is not in the dead-letter store (it is {job.State})")
            : CliException.Error($"job '{jobId}' not found in queue '{queue.Name}'");

    private static DeadLetterDetailDocument Detail(DeadLetterEntry entry, DateTimeOffset now)
    {
        Job job = entry.Job;
        return new DeadLetterDetailDocument(
            job.Id, job.Queue, entry.DeadLetteredAt, Durations.Seconds(now - entry.DeadLetteredAt), entry.Reason, entry.Category,
            job.Attempts, job.MaxAttempts, job.Priority, job.EnqueuedAt, job.LastError, job.LastErrorCategory,
            job.Failures.Count > 0 ? job.Failures[0].At : null, job.Failures.Count > 0 ? job.Failures[^1].At : null,
            job.Failures.Select(f => new FailureDocument(f.At, f.Attempt, f.Category, f.Error)).ToList(),
            job.CorrelationId, job.IdempotencyKey, job.TraceParent, Payload(job.Payload.Span));
    }

    private static PayloadDocument Payload(ReadOnlySpan<byte> bytes)
    {
        try
        {
            string text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
            if (!text.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')))
            {
                return new PayloadDocument("utf8", bytes.Length, text);
            }
        }
        catch (DecoderFallbackException)
        {
            // Not UTF-8: base64 below.
        }

        return new PayloadDocument("base64", bytes.Length, Convert.ToBase64String(bytes));
    }

    private static ErrorCategory? ParseCategory(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        foreach (ErrorCategory category in Enum.GetValues<ErrorCategory>())
        {
            if (string.Equals(category.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                return category;
            }
        }

        result.AddError($"unknown category '{text}' for --category: use one of {string.Join(", ", Enum.GetNames<ErrorCategory>())}");
        return null;
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}

/// <summary>The JSON of <c>resq dlq list</c>.</summary>
internal sealed record DeadLetterListDocument(string Queue, int Count, string? NextCursor, IReadOnlyList<DeadLetterSummaryDocument> Entries);

/// <summary>One entry of <c>resq dlq list</c>.</summary>
internal sealed record DeadLetterSummaryDocument(
    string JobId, DateTimeOffset DeadLetteredAt, double AgeSeconds, ErrorCategory Category, string Reason, int Attempts, int MaxAttempts, string? LastError, DateTimeOffset EnqueuedAt);

/// <summary>The JSON of <c>resq dlq show</c>.</summary>
internal sealed record DeadLetterDetailDocument(
    string JobId, string Queue, DateTimeOffset DeadLetteredAt, double AgeSeconds, string Reason, ErrorCategory Category,
    int Attempts, int MaxAttempts, int Priority, DateTimeOffset EnqueuedAt, string? LastError, ErrorCategory? LastErrorCategory,
    DateTimeOffset? FirstFailureAt, DateTimeOffset? LastFailureAt, IReadOnlyList<FailureDocument> Failures,
    string? CorrelationId, string? IdempotencyKey, string? TraceParent, PayloadDocument Payload);

/// <summary>One recorded failure of a job.</summary>
internal sealed record FailureDocument(DateTimeOffset At, int Attempt, ErrorCategory Category, string Error);

/// <summary>A payload: <c>encoding</c> is <c>utf8</c> (printable text in <c>data</c>) or <c>base64</c>.</summary>
internal sealed record PayloadDocument(string Encoding, int Bytes, string Data);

/// <summary>The JSON of <c>resq dlq requeue</c>: one result per entry, and the counts.</summary>
internal sealed record RequeueDocument(string Queue, bool ResetAttempts, [property: JsonPropertyOrder(1)] IReadOnlyList<RequeuedJobDocument> Jobs)
{
    public int Matched => Jobs.Count;

    public int Requeued => Jobs.Count(j => j.Result == RequeueOutcome.Requeued);

    public int NotDeadLettered => Jobs.Count(j => j.Result == RequeueOutcome.NotDeadLettered);

    public int NotFound => Jobs.Count(j => j.Result == RequeueOutcome.NotFound);
}

/// <summary>What requeue did with one entry: <c>Requeued</c>, <c>NotDeadLettered</c> or <c>NotFound</c>.</summary>
internal sealed record RequeuedJobDocument(string JobId, RequeueOutcome Result);

/// <summary>What <c>resq dlq purge</c> deleted: one entry, the entries older than an age, or all of them.</summary>
internal enum PurgeMode
{
    /// <summary>The entry of one job id.</summary>
    Job,

    /// <summary>The entries dead-lettered at least <c>--older-than</c> ago.</summary>
    OlderThan,

    /// <summary>Every entry.</summary>
    All,
}

/// <summary>The JSON of <c>resq dlq purge</c>; <c>mode</c> is <c>Job</c> (with <c>jobId</c>), <c>OlderThan</c> (with <c>olderThanSeconds</c>) or <c>All</c>.</summary>
internal sealed record PurgeDocument(string Queue, PurgeMode Mode, string? JobId, double? OlderThanSeconds, long Purged);
