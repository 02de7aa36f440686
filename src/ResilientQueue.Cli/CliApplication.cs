using System.CommandLine;
using System.CommandLine.Help;
using ResilientQueue.Backpressure;
using StackExchange.Redis;

namespace ResilientQueue.Cli;

/// <summary>
/// The <c>resq</c> command line, runnable in-process: <see cref="RunAsync"/> parses the arguments, runs the command
/// against Redis and writes tables or JSON to <c>stdout</c> and one-line errors to <c>stderr</c>.
/// </summary>
public static class CliApplication
{
    /// <summary>
    /// Set to <c>1</c> to print, after any error line, the whole exception chain behind it and what else explains it
    /// (e.g. the Redis client's connection log), scrubbed of passwords.
    /// </summary>
    public const string DebugVariable = "RESQ_DEBUG";

    /// <summary>The operations guide: every command and option, the exit codes, the JSON schemas and the runbooks.</summary>
    public const string GuideUrl = "https://github.com/resilientqueue/resilientqueue/blob/main/docs/operations.md";

    private const string RootDescription =
        "resq: operate ResilientQueue queues on Redis (status, stale leases, reaping, dead letters, pause/resume, clear).\n" +
        "Connection: --redis <configuration>, else $RESQ_REDIS, else localhost:6379; passwords are never printed.\n" +
        Durations.Help + "\n" +
        "Destructive commands (reap without --dry-run, dlq requeue, dlq purge, clear) ask first; pass --yes when stdin is not a terminal.\n" +
        "Exit codes: 0 ok; 1 error (Redis unreachable, credentials rejected, queue or job not found, operation failed); " +
        "2 usage (bad argument, option, duration or limit; confirmation refused or declined).\n" +
        "Errors are one line; " + DebugVariable + "=1 adds the underlying exception chain. Tables fit the terminal (COLUMNS overrides its width).\n" +
        "Guide, JSON schemas and runbooks: " + GuideUrl;

    /// <summary>Runs one <c>resq</c> command line.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="stdout">Where tables and JSON go.</param>
    /// <param name="stderr">Where errors and confirmation prompts go.</param>
    /// <param name="stdin">Where confirmation answers come from.</param>
    /// <param name="stdinIsTerminal">Whether <paramref name="stdin"/> is an interactive terminal; destructive commands refuse to run without <c>--yes</c> when it is not.</param>
    /// <param name="environment">Reads an environment variable (<c>RESQ_REDIS</c>); <see langword="null"/> for the process environment.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    /// <returns>The exit code: 0 ok, 1 error, 2 usage error or confirmation refused.</returns>
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter stdout,
        TextWriter stderr,
        TextReader stdin,
        bool stdinIsTerminal,
        Func<string, string?>? environment = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(stdin);

        var context = new CliContext(stdout, stderr, stdin, stdinIsTerminal, environment ?? Environment.GetEnvironmentVariable);
        RootCommand root = BuildRoot(context);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not HelpAction)
        {
            string command = string.Join(' ', parse.CommandResult.Command is RootCommand ? ["resq"] : ["resq", .. Path(parse.CommandResult.Command)]);
            stderr.WriteLine($"error: {string.Join("; ", parse.Errors.Select(e => e.Message))} (see '{command} --help')");
            return ExitCodes.Usage;
        }

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            (int code, string message) = Describe(ex, context.Session);
            stderr.WriteLine("error: " + context.Scrub(message));
            if (context.Environment(DebugVariable) == "1")
            {
                stderr.WriteLine(context.Scrub(ex.ToString()));
                if (ex is CliException { Details: { Length: > 0 } details })
                {
                    stderr.WriteLine("StackExchange.Redis connection log:");
                    stderr.WriteLine(context.Scrub(details.TrimEnd()));
                }
            }

            return code;
        }
    }

    internal static RootCommand BuildRoot(CliContext context)
    {
        var root = new RootCommand(RootDescription);
        root.Options.Add(context.RedisOption);
        root.Options.Add(context.JsonOption);
        root.Options.Add(context.GroupOption);
        foreach (Command command in QueueCommands.Create(context).Concat(StaleCommands.Create(context)).Append(DeadLetterCommands.Create(context)).Append(ClearCommand.Create(context)))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary>The one line of an error: what failed and, briefly, why (the endpoint, the client's failure type, the command).</summary>
    private static (int Code, string Message) Describe(Exception ex, RedisSession? session)
    {
        string at = session is null ? string.Empty : " at " + session.Endpoints;
        return ex switch
        {
            CliException cli => (cli.ExitCode, cli.Message),
            InvalidOptionsException invalid => (ExitCodes.Usage, Strip(invalid.Message)),
            PayloadTooLargeException tooLarge => (ExitCodes.Usage, tooLarge.Message),
            ArgumentException argument => (ExitCodes.Usage, Strip(argument.Message)),
            QueueFullException full => (ExitCodes.Error, full.Message),
            ResilientQueueException other => (ExitCodes.Error, other.Message),
            RedisServerException or RedisConnectionException when IsCredentialsRejected(ex) =>
                (ExitCodes.Error, session?.CredentialsRejected(ex).Message ?? "Redis rejected the credentials"),
            RedisServerException server => (ExitCodes.Error, $"Redis{at} answered with an error: {server.Message}"),
            RedisTimeoutException timeout => (ExitCodes.Error, RedisSession.TimedOut(timeout, session?.Endpoints, session?.TimeoutMs)),
            RedisConnectionException connection => (ExitCodes.Error, $"lost the connection to Redis{at} ({connection.FailureType})"),
            OperationCanceledException => (ExitCodes.Error, "cancelled"),
            _ => (ExitCodes.Error, $"unexpected {ex.GetType().Name}: {ex.Message}"),
        };
    }

    private static bool IsCredentialsRejected(Exception ex) =>
        ex is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure } || RedisSession.IsAuthFailure(ex.Message);

    // ArgumentException appends " (Parameter 'x')"; the first part is the message.
    private static string Strip(string message) =>
        message.IndexOf(" (Parameter '", StringComparison.Ordinal) is int i and >= 0 ? message[..i] : message;

    private static IEnumerable<string> Path(Command command)
    {
        var names = new Stack<string>();
        for (Symbol? symbol = command; symbol is Command c and not RootCommand; symbol = c.Parents.FirstOrDefault())
        {
            names.Push(c.Name);
        }

        return names;
    }
}
