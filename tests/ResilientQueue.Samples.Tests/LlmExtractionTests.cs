using System.Diagnostics;
using System.Text.RegularExpressions;
using LlmExtraction;
using ResilientQueue.Testing.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Samples.Tests;

/// <summary>
/// samples/LlmExtraction's <c>--quick</c> run, in-process with its output redirected (the plain view), as CI runs it:
/// it must pass every check it makes of its outcome (nothing lost, the poison chunks dead-lettered, requeued exactly
/// once and run again, a RequestTimeout for each hung call, backpressure seen) and write its chart.
/// </summary>
public sealed partial class LlmExtractionTests(ITestOutputHelper output)
{
    /// <summary>The run's own bound (Scale.Deadline, 27 s) plus start-up and the end of the run, with room on a busy machine.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Quick_InMemory_PassesEveryCheckAndWritesTheChart()
    {
        (int exitCode, string text, string chart) = await RunAsync(["--quick"]);

        exitCode.Should().Be(0, "every check of the run passes:\n" + text);
        text.Should().Contain("on in-memory.").And.Contain("OK: every check passed");
        Checks(text).Should().HaveCount(9).And.OnlyContain(c => c.EndsWith(" ok", StringComparison.Ordinal));
        Plain(text).Should().BeTrue("redirected output gets plain lines, not a live view redrawn in place");
        AssertChart(chart);
    }

    [Fact]
    public async Task Quick_Redis_PassesEveryCheck()
    {
        string? external = Environment.GetEnvironmentVariable("RESILIENTQUEUE_REDIS");
        await using RedisServerProcess? server = external is { Length: > 0 } ? null : await RedisServerProcess.StartAsync();
        string endpoint = external is { Length: > 0 } ? external : server!.EndPoint;

        (int exitCode, string text, _) = await RunAsync(["--quick", "--redis", endpoint]);

        exitCode.Should().Be(0, "every check of the run passes on Redis too:\n" + text);
        text.Should().Contain($"on a Redis stream (consumer group 'extractors') at {endpoint}").And.Contain("OK: every check passed");
    }

    [Fact]
    public async Task Quick_RedisTwoWorkerProcesses_PassesEveryCheck()
    {
        string? external = Environment.GetEnvironmentVariable("RESILIENTQUEUE_REDIS");
        await using RedisServerProcess? server = external is { Length: > 0 } ? null : await RedisServerProcess.StartAsync();
        string endpoint = external is { Length: > 0 } ? external : server!.EndPoint;

        (int exitCode, string text, _) = await RunAsync(["--quick", "--redis", endpoint, "--workers", "2"]);

        exitCode.Should().Be(0, "every check passes with a second worker process on the same queue:\n" + text);
        text.Should().Contain("2 worker processes").And.Contain("OK: every check passed");
        WorkerProcessesSeen(text).Should().Be(2, "the live counts include the second process's reports");
    }

    [Theory]
    [InlineData("--workers 2", "--workers above 1 needs --redis")]
    [InlineData("--workers x --redis 127.0.0.1:6379", "--workers must be a whole number from 1 to 8, not 'x'")]
    [InlineData("--redis", "--redis needs a value")]
    [InlineData("--fast", "Unknown argument '--fast'")]
    public void Parse_BadArguments_SaysWhatWasWrong(string args, string message)
    {
        Action parse = () => SampleOptions.Parse(args.Split(' '));

        parse.Should().Throw<ArgumentException>().Which.Message.Should().Contain(message);
    }

    private async Task<(int ExitCode, string Text, string Chart)> RunAsync(string[] args)
    {
        string chart = Path.Combine(Path.GetTempPath(), $"llm-extraction-{Guid.NewGuid():N}.svg");
        var writer = new StringWriter();
        using var bound = new CancellationTokenSource(Bound);
        var watch = Stopwatch.StartNew();
        try
        {
            SampleOptions options = SampleOptions.Parse([.. args, "--chart", chart]);
            int exitCode = await SampleRun.RunAsync(options, TextWriter.Synchronized(writer), live: false, bound.Token);
            output.WriteLine($"exit code {exitCode} after {watch.Elapsed.TotalSeconds:0.0} s");
            output.WriteLine(writer.ToString());
            return (exitCode, writer.ToString(), File.Exists(chart) ? await File.ReadAllTextAsync(chart) : "");
        }
        finally
        {
            File.Delete(chart);
        }
    }

    private static void AssertChart(string chart)
    {
        chart.Should().StartWith("<svg xmlns=\"http://www.w3.org/2000/svg\"");
        chart.Should().Contain("concurrency limit").And.Contain("in flight").And.Contain("hidden capacity C").And.Contain("latency");
        // One path per series (limit, in flight, capacity, latency), each with many points.
        PathRegex().Matches(chart).Should().HaveCount(4).And.OnlyContain(m => m.Groups[1].Value.Split(' ').Length > 20);
        chart.Should().Contain("dead letters requeued");
    }

    private static string[] Checks(string text)
    {
        string table = text[text.IndexOf("Checks", StringComparison.Ordinal)..];
        return [.. CheckRowRegex().Matches(table).Select(m => $"{m.Groups[1].Value.Trim()} {m.Groups[2].Value.Trim()}")];
    }

    private static int WorkerProcessesSeen(string text) =>
        ProcessesRegex().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();

    private static bool Plain(string text) => !text.Contains('\u001b', StringComparison.Ordinal) && text.Contains("t=", StringComparison.Ordinal);

    [GeneratedRegex(@" workers=(\d+)")]
    private static partial Regex ProcessesRegex();

    [GeneratedRegex("<path d=\"([^\"]+)\"")]
    private static partial Regex PathRegex();

    [GeneratedRegex(@"│ ([a-zA-Z =-]+?)\s+│ (ok|FAILED)\s+│")]
    private static partial Regex CheckRowRegex();
}
