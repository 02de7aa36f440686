using System.Globalization;

namespace LlmExtraction;

/// <summary>
/// The command line: <c>--quick</c> (a run of under 30 s that checks its outcome), <c>--redis host:port</c> (the Redis
/// backend instead of the in-memory one), <c>--workers N</c> (worker processes on Redis: this one and N − 1 more),
/// <c>--chart path</c> (where the SVG chart goes), <c>--seed N</c>, <c>--plain</c> (plain lines even on a terminal).
/// </summary>
internal sealed record SampleOptions
{
    /// <summary>The chart's file name when <c>--chart</c> is not given (in the working directory).</summary>
    public const string DefaultChart = "llm-extraction-chart.svg";

    public bool Quick { get; init; }

    public string? Redis { get; init; }

    public int Workers { get; init; } = 1;

    public string ChartPath { get; init; } = DefaultChart;

    public int Seed { get; init; } = 14;

    public bool Plain { get; init; }

    /// <summary>Set in a worker process the sample starts itself: the fake model's address.</summary>
    public Uri? WorkerFor { get; init; }

    /// <summary>Sizes and times: <see cref="Scale.Quick"/> or <see cref="Scale.Full"/>.</summary>
    public Scale Scale => Quick ? Scale.QuickRun : Scale.FullRun;

    /// <summary>Reads the arguments; throws <see cref="ArgumentException"/> naming what was wrong.</summary>
    public static SampleOptions Parse(IReadOnlyList<string> args)
    {
        var options = new SampleOptions();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"{arg} needs a value.");
                }

                return args[++i];
            }

            options = arg switch
            {
                "--quick" => options with { Quick = true },
                "--plain" => options with { Plain = true },
                "--redis" => options with { Redis = Value() },
                "--workers" => options with { Workers = Number(arg, Value(), 1, 8) },
                "--seed" => options with { Seed = Number(arg, Value(), 0, int.MaxValue) },
                "--chart" => options with { ChartPath = Value() },
                "--worker-for" => options with { WorkerFor = new Uri(Value(), UriKind.Absolute) },
                "--help" or "-h" => throw new ArgumentException(Usage),
                _ => throw new ArgumentException($"Unknown argument '{arg}'.\n{Usage}"),
            };
        }

        if (options.Workers > 1 && options.Redis is null)
        {
            throw new ArgumentException("--workers above 1 needs --redis host:port: the in-memory queue lives in one process.");
        }

        if (options.WorkerFor is not null && options.Redis is null)
        {
            throw new ArgumentException("--worker-for needs --redis host:port.");
        }

        return options;
    }

    public const string Usage =
        "Usage: dotnet run --project samples/LlmExtraction -- [--quick] [--redis host:port [--workers N]] [--chart file.svg] [--seed N] [--plain]";

    private static int Number(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name} must be a whole number from {min} to {max}, not '{value}'.");
}

/// <summary>How big a run is and how its times are scaled.</summary>
internal sealed record Scale
{
    public static readonly Scale QuickRun = new()
    {
        Documents = 170,
        CapacitySchedule = [(TimeSpan.Zero, 16), (TimeSpan.FromSeconds(5), 8), (TimeSpan.FromSeconds(10), 24)],
        RequestTimeout = TimeSpan.FromSeconds(10),
        JobTimeout = TimeSpan.FromSeconds(12),
        Backoff = new(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(2)),
        PoisonChunks = 6,
        StuckChunks = 2,
        SampleInterval = TimeSpan.FromMilliseconds(250),
        Deadline = TimeSpan.FromSeconds(27),
    };

    public static readonly Scale FullRun = new()
    {
        Documents = 600,
        CapacitySchedule = [(TimeSpan.Zero, 16), (TimeSpan.FromSeconds(20), 8), (TimeSpan.FromSeconds(40), 24)],
        RequestTimeout = TimeSpan.FromSeconds(20),
        JobTimeout = TimeSpan.FromSeconds(25),
        Backoff = new(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(8)),
        PoisonChunks = 15,
        StuckChunks = 4,
        SampleInterval = TimeSpan.FromMilliseconds(500),
        Deadline = TimeSpan.FromMinutes(5),
    };

    /// <summary>Documents in the corpus (each of 6–14 chunks).</summary>
    public int Documents { get; init; }

    public int MinChunks { get; init; } = 6;

    public int MaxChunks { get; init; } = 14;

    /// <summary>Documents the producer has in flight at most (each awaits all its chunks' answers); more than the backpressure watermark lets through, so the signal is what holds the producer back.</summary>
    public int DocumentParallelism { get; init; } = 120;

    /// <summary>The fake model's no-load latency per call.</summary>
    public TimeSpan BaseLatency { get; init; } = TimeSpan.FromMilliseconds(80);

    /// <summary>The fake model's hidden capacity C over time (from the start of the run): calls it serves at once.</summary>
    public required IReadOnlyList<(TimeSpan At, int Capacity)> CapacitySchedule { get; init; }

    /// <summary>How long the producer waits for each answer (the seed's 300 s request timeout, scaled).</summary>
    public TimeSpan RequestTimeout { get; init; }

    /// <summary>How long the worker gives one call to the model (a stuck call is cut there and retried).</summary>
    public TimeSpan JobTimeout { get; init; }

    /// <summary>The worker's retry backoff.</summary>
    public required ResilientQueue.Recovery.BackoffPolicy Backoff { get; init; }

    /// <summary>Chunks the model answers with malformed JSON on every one of their 3 attempts (dead-lettered).</summary>
    public int PoisonChunks { get; init; }

    /// <summary>Chunks whose first call hangs until the worker's job timeout (the producer's wait times out first).</summary>
    public int StuckChunks { get; init; }

    /// <summary>Share of chunks the model answers with malformed JSON once (the retry succeeds).</summary>
    public double MalformedOnceRatio { get; init; } = 0.04;

    /// <summary>How often the view, the chart and the probe sample the pipeline.</summary>
    public TimeSpan SampleInterval { get; init; }

    /// <summary>The run gives up after this (a bound, not a target).</summary>
    public TimeSpan Deadline { get; init; }
}
