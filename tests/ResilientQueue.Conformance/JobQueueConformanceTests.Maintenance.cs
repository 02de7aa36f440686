using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;

namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task Turn_OfTwentyConcurrentClaims_ExactlyOneWins_AndTheNextTurnCanBeClaimedWhenItPasses()
    {
        IJobQueue queue = await NewQueueAsync();
        using var start = new SemaphoreSlim(0);
        Task<bool>[] claims = Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            await start.WaitAsync();
            return await queue.TryClaimTurnAsync("reaper", $"process-{i}", TimeSpan.FromSeconds(30));
        })).ToArray();
        start.Release(20);

        (await Task.WhenAll(claims)).Count(c => c).Should().Be(1);
        Time.Advance(TimeSpan.FromSeconds(29));
        (await queue.TryClaimTurnAsync("reaper", "late", TimeSpan.FromSeconds(30))).Should().BeFalse("the turn is not over");
        (await queue.TryClaimTurnAsync("other-work", "late", TimeSpan.FromSeconds(30))).Should().BeTrue("turns are per name");
        Time.Advance(TimeSpan.FromSeconds(1));
        (await queue.TryClaimTurnAsync("reaper", "next", TimeSpan.FromSeconds(30))).Should().BeTrue("the turn passed");
    }

    [Fact]
    public async Task Turn_WithABadNameOrLength_Throws()
    {
        IJobQueue queue = await NewQueueAsync();
        await FluentActions.Awaiting(() => queue.TryClaimTurnAsync("has space", "me", TimeSpan.FromSeconds(1)).AsTask()).Should().ThrowAsync<ArgumentException>();
        await FluentActions.Awaiting(() => queue.TryClaimTurnAsync("reaper", "me", TimeSpan.Zero).AsTask()).Should().ThrowAsync<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task DeadLetter_RequeueMany_RequeuesEveryMatchingEntryOnce()
    {
        IJobQueue queue = await NewQueueAsync();
        var validation = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            validation.Add(await DeadLetterAsync(queue, $"v{i}", ErrorCategory.Validation));
        }

        string auth = await DeadLetterAsync(queue, "a", ErrorCategory.Auth);

        RequeueSummary summary = await queue.DeadLetters.RequeueManyAsync(new DeadLetterQuery { Category = ErrorCategory.Validation, Limit = 2 }, resetAttempts: true);

        summary.Should().Be(new RequeueSummary(5, 0, 0));
        (await queue.DeadLetters.CountAsync()).Should().Be(1);
        (await queue.DeadLetters.GetAsync(auth)).Should().NotBeNull();
        foreach (string id in validation)
        {
            Job job = (await queue.GetJobAsync(id))!;
            job.State.Should().Be(JobState.Ready);
            job.Attempts.Should().Be(0);
        }
    }
}
