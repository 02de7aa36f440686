using ResilientQueue.Recovery;

namespace ResilientQueue.Tests.Recovery;

public sealed class RecoveryDecisionTests
{
    [Fact]
    public void Factories_SetActionDelayAndWhetherAnAttemptIsSpent()
    {
        RecoveryDecision.Retry(TimeSpan.FromSeconds(2)).Should().Match<RecoveryDecision>(d => d.Action == RecoveryAction.Retry && d.Delay == TimeSpan.FromSeconds(2) && d.SpendsAttempt);
        RecoveryDecision.RetryWithoutAttempt(TimeSpan.FromSeconds(2)).SpendsAttempt.Should().BeFalse();
        RecoveryDecision.Pause(TimeSpan.FromMinutes(1)).Should().Match<RecoveryDecision>(d => d.Action == RecoveryAction.Pause && !d.SpendsAttempt);
        RecoveryDecision.Abort("401").Should().Match<RecoveryDecision>(d => d.Action == RecoveryAction.Abort && !d.SpendsAttempt && d.Reason == "401");
        RecoveryDecision.DeadLetter("poison").Should().Match<RecoveryDecision>(d => d.Action == RecoveryAction.DeadLetter && d.Reason == "poison");
        RecoveryDecision.Skip("duplicate").Action.Should().Be(RecoveryAction.Skip);
    }

    [Fact]
    public void Factories_RejectNegativeDelays_EmptyPauses_AndMissingReasons()
    {
        FluentActions.Invoking(() => RecoveryDecision.Retry(TimeSpan.FromSeconds(-1))).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => RecoveryDecision.Pause(TimeSpan.Zero)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => RecoveryDecision.DeadLetter(" ")).Should().Throw<ArgumentException>();
        FluentActions.Invoking(() => RecoveryDecision.Abort(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Arguments_KnowTheLastAttempt()
    {
        var error = new InvalidOperationException("x");
        new RecoveryArguments(error, default, Attempt: 3, MaxAttempts: 3).IsLastAttempt.Should().BeTrue();
        new RecoveryArguments(error, default, Attempt: 2, MaxAttempts: 3).IsLastAttempt.Should().BeFalse();
    }
}
