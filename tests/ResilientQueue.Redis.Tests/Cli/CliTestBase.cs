using System.Text;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.Cli;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;

namespace ResilientQueue.Redis.Tests.Cli;

/// <summary>The output of one in-process run of <c>resq</c>.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public JsonElement Json => JsonDocument.Parse(Stdout).RootElement;

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>
/// Runs the real <c>resq</c> command line in-process (<see cref="CliApplication.RunAsync"/>) against the test run's Redis
/// server (<see cref="RedisServerFixture"/>: container or local process, with the protocol switch in its configuration),
/// and seeds queues with jobs in every state through <see cref="RedisListJobQueue"/>.
/// </summary>
public abstract class CliTestBase(RedisServerFixture redis) : RedisTestBase(redis)
{
    /// <summary>Runs <c>resq args --redis &lt;fixture&gt;</c> with stdin not a terminal and nothing on it.</summary>
    protected Task<CliResult> ResqAsync(params string[] args) => RunAsync(args, stdin: string.Empty, stdinIsTerminal: false);

    protected async Task<CliResult> RunAsync(string[] args, string stdin, bool stdinIsTerminal, string? redis = null, Func<string, string?>? environment = null)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        string[] all = redis is null && environment is null ? [.. args, "--redis", Redis.Configuration] : redis is null ? args : [.. args, "--redis", redis];
        int exitCode = await CliApplication.RunAsync(all, stdout, stderr, new StringReader(stdin), stdinIsTerminal, environment ?? (_ => null));
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }

    protected RedisListJobQueue Queue(string name, TimeProvider? time = null) => new(Redis.Multiplexer, name, timeProvider: time);

    /// <summary>A clock an hour behind: leases and dead letters made with it are an hour old by the real clock.</summary>
    protected static FakeTimeProvider HourAgo() => new(DateTimeOffset.UtcNow.AddHours(-1));

    /// <summary>
    /// Two jobs whose one-minute leases ran out about 59 minutes ago: <c>Requeue</c> (1 of 3 attempts used) and
    /// <c>DeadLetter</c> (1 of 1 used), oldest deadline first.
    /// </summary>
    protected async Task<(string Requeue, string DeadLetter)> SeedStaleAsync(string queue)
    {
        FakeTimeProvider time = HourAgo();
        using RedisListJobQueue q = Queue(queue, time);
        string requeue = (await q.EnqueueAsync(Payload("{\"n\":1}"), new EnqueueOptions { MaxAttempts = 3 })).JobId;
        string deadLetter = (await q.EnqueueAsync(Payload("{\"n\":2}"), new EnqueueOptions { MaxAttempts = 1 })).JobId;
        LeasedJob first = (await q.FetchAsync(1, TimeSpan.FromMinutes(1))).Single();
        first.Job.Id.Should().Be(requeue);
        time.Advance(TimeSpan.FromSeconds(1));
        LeasedJob second = (await q.FetchAsync(1, TimeSpan.FromMinutes(1))).Single();
        second.Job.Id.Should().Be(deadLetter);
        await q.MarkStartedManyAsync([first.Lease, second.Lease]); // both ran, then their worker died
        return (requeue, deadLetter);
    }

    /// <summary>
    /// Two dead-letter entries: <c>Old</c>, a Validation failure dead-lettered an hour ago with the reason "poison
    /// order"; <c>Recent</c>, a Transient failure that used its last attempt just now.
    /// </summary>
    protected async Task<(string Old, string Recent)> SeedDeadLettersAsync(string queue)
    {
        using (RedisListJobQueue past = Queue(queue, HourAgo()))
        {
            await past.EnqueueAsync(Payload("{\"order\":1}"), new EnqueueOptions { CorrelationId = "corr-1" });
            LeasedJob leased = (await past.FetchAsync(1, TimeSpan.FromMinutes(5))).Single();
            await past.FailAsync(leased.Lease, new JobError("System.FormatException", "order total is not a number", ErrorCategory.Validation), RecoveryDecision.DeadLetter("poison order"));
            string old = leased.Job.Id;

            using RedisListJobQueue now = Queue(queue);
            await now.EnqueueAsync(Payload("{\"order\":2}"), new EnqueueOptions { MaxAttempts = 1 });
            LeasedJob recent = (await now.FetchAsync(1, TimeSpan.FromMinutes(5))).Single();
            await now.FailAsync(recent.Lease, new JobError("System.TimeoutException", "database timeout", ErrorCategory.Transient), RecoveryDecision.Retry(TimeSpan.Zero));
            return (old, recent.Job.Id);
        }
    }

    protected static byte[] Payload(string text) => Encoding.UTF8.GetBytes(text);

    protected async Task<QueueStatus> StatusAsync(string queue)
    {
        using RedisListJobQueue q = Queue(queue);
        return await q.GetStatusAsync();
    }
}
