using System.Net;
using System.Text.Json;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue.Tests.Recovery;

public sealed class DefaultRecoveryStrategyTests
{
    // No jitter, so every delay is exact: 1, 2, 4, 8, 16, 16, ... seconds.
    private static readonly BackoffPolicy Backoff = BackoffPolicy.OneToSixteenSeconds;

    private readonly DefaultRecoveryStrategy _strategy = new(Backoff);

    public static TheoryData<ErrorCategory, int> RetriedCategories()
    {
        var data = new TheoryData<ErrorCategory, int>();
        foreach (ErrorCategory category in new[] { ErrorCategory.Transient, ErrorCategory.Database, ErrorCategory.Unknown, ErrorCategory.LeaseExpired })
        {
            foreach (int attempt in new[] { 1, 2, 3, 5, 9 })
            {
                data.Add(category, attempt);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RetriedCategories))]
    public void Decide_TransientDatabaseUnknownOrLeaseExpired_RetriesWithTheBackoffOfTheAttempt(ErrorCategory category, int attempt)
    {
        RecoveryDecision decision = _strategy.Decide(Arguments(new TimeoutException("slow"), new ErrorClassification(category), attempt));

        decision.Action.Should().Be(RecoveryAction.Retry);
        decision.Delay.Should().Be(Backoff.GetDelay(attempt, 0));
        decision.SpendsAttempt.Should().BeTrue();
    }

    [Fact]
    public void Decide_Retry_FollowsTheScheduleAttemptByAttempt()
    {
        Enumerable.Range(1, 6)
            .Select(attempt => _strategy.Decide(Arguments(new IOException(), new ErrorClassification(ErrorCategory.Transient), attempt)).Delay.TotalSeconds)
            .Should().Equal(1, 2, 4, 8, 16, 16);
    }

    [Fact]
    public void Decide_AttemptZero_UsesTheFirstRetryDelay()
    {
        _strategy.Decide(Arguments(new IOException(), new ErrorClassification(ErrorCategory.Transient), attempt: 0)).Delay.Should().Be(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Decide_WithoutABackoff_UsesTheDefaultPolicy()
    {
        RecoveryDecision decision = new DefaultRecoveryStrategy().Decide(Arguments(new IOException(), new ErrorClassification(ErrorCategory.Transient), attempt: 3));

        decision.Action.Should().Be(RecoveryAction.Retry);
        decision.Delay.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(4 * 0.8)).And.BeLessThanOrEqualTo(TimeSpan.FromSeconds(4));
    }

    [Fact]
    public void Decide_Validation_DeadLettersAtOnce_WithTypeNameAndMessageInTheReason()
    {
        RecoveryDecision decision = _strategy.Decide(Arguments(new JsonException("'n' is an invalid start of a value."), new ErrorClassification(ErrorCategory.Validation), attempt: 1));

        decision.Action.Should().Be(RecoveryAction.DeadLetter);
        decision.Reason.Should().Contain("JsonException: 'n' is an invalid start of a value.");
        decision.Delay.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public void Decide_RateLimitedWithRetryAfter_PausesForTheRetryAfter_WithoutSpendingAnAttempt()
    {
        RecoveryDecision decision = _strategy.Decide(Arguments(
            new RateLimitedException("429", TimeSpan.FromSeconds(30)),
            new ErrorClassification(ErrorCategory.RateLimited, TimeSpan.FromSeconds(30)),
            attempt: 4));

        decision.Action.Should().Be(RecoveryAction.Pause);
        decision.Delay.Should().Be(TimeSpan.FromSeconds(30));
        decision.SpendsAttempt.Should().BeFalse();
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 4)]
    [InlineData(7, 16)]
    public void Decide_RateLimitedWithoutRetryAfter_PausesForTheBackoffDelay(int attempt, int expectedSeconds)
    {
        RecoveryDecision decision = _strategy.Decide(Arguments(new HttpRequestException("429", null, HttpStatusCode.TooManyRequests), new ErrorClassification(ErrorCategory.RateLimited), attempt));

        decision.Action.Should().Be(RecoveryAction.Pause);
        decision.Delay.Should().Be(TimeSpan.FromSeconds(expectedSeconds));
        decision.SpendsAttempt.Should().BeFalse();
    }

    [Fact]
    public void Decide_RateLimitedWithAZeroRetryAfter_PausesForTheBackoffDelay()
    {
        RecoveryDecision decision = _strategy.Decide(Arguments(new RateLimitedException("429", TimeSpan.Zero), new ErrorClassification(ErrorCategory.RateLimited, TimeSpan.Zero), attempt: 2));

        decision.Action.Should().Be(RecoveryAction.Pause);
        decision.Delay.Should().Be(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Decide_Auth_AbortsWithoutSpendingAnAttempt_NamingTheError()
    {
        RecoveryDecision decision = _strategy.Decide(Arguments(new UnauthorizedAccessException("token expired"), new ErrorClassification(ErrorCategory.Auth), attempt: 1));

        decision.Action.Should().Be(RecoveryAction.Abort);
        decision.SpendsAttempt.Should().BeFalse();
        decision.Reason.Should().Contain("UnauthorizedAccessException: token expired");
    }

    private static RecoveryArguments Arguments(Exception exception, ErrorClassification classification, int attempt) =>
        new(exception, classification, attempt, MaxAttempts: 10);
}
