using ResilientQueue.Recovery;

namespace ResilientQueue.Tests.Recovery;

public sealed class BackoffPolicyTests
{
    [Fact]
    public void OneToSixteenSeconds_ReproducesTheSeedSchedule_1_2_4_8_16_ThenStaysAt16()
    {
        Enumerable.Range(1, 7).Select(retry => BackoffPolicy.OneToSixteenSeconds.GetDelay(retry).TotalSeconds)
            .Should().Equal(1, 2, 4, 8, 16, 16, 16);
    }

    [Fact]
    public void GetDelay_IsCappedAtMaxDelay_EvenForHugeRetryNumbers()
    {
        var policy = new BackoffPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), jitterRatio: 0);
        policy.GetDelay(10, 0).Should().Be(TimeSpan.FromMinutes(5));
        policy.GetDelay(int.MaxValue, 0).Should().Be(TimeSpan.FromMinutes(5));
    }

    [Theory]
    [InlineData(0.0, 8.0)]
    [InlineData(0.5, 7.2)]
    [InlineData(0.999999, 6.4)]
    public void GetDelay_JitterRemovesUpToTheRatio(double sample, double expectedSeconds)
    {
        var policy = new BackoffPolicy(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60), jitterRatio: 0.2);
        policy.GetDelay(4, sample).TotalSeconds.Should().BeApproximately(expectedSeconds, 0.001);
    }

    [Fact]
    public void GetDelay_WithRandomJitter_StaysWithinTheBand_AndVaries()
    {
        BackoffPolicy policy = BackoffPolicy.Default;
        TimeSpan[] delays = Enumerable.Range(0, 200).Select(_ => policy.GetDelay(3)).ToArray();

        delays.Should().OnlyContain(d => d > TimeSpan.FromSeconds(3.2) - TimeSpan.FromTicks(1) && d <= TimeSpan.FromSeconds(4));
        delays.Distinct().Should().HaveCountGreaterThan(1, "jitter spreads retries out");
    }

    [Fact]
    public void GetDelay_RejectsARetryBelowOne_AndASampleOutsideTheUnitInterval()
    {
        FluentActions.Invoking(() => BackoffPolicy.Default.GetDelay(0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("retry");
        FluentActions.Invoking(() => BackoffPolicy.Default.GetDelay(1, 1.0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("jitterSample");
    }

    [Theory]
    [InlineData(0, 10, 2.0, 0.2, "BackoffPolicy.BaseDelay")]
    [InlineData(10, 5, 2.0, 0.2, "BackoffPolicy.MaxDelay")]
    [InlineData(1, 10, 0.5, 0.2, "BackoffPolicy.Multiplier")]
    [InlineData(1, 10, double.NaN, 0.2, "BackoffPolicy.Multiplier")]
    [InlineData(1, 10, 2.0, 1.5, "BackoffPolicy.JitterRatio")]
    public void Constructor_RejectsOutOfRangeOptions_NamingTheOption(int baseSeconds, int maxSeconds, double multiplier, double jitter, string option)
    {
        FluentActions.Invoking(() => new BackoffPolicy(TimeSpan.FromSeconds(baseSeconds), TimeSpan.FromSeconds(maxSeconds), multiplier, jitter))
            .Should().Throw<InvalidOptionsException>().Which.OptionName.Should().Be(option);
    }
}
