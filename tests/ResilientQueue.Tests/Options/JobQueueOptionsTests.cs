namespace ResilientQueue.Tests.Options;

public sealed class JobQueueOptionsTests
{
    public static TheoryData<Action<JobQueueOptions>, string> OutOfRange => new()
    {
        { o => o.Capacity = 0, "JobQueueOptions.Capacity" },
        { o => o.DefaultMaxAttempts = 0, "JobQueueOptions.DefaultMaxAttempts" },
        { o => o.DefaultMaxAttempts = 1001, "JobQueueOptions.DefaultMaxAttempts" },
        { o => o.MaxPayloadBytes = 0, "JobQueueOptions.MaxPayloadBytes" },
        { o => o.CompletedRetention = -1, "JobQueueOptions.CompletedRetention" },
        { o => o.IdempotencyWindow = TimeSpan.Zero, "JobQueueOptions.IdempotencyWindow" },
        { o => o.DeadLetter = null!, "JobQueueOptions.DeadLetter" },
        { o => o.HighWatermark = 0, "JobQueueOptions.HighWatermark" },
        { o => o.HighWatermark = 1.01, "JobQueueOptions.HighWatermark" },
        { o => o.HighWatermark = double.NaN, "JobQueueOptions.HighWatermark" },
        { o => o.FullMode = (Backpressure.QueueFullMode)5, "JobQueueOptions.FullMode" },
        { o => o.FullWaitTimeout = TimeSpan.Zero, "JobQueueOptions.FullWaitTimeout" },
        { o => o.FullWaitTimeout = TimeSpan.FromHours(2), "JobQueueOptions.FullWaitTimeout" },
        { o => o.BackpressureRetryAfter = TimeSpan.FromMilliseconds(9), "JobQueueOptions.BackpressureRetryAfter" },
        { o => o.DeadLetter.MaxEntries = 0, "JobQueueOptions.DeadLetter.MaxEntries" },
        { o => o.DeadLetter.MaxAge = TimeSpan.FromSeconds(1), "JobQueueOptions.DeadLetter.MaxAge" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void Validate_RejectsEachOutOfRangeOption_NamingIt(Action<JobQueueOptions> breakIt, string option)
    {
        var options = new JobQueueOptions();
        breakIt(options);

        FluentActions.Invoking(options.Validate).Should().Throw<InvalidOptionsException>()
            .Where(e => e.OptionName == option && e.Message.StartsWith(option + ": ", StringComparison.Ordinal));
    }

    [Fact]
    public void Defaults_AreValid_AndDocumented()
    {
        var options = new JobQueueOptions();
        options.Validate();
        options.Capacity.Should().Be(1_000_000);
        options.DefaultMaxAttempts.Should().Be(5);
        options.MaxPayloadBytes.Should().Be(1024 * 1024);
        options.CompletedRetention.Should().Be(0);
        options.IdempotencyWindow.Should().Be(TimeSpan.FromHours(24));
        options.DeadLetter.MaxEntries.Should().Be(10_000);
        options.DeadLetter.MaxAge.Should().Be(TimeSpan.FromDays(14));
        options.HighWatermark.Should().Be(0.8);
        options.FullMode.Should().Be(Backpressure.QueueFullMode.Reject);
        options.FullWaitTimeout.Should().Be(TimeSpan.FromSeconds(30));
        options.BackpressureRetryAfter.Should().Be(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void ValidatedCopy_CopiesEveryProperty()
    {
        var options = new JobQueueOptions
        {
            Capacity = 7,
            HighWatermark = 0.5,
            FullMode = Backpressure.QueueFullMode.Wait,
            FullWaitTimeout = TimeSpan.FromSeconds(3),
            BackpressureRetryAfter = TimeSpan.FromSeconds(2),
            DefaultMaxAttempts = 2,
            MaxPayloadBytes = 100,
            CompletedRetention = 4,
            IdempotencyWindow = TimeSpan.FromMinutes(2),
        };

        options.ValidatedCopy().Should().BeEquivalentTo(options);
    }

    [Fact]
    public void ValidatedCopy_IsIndependentOfLaterChanges()
    {
        var options = new JobQueueOptions { Capacity = 10 };
        JobQueueOptions copy = options.ValidatedCopy();

        options.Capacity = 20;
        options.DeadLetter.MaxEntries = 5;

        copy.Capacity.Should().Be(10);
        copy.DeadLetter.MaxEntries.Should().Be(10_000);
    }

    [Theory]
    [InlineData("emails")]
    [InlineData("crawl:pages")]
    [InlineData("llm-extract_v2.eu")]
    [InlineData("hot#3")]
    public void QueueNames_AcceptsLettersDigitsAndSeparators(string name) =>
        FluentActions.Invoking(() => QueueNames.ThrowIfInvalid(name)).Should().NotThrow();

    [Fact]
    public void QueueNames_RejectsOverlongNames_WithTheLengthInTheMessage() =>
        FluentActions.Invoking(() => QueueNames.ThrowIfInvalid(new string('q', 201))).Should().Throw<ArgumentException>().WithMessage("*200*201*");
}
