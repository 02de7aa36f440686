using System.Globalization;
using ResilientQueue.Recovery;

namespace CrawlPipeline;

/// <summary>The sample's command line.</summary>
public sealed record CrawlOptions
{
    /// <summary>The help text.</summary>
    public const string Help = """
        CrawlPipeline: a two-stage crawl -> extract pipeline on ResilientQueue, against a fake site it starts on 127.0.0.1.

        usage: dotnet run --project samples/CrawlPipeline -- [options]

          --quick              a small site and backoffs scaled down to a tenth: done in seconds (CI runs this)
          --redis host:port    run on the Redis list backend; a later run resumes the crawl where this one stopped
          --reset              (with --redis) forget the crawl stored in Redis and start over
          --fix-auth           send the right token to the 401 realm (default: an expired one, so its worker stops)
          --seed N             the fake site's seed (default 14): which pages fail, and how
          --latency MS         how long an ordinary page takes to answer (default 5 with --quick, else 30)
          --attempts N         attempts of a crawl job (default 6: the first and five retries, 1-2-4-8-16 s apart)
          --plain              plain lines instead of the live view (also when the output is redirected)
          --deadline S         give up waiting after this many seconds (default 25 with --quick, else 300)
          --help               this text

        Exit codes: 0 the outcome was as expected, 1 it was not (each failed check is listed), 2 bad usage or
        Redis unreachable, 130 interrupted (Ctrl-C or SIGTERM: the workers drained; on Redis, run again to resume).
        """;

    /// <summary>Small site, scaled-down backoff.</summary>
    public bool Quick { get; init; }

    /// <summary>The Redis configuration, or <see langword="null"/> for the in-memory backend.</summary>
    public string? Redis { get; init; }

    /// <summary>Forget the crawl in Redis first.</summary>
    public bool Reset { get; init; }

    /// <summary>Send the right token to the 401 realm.</summary>
    public bool FixAuth { get; init; }

    /// <summary>The site's seed.</summary>
    public int Seed { get; init; } = 14;

    /// <summary>Ordinary pages' latency.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Attempts of a crawl job.</summary>
    public int Attempts { get; init; } = 6;

    /// <summary>Plain lines even on a terminal.</summary>
    public bool Plain { get; init; }

    /// <summary>How long the run waits for the pipeline to finish.</summary>
    public TimeSpan Deadline { get; init; }

    /// <summary>Show the help.</summary>
    public bool ShowHelp { get; init; }

    /// <summary>The site's size, stored with a Redis crawl (a resume must crawl the same site).</summary>
    public string Size => Quick ? "quick" : "full";

    /// <summary>Sections of the site.</summary>
    public int Sections => Quick ? 3 : 6;

    /// <summary>Pages per section.</summary>
    public int PagesPerSection => Quick ? 6 : 12;

    /// <summary>The retries' backoff: 1, 2, 4, 8, 16 s without jitter; a tenth of that with <see cref="Quick"/>.</summary>
    public BackoffPolicy Backoff => Quick
        ? new BackoffPolicy(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(1600), multiplier: 2, jitterRatio: 0)
        : BackoffPolicy.OneToSixteenSeconds;

    /// <summary>The crawl's per-job timeout (the slow page runs into it).</summary>
    public TimeSpan JobTimeout => TimeSpan.FromSeconds(Quick ? 4 : 6);

    /// <summary>The workers' lease: after a kill -9 the reaper takes a job back this long after its last renewal.</summary>
    public TimeSpan LeaseDuration => TimeSpan.FromSeconds(Quick ? 5 : 15);

    /// <summary>How often the reaper looks for expired leases.</summary>
    public TimeSpan ReaperInterval => TimeSpan.FromSeconds(Quick ? 1 : 5);

    /// <summary>Parses the arguments.</summary>
    /// <exception cref="ArgumentException">An unknown option or a bad value, named in the message.</exception>
    public static CrawlOptions Parse(IReadOnlyList<string> args)
    {
        var options = new CrawlOptions();
        bool quick = args.Contains("--quick");
        TimeSpan? latency = null, deadline = null;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            int Number(int min, int max) => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
                ? n
                : throw new ArgumentException($"{arg} takes a whole number from {min} to {max}, not '{args[i]}'");
            options = arg switch
            {
                "--quick" => options with { Quick = true },
                "--redis" => options with { Redis = Value() },
                "--reset" => options with { Reset = true },
                "--fix-auth" => options with { FixAuth = true },
                "--seed" => options with { Seed = Number(0, int.MaxValue) },
                "--attempts" => options with { Attempts = Number(1, 100) },
                "--plain" => options with { Plain = true },
                "--help" or "-h" or "-?" => options with { ShowHelp = true },
                "--latency" => Set(ref latency, TimeSpan.FromMilliseconds(Number(0, 10_000)), options),
                "--deadline" => Set(ref deadline, TimeSpan.FromSeconds(Number(1, 3600)), options),
                _ => throw new ArgumentException($"unknown option '{arg}'"),
            };
        }

        if (options.Reset && options.Redis is null)
        {
            throw new ArgumentException("--reset needs --redis (the in-memory backend starts afresh every run)");
        }

        return options with
        {
            Latency = latency ?? TimeSpan.FromMilliseconds(quick ? 5 : 30),
            Deadline = deadline ?? TimeSpan.FromSeconds(quick ? 25 : 300),
        };
    }

    private static CrawlOptions Set(ref TimeSpan? field, TimeSpan value, CrawlOptions options)
    {
        field = value;
        return options;
    }
}
