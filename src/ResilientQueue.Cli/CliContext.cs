using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ResilientQueue.Cli;

/// <summary>What every command shares: the streams, the global options, the connection, tables, JSON and confirmation.</summary>
internal sealed class CliContext
{
    public const string RedisVariable = "RESQ_REDIS";
    public const string DefaultRedis = "localhost:6379";

    /// <summary>The environment variable that sets the width of tables (as for <c>ls</c>), e.g. <c>COLUMNS=120</c>.</summary>
    public const string ColumnsVariable = "COLUMNS";

    /// <summary>The header of the column of job ids: it never wraps, so an id stays on one line and can be copied.</summary>
    public const string JobIdColumn = "Job ID";

    /// <summary>Tables are never narrower than this (an id column and a few others fit).</summary>
    private const int MinWidth = 80;

    /// <summary>The width of tables when stdout is not a terminal and <see cref="ColumnsVariable"/> is not set.</summary>
    private const int RedirectedWidth = 200;

    // Property names are camelCase; enum values keep their .NET names (RateLimited, DeadLettered), as tables, logs,
    // the library's docs and --category spell them.
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // stdout, never HTML: keep ' < > & readable
        Converters = { new JsonStringEnumConverter() },
    };

    private readonly Func<string, string?> _environment;
    private readonly Lazy<IAnsiConsole> _console;
    private RedisSession? _session;

    public CliContext(TextWriter stdout, TextWriter stderr, TextReader stdin, bool stdinIsTerminal, Func<string, string?> environment, TimeProvider? time = null)
    {
        Clock = time ?? TimeProvider.System;
        Out = stdout;
        Error = stderr;
        In = stdin;
        InIsTerminal = stdinIsTerminal;
        _environment = environment;
        _console = new Lazy<IAnsiConsole>(CreateConsole);
    }

    public TextWriter Out { get; }

    /// <summary>The clock of ages shown ("dead for 2h") and of the queues' transitions.</summary>
    public TimeProvider Clock { get; }

    public Func<string, string?> Environment => _environment;

    public TextWriter Error { get; }

    public TextReader In { get; }

    public bool InIsTerminal { get; }

    public Option<string?> RedisOption { get; } = new("--redis")
    {
        Description = $"The StackExchange.Redis configuration, e.g. 'host:6379,password=…,ssl=true'. Default: ${RedisVariable}, else {DefaultRedis}.",
        HelpName = "configuration",
        Recursive = true,
    };

    public Option<string?> GroupOption { get; } = new("--group")
    {
        Description = "For a queue of the Redis stream backend: the consumer group to act as (status, stale, reap, dlq, pause, resume). Default: the queue's only group; 'resq status' lists every group.",
        HelpName = "name",
        Recursive = true,
    };

    public Option<bool> JsonOption { get; } = new("--json")
    {
        Description = "Print one JSON document on stdout instead of tables (camelCase properties; enum values as tables show them, e.g. RateLimited). Schemas: " + CliApplication.GuideUrl + "#json-output",
        Recursive = true,
    };

    /// <summary>The table console, writing plain text (no ANSI codes) to <see cref="Out"/>.</summary>
    public IAnsiConsole Console => _console.Value;

    /// <summary>The command's connection, once made (for error messages that name the endpoints).</summary>
    public RedisSession? Session => _session;

    /// <summary>Connects for the command; dispose the session (it disposes the queues it opened) when the command ends.</summary>
    public async Task<RedisSession> ConnectAsync(ParseResult parse)
    {
        string configuration = parse.GetValue(RedisOption) is { Length: > 0 } given
            ? given
            : _environment(RedisVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultRedis;
        _session = await RedisSession.ConnectAsync(configuration, Clock).ConfigureAwait(false);
        _session.Group = parse.GetValue(GroupOption);
        return _session;
    }

    /// <summary>The text with the password of the connection (if any) and any <c>password=…</c> masked.</summary>
    public string Scrub(string text) => _session?.Scrub(text) ?? RedisSession.Redact(text);

    public bool Json(ParseResult parse) => parse.GetValue(JsonOption);

    public void WriteJson<T>(T document) => Out.WriteLine(JsonSerializer.Serialize(document, JsonOptions));

    public void Line(string text) => Out.WriteLine(text);

    public void Write(IRenderable renderable) => Console.Write(renderable);

    /// <summary>
    /// Asks before a destructive step: goes on with <paramref name="yes"/>; refuses when stdin is not a terminal; else
    /// asks on stderr and goes on only for "y" or "yes". <paramref name="action"/> reads like "requeue 3 entries of 'q'".
    /// </summary>
    public void Confirm(bool yes, string action)
    {
        if (yes)
        {
            return;
        }

        if (!InIsTerminal)
        {
            throw CliException.Usage($"refusing to {action} without --yes: standard input is not a terminal");
        }

        Error.Write($"{char.ToUpperInvariant(action[0])}{action[1..]}? [y/N] ");
        Error.Flush();
        string answer = (In.ReadLine() ?? string.Empty).Trim().ToLowerInvariant();
        if (answer is not ("y" or "yes"))
        {
            throw CliException.Usage("aborted: nothing was changed");
        }
    }

    /// <summary>A table with these column headers; the <see cref="JobIdColumn"/> never wraps (the other columns wrap to fit).</summary>
    public static Table Table(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string column in columns)
        {
            table.AddColumn(new TableColumn(new Text(column)) { NoWrap = column == JobIdColumn });
        }

        return table;
    }

    public static void AddRow(Table table, params object?[] cells) =>
        table.AddRow(cells.Select(c => (IRenderable)new Text(Cell(c))).ToArray());

    public static string Cell(object? value) => value switch
    {
        null => "-",
        DateTimeOffset time => Time(time),
        TimeSpan duration => Durations.Format(duration),
        bool flag => flag ? "yes" : "no",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "-",
    };

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string Plural(long count, string singular, string plural) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? singular : plural);

    private IAnsiConsole CreateConsole()
    {
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(Out),
        });
        console.Profile.Width = TerminalWidth();
        return console;
    }

    /// <summary><c>COLUMNS</c> when set, else the terminal's width, else (stdout redirected) 200; never less than 80.</summary>
    private int TerminalWidth()
    {
        if (int.TryParse(_environment(ColumnsVariable), NumberStyles.None, CultureInfo.InvariantCulture, out int columns) && columns > 0)
        {
            return Math.Max(MinWidth, columns);
        }

        if (ReferenceEquals(Out, System.Console.Out) && !System.Console.IsOutputRedirected)
        {
            try
            {
                return Math.Max(MinWidth, System.Console.WindowWidth);
            }
            catch (IOException)
            {
                // No terminal after all.
            }
        }

        return RedirectedWidth;
    }
}
