using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Conformance;

public abstract partial class JobQueueConformanceTests
{
    [Fact]
    public async Task DeadLetter_Requeue_MakesTheJobReady_KeepingItsAttempts_SoItGetsOneMoreAttempt()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await EnqueueAsync(queue, "exhausted", new EnqueueOptions { MaxAttempts = 1 });
        LeasedJob leased = await FetchOneAsync(queue);
        await queue.FailAsync(leased.Lease, Error(), RecoveryDecision.Retry(TimeSpan.Zero));
        (await queue.GetJobAsync(id))!.State.Should().Be(JobState.Dead);

        (await queue.DeadLetters.RequeueAsync(id)).Should().Be(RequeueResult.Requeued);

        (await queue.DeadLetters.GetAsync(id)).Should().BeNull();
        LeasedJob again = await FetchOneAsync(queue);
        again.Job.Attempts.Should().Be(2);
        await queue.FailAsync(again.Lease, Error(), RecoveryDecision.Retry(TimeSpan.Zero));
        (await queue.GetJobAsync(id))!.State.Should().Be(JobState.Dead, "the extra attempt was the only one");
    }

    [Fact]
    public async Task DeadLetter_RequeueWithReset_GivesAllAttemptsAgain()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await DeadLetterAsync(queue, "reset me");

        (await queue.DeadLetters.RequeueAsync(id, resetAttempts: true)).Should().Be(RequeueResult.Requeued);

        (await queue.GetJobAsync(id))!.Attempts.Should().Be(0);
        (await FetchOneAsync(queue)).Job.Attempts.Should().Be(1);
    }

    [Fact]
    public async Task DeadLetter_Requeue_ExactlyOneOf50ConcurrentCallersWins()
    {
        IJobQueue queue = await NewQueueAsync();
        string id = await DeadLetterAsync(queue, "contended");
        using var start = new SemaphoreSlim(0);

        Task<RequeueResult>[] callers = Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            await start.WaitAsync();
            return await queue.DeadLetters.RequeueAsync(id);
        })).ToArray();
        start.Release(50);
        RequeueResult[] results = await Task.WhenAll(callers);

        results.Count(r => r == RequeueResult.Requeued).Should().Be(1);
        results.Count(r => r == RequeueResult.NotDeadLettered).Should().Be(49);
        ShouldCount(await StatusAsync(queue), ready: 1);
    }

    [Fact]
    public async Task DeadLetter_Requeue_OfAnUnknownOrLiveJob_SaysSo_AndChangesNothing()
    {
        IJobQueue queue = await NewQueueAsync();
        string live = await EnqueueAsync(queue, "live");

        (await queue.DeadLetters.RequeueAsync("00000000000000000000000000000000")).Should().Be(RequeueResult.NotFound);
        (await queue.DeadLetters.RequeueAsync(live)).Should().Be(RequeueResult.NotDeadLettered);

        ShouldCount(await StatusAsync(queue), ready: 1);
    }

    [Fact]
    public async Task DeadLetter_RequeueAtCapacity_IsRejected_AndTheEntryStays()
    {
        IJobQueue queue = await NewQueueAsync(o => o.Capacity = 1);
        string id = await DeadLetterAsync(queue, "waiting");
        await EnqueueAsync(queue, "fills the queue");

        await FluentActions.Awaiting(() => queue.DeadLetters.RequeueAsync(id).AsTask()).Should().ThrowAsync<QueueFullException>();

        (await queue.DeadLetters.GetAsync(id)).Should().NotBeNull();
        ShouldCount(await StatusAsync(queue), ready: 1, dead: 1);
    }

    [Fact]
    public async Task DeadLetter_List_IsNewestFirst_AndPagesWithoutGapsOrRepeats()
    {
        IJobQueue queue = await NewQueueAsync();
        var ids = new List<string>();
        for (int i = 0; i < 25; i++)
        {
            ids.Add(await DeadLetterAsync(queue, $"d{i}"));
            if (i % 3 == 0)
            {
                Time.Advance(TimeSpan.FromMilliseconds(5)); // some entries share a timestamp, some do not
            }
        }

        var listed = new List<string>();
        var pageSizes = new List<int>();
        string? cursor = null;
        do
        {
            DeadLetterPage page = await queue.DeadLetters.ListAsync(new DeadLetterQuery { Limit = 10, Cursor = cursor });
            pageSizes.Add(page.Entries.Count);
            listed.AddRange(page.Entries.Select(e => e.Job.Id));
            cursor = page.NextCursor;
        }
        while (cursor is not null);

        pageSizes.Should().Equal(10, 10, 5);
        listed.Should().OnlyHaveUniqueItems().And.BeEquivalentTo(ids);
        var listedAt = new List<DateTimeOffset>();
        foreach (string id in listed)
        {
            listedAt.Add((await queue.DeadLetters.GetAsync(id))!.DeadLetteredAt);
        }

        listedAt.Should().BeInDescendingOrder();
    }

    [Fact]
    public async Task DeadLetter_List_FiltersByCategoryAndAge()
    {
        IJobQueue queue = await NewQueueAsync();
        string oldValidation = await DeadLetterAsync(queue, "old", ErrorCategory.Validation);
        string oldAuth = await DeadLetterAsync(queue, "old auth", ErrorCategory.Auth);
        Time.Advance(TimeSpan.FromHours(2));
        string newValidation = await DeadLetterAsync(queue, "new", ErrorCategory.Validation);

        DeadLetterPage validation = await queue.DeadLetters.ListAsync(new DeadLetterQuery { Category = ErrorCategory.Validation });
        validation.Entries.Select(e => e.Job.Id).Should().Equal(newValidation, oldValidation);

        DeadLetterPage old = await queue.DeadLetters.ListAsync(new DeadLetterQuery { OlderThan = TimeSpan.FromHours(1) });
        old.Entries.Select(e => e.Job.Id).Should().BeEquivalentTo([oldValidation, oldAuth]);
        old.NextCursor.Should().BeNull();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public async Task DeadLetter_List_WithALimitOutOfRange_Throws(int limit)
    {
        IJobQueue queue = await NewQueueAsync();
        await FluentActions.Awaiting(() => queue.DeadLetters.ListAsync(new DeadLetterQuery { Limit = limit }).AsTask())
            .Should().ThrowAsync<InvalidOptionsException>().WithMessage("*DeadLetterQuery.Limit*1000*");
    }

    [Fact]
    public async Task DeadLetter_List_WithAForeignCursor_Throws()
    {
        IJobQueue queue = await NewQueueAsync();
        await FluentActions.Awaiting(() => queue.DeadLetters.ListAsync(new DeadLetterQuery { Cursor = "not a cursor" }).AsTask())
            .Should().ThrowAsync<InvalidOptionsException>().WithMessage("*Cursor*");
    }

    [Fact]
    public async Task DeadLetter_PurgeById_DeletesOnlyThatEntry()
    {
        IJobQueue queue = await NewQueueAsync();
        string a = await DeadLetterAsync(queue, "a");
        string b = await DeadLetterAsync(queue, "b");

        (await queue.DeadLetters.PurgeAsync(a)).Should().BeTrue();
        (await queue.DeadLetters.PurgeAsync(a)).Should().BeFalse();

        (await queue.GetJobAsync(a)).Should().BeNull();
        (await queue.DeadLetters.GetAsync(b)).Should().NotBeNull();
        (await queue.DeadLetters.CountAsync()).Should().Be(1);
    }

    [Fact]
    public async Task DeadLetter_PurgeOlderThan_DeletesOnlyOldEntries()
    {
        IJobQueue queue = await NewQueueAsync();
        await DeadLetterAsync(queue, "old-1");
        await DeadLetterAsync(queue, "old-2");
        Time.Advance(TimeSpan.FromDays(2));
        string recent = await DeadLetterAsync(queue, "recent");

        (await queue.DeadLetters.PurgeOlderThanAsync(TimeSpan.FromDays(1))).Should().Be(2);

        (await queue.DeadLetters.CountAsync()).Should().Be(1);
        (await queue.DeadLetters.GetAsync(recent)).Should().NotBeNull();
    }

    [Fact]
    public async Task DeadLetter_PurgeAll_DeletesEveryEntry_AndNothingElse()
    {
        IJobQueue queue = await NewQueueAsync();
        await DeadLetterAsync(queue, "a");
        await DeadLetterAsync(queue, "b");
        await EnqueueAsync(queue, "alive");

        (await queue.DeadLetters.PurgeAllAsync()).Should().Be(2);

        ShouldCount(await StatusAsync(queue), ready: 1);
    }

    [Fact]
    public async Task DeadLetter_OverMaxEntries_TrimsTheOldest_AndCountsAndLogsEveryTrim()
    {
        using var trims = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.deadletter.trimmed");
        IJobQueue queue = await NewQueueAsync(o => o.DeadLetter.MaxEntries = 3);
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            ids.Add(await DeadLetterAsync(queue, $"d{i}"));
            Time.Advance(TimeSpan.FromSeconds(1));
        }

        QueueStatus status = await StatusAsync(queue);
        status.Dead.Should().Be(3);
        status.DeadLetterTrimmed.Should().Be(2);
        (await queue.DeadLetters.GetAsync(ids[0])).Should().BeNull();
        (await queue.DeadLetters.GetAsync(ids[1])).Should().BeNull();
        (await queue.DeadLetters.GetAsync(ids[2])).Should().NotBeNull();
        trims.Sum(("messaging.destination.name", queue.Name), ("reason", "count")).Should().Be(2);
        FakeLogRecord[] logged = Logs.Events(1001);
        logged.Should().HaveCount(2, "each trim is logged once");
        for (int i = 0; i < 2; i++)
        {
            logged[i].ShouldBeEvent(1001, LogLevel.Warning, TrimmedFields(queue, ids[i], "count", Time.Start + TimeSpan.FromSeconds(i), $"poison d{i}"));
        }
    }

    [Fact]
    public async Task DeadLetter_OlderThanMaxAge_IsTrimmedWhenTheNextEntryArrives_AndCountedAndLogged()
    {
        using var trims = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.deadletter.trimmed");
        IJobQueue queue = await NewQueueAsync(o => o.DeadLetter.MaxAge = TimeSpan.FromDays(1));
        string old = await DeadLetterAsync(queue, "old");
        Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));

        string fresh = await DeadLetterAsync(queue, "fresh");

        (await queue.DeadLetters.GetAsync(old)).Should().BeNull();
        (await queue.DeadLetters.GetAsync(fresh)).Should().NotBeNull();
        (await StatusAsync(queue)).DeadLetterTrimmed.Should().Be(1);
        trims.Sum(("messaging.destination.name", queue.Name), ("reason", "age")).Should().Be(1);
        Logs.Events(1001).Should().ContainSingle("the one trim is logged")
            .Which.ShouldBeEvent(1001, LogLevel.Warning, TrimmedFields(queue, old, "age", Time.Start, "poison old"));
    }

    /// <summary>The fields of event 1001 (docs/telemetry.md): the queue, the trimmed job, the bound, when and why it was dead-lettered.</summary>
    private static Dictionary<string, string?> TrimmedFields(IJobQueue queue, string jobId, string trimReason, DateTimeOffset deadAt, string deadReason) => new()
    {
        ["Queue"] = queue.Name,
        ["JobId"] = jobId,
        ["TrimReason"] = trimReason,
        ["DeadAt"] = TelemetryAssertions.Invariant(deadAt),
        ["DeadReason"] = deadReason,
    };
}
