using ResilientQueue.Processing;
using ResilientQueue.Recovery;

namespace ResilientQueue.Tests.Errors;

public sealed class JobWorkerOptionsTests
{
    public static TheoryData<string, Action<JobWorkerOptions>, string> Invalid => new()
    {
        { "Concurrency 0", o => o.Concurrency = 0, "JobWorkerOptions.Concurrency" },
        { "Concurrency 1001", o => o.Concurrency = 1001, "JobWorkerOptions.Concurrency" },
        { "Prefetch 0", o => o.Prefetch = 0, "JobWorkerOptions.Prefetch" },
        { "Prefetch 1001", o => o.Prefetch = 1001, "JobWorkerOptions.Prefetch" },
        { "LeaseDuration 0.5 s", o => o.LeaseDuration = TimeSpan.FromSeconds(0.5), "JobWorkerOptions.LeaseDuration" },
        { "LeaseDuration over a day", o => o.LeaseDuration = TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1), "JobWorkerOptions.LeaseDuration" },
        { "RenewInterval = LeaseDuration", o => o.RenewInterval = o.LeaseDuration, "JobWorkerOptions.RenewInterval" },
        { "RenewInterval > LeaseDuration", o => o.RenewInterval = o.LeaseDuration + TimeSpan.FromSeconds(1), "JobWorkerOptions.RenewInterval" },
        { "RenewInterval 0", o => o.RenewInterval = TimeSpan.Zero, "JobWorkerOptions.RenewInterval" },
        { "JobTimeout 0", o => o.JobTimeout = TimeSpan.Zero, "JobWorkerOptions.JobTimeout" },
        { "JobTimeout negative", o => o.JobTimeout = TimeSpan.FromSeconds(-1), "JobWorkerOptions.JobTimeout" },
        { "PollInterval 1 ms", o => o.PollInterval = TimeSpan.FromMilliseconds(1), "JobWorkerOptions.PollInterval" },
        { "PollInterval over a minute", o => o.PollInterval = TimeSpan.FromMinutes(1) + TimeSpan.FromMilliseconds(1), "JobWorkerOptions.PollInterval" },
        { "StallThreshold = PollInterval", o => o.StallThreshold = o.PollInterval, "JobWorkerOptions.StallThreshold" },
        { "StallThreshold < PollInterval", o => o.StallThreshold = o.PollInterval / 2, "JobWorkerOptions.StallThreshold" },
        { "StatusInterval 99 ms", o => o.StatusInterval = TimeSpan.FromMilliseconds(99), "JobWorkerOptions.StatusInterval" },
        { "StatusInterval over an hour", o => o.StatusInterval = TimeSpan.FromHours(1) + TimeSpan.FromMilliseconds(1), "JobWorkerOptions.StatusInterval" },
        { "Backoff null", o => o.Backoff = null!, "JobWorkerOptions.Backoff" },
        { "empty QueueName", o => o.QueueName = string.Empty, "JobWorkerOptions.QueueName" },
        { "QueueName with a space", o => o.QueueName = "my queue", "JobWorkerOptions.QueueName" },
        { "AdaptiveConcurrency MinLimit 0", o => o.AdaptiveConcurrency = new() { MinLimit = 0 }, "JobWorkerOptions.AdaptiveConcurrency.MinLimit" },
        { "AdaptiveConcurrency MaxLimit 1001", o => o.AdaptiveConcurrency = new() { MaxLimit = 1001 }, "JobWorkerOptions.AdaptiveConcurrency.MaxLimit" },
        { "ConcurrencyKey without AdaptiveConcurrency", o => o.ConcurrencyKey = _ => "k", "JobWorkerOptions.ConcurrencyKey" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_OneInvalidOption_ReportsExactlyOneProblemNamingIt(string scenario, Action<JobWorkerOptions> breakIt, string option)
    {
        JobWorkerOptions options = Valid();
        breakIt(options);

        Problems(options).Should().ContainSingle(scenario).Which.Should().StartWith(option + ": ");
        FluentActions.Invoking(options.Validate).Should().Throw<InvalidOptionsException>(scenario).Which.OptionName.Should().Be(option);
    }

    [Fact]
    public void Validate_SeveralInvalidOptions_ReportsEachOfThem()
    {
        var options = new JobWorkerOptions { QueueName = "", Concurrency = 0, Prefetch = 0, PollInterval = TimeSpan.FromMilliseconds(1) };

        Problems(options).Should().HaveCount(4)
            .And.Contain(p => p.StartsWith("JobWorkerOptions.QueueName", StringComparison.Ordinal))
            .And.Contain(p => p.StartsWith("JobWorkerOptions.Concurrency", StringComparison.Ordinal))
            .And.Contain(p => p.StartsWith("JobWorkerOptions.Prefetch", StringComparison.Ordinal))
            .And.Contain(p => p.StartsWith("JobWorkerOptions.PollInterval", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_Defaults_AreValid_OnceTheQueueIsNamed()
    {
        var options = new JobWorkerOptions { QueueName = "emails" };

        Problems(options).Should().BeEmpty();
        FluentActions.Invoking(options.Validate).Should().NotThrow();
        options.Concurrency.Should().Be(10);
        options.Prefetch.Should().BeNull();
        options.LeaseDuration.Should().Be(TimeSpan.FromSeconds(30));
        options.RenewInterval.Should().BeNull();
        options.JobTimeout.Should().BeNull();
        options.PollInterval.Should().Be(TimeSpan.FromSeconds(1));
        options.StallThreshold.Should().BeNull();
        options.Backoff.Should().BeSameAs(BackoffPolicy.Default);
    }

    public static TheoryData<string, Action<JobWorkerOptions>> Boundaries => new()
    {
        { "Concurrency 1", o => o.Concurrency = 1 },
        { "Concurrency 1000", o => o.Concurrency = 1000 },
        { "Prefetch 1", o => o.Prefetch = 1 },
        { "Prefetch 1000", o => o.Prefetch = 1000 },
        { "LeaseDuration 1 s", o => o.LeaseDuration = TimeSpan.FromSeconds(1) },
        { "LeaseDuration 1 day", o => o.LeaseDuration = TimeSpan.FromDays(1) },
        { "RenewInterval just under LeaseDuration", o => o.RenewInterval = o.LeaseDuration - TimeSpan.FromMilliseconds(1) },
        { "JobTimeout 1 ms", o => o.JobTimeout = TimeSpan.FromMilliseconds(1) },
        { "PollInterval 10 ms", o => o.PollInterval = TimeSpan.FromMilliseconds(10) },
        { "PollInterval 1 minute", o => o.PollInterval = TimeSpan.FromMinutes(1) },
        { "StatusInterval 100 ms", o => o.StatusInterval = TimeSpan.FromMilliseconds(100) },
        { "StatusInterval 1 hour", o => o.StatusInterval = TimeSpan.FromHours(1) },
        { "StallThreshold just over PollInterval", o => o.StallThreshold = o.PollInterval + TimeSpan.FromMilliseconds(1) },
    };

    [Theory]
    [MemberData(nameof(Boundaries))]
    public void Validate_ValuesAtTheBoundaries_AreValid(string scenario, Action<JobWorkerOptions> setIt)
    {
        JobWorkerOptions options = Valid();
        setIt(options);

        Problems(options).Should().BeEmpty(scenario);
    }

    private static JobWorkerOptions Valid() => new() { QueueName = "worker-options" };

    /// <summary>Every problem, as DI reports them at start-up: <c>Option: what is wrong</c>.</summary>
    private static List<string> Problems(JobWorkerOptions options) => options.Problems().Select(p => $"{p.Option}: {p.Message}").ToList();
}
