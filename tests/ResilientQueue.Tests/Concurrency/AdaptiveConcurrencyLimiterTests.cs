using System.Threading.RateLimiting;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.Concurrency;

namespace ResilientQueue.Tests.Concurrency;

public sealed class AdaptiveConcurrencyLimiterTests
{
    private readonly FakeTimeProvider _time = new();

    public static TheoryData<Action<AdaptiveConcurrencyLimiterOptions>, string> InvalidOptions => new()
    {
        { o => o.MinLimit = 0, "AdaptiveConcurrencyLimiterOptions.MinLimit" },
        { o => o.MaxLimit = 10_001, "AdaptiveConcurrencyLimiterOptions.MaxLimit" },
        { o => { o.MinLimit = 5; o.MaxLimit = 4; o.InitialLimit = 4; }, "AdaptiveConcurrencyLimiterOptions.MaxLimit" },
        { o => o.InitialLimit = 101, "AdaptiveConcurrencyLimiterOptions.InitialLimit" },
        { o => o.InitialLimit = 0, "AdaptiveConcurrencyLimiterOptions.InitialLimit" },
        { o => o.QueueLimit = -1, "AdaptiveConcurrencyLimiterOptions.QueueLimit" },
        { o => o.QueueProcessingOrder = (QueueProcessingOrder)7, "AdaptiveConcurrencyLimiterOptions.QueueProcessingOrder" },
        { o => o.Algorithm = (ConcurrencyLimitAlgorithm)7, "AdaptiveConcurrencyLimiterOptions.Algorithm" },
        { o => o.BackoffRatio = 1, "AdaptiveConcurrencyLimiterOptions.BackoffRatio" },
        { o => o.BackoffRatio = double.NaN, "AdaptiveConcurrencyLimiterOptions.BackoffRatio" },
        { o => o.Tolerance = 0.9, "AdaptiveConcurrencyLimiterOptions.Tolerance" },
        { o => o.Smoothing = 0, "AdaptiveConcurrencyLimiterOptions.Smoothing" },
        { o => o.LongWindow = 9, "AdaptiveConcurrencyLimiterOptions.LongWindow" },
        { o => o.Headroom = -1, "AdaptiveConcurrencyLimiterOptions.Headroom" },
        { o => o.Name = string.Empty, "AdaptiveConcurrencyLimiterOptions.Name" },
        { o => o.LatencyThreshold = 1.0, "AdaptiveConcurrencyLimiterOptions.LatencyThreshold" },
        { o => o.LatencyThreshold = 101, "AdaptiveConcurrencyLimiterOptions.LatencyThreshold" },
        { o => o.LatencyThreshold = double.NaN, "AdaptiveConcurrencyLimiterOptions.LatencyThreshold" },
        { o => o.QueueAllowance = -0.1, "AdaptiveConcurrencyLimiterOptions.QueueAllowance" },
        { o => o.QueueAllowance = 11, "AdaptiveConcurrencyLimiterOptions.QueueAllowance" },
        { o => o.QueueAllowance = double.NaN, "AdaptiveConcurrencyLimiterOptions.QueueAllowance" },
        { o => o.ProbeInterval = 9, "AdaptiveConcurrencyLimiterOptions.ProbeInterval" },
        { o => o.ProbeInterval = 100_001, "AdaptiveConcurrencyLimiterOptions.ProbeInterval" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Constructor_InvalidOption_ThrowsNamingIt(Action<AdaptiveConcurrencyLimiterOptions> change, string option)
    {
        var options = new AdaptiveConcurrencyLimiterOptions();
        change(options);

        var act = () => new AdaptiveConcurrencyLimiter(options);

        act.Should().Throw<InvalidOptionsException>().Which.OptionName.Should().Be(option);
    }

    [Fact]
    public void Options_Defaults_AreTheDocumentedOnes()
    {
        var options = new AdaptiveConcurrencyLimiterOptions();

        options.Algorithm.Should().Be(ConcurrencyLimitAlgorithm.Aimd);
        options.LatencyThreshold.Should().Be(1.1);
        options.QueueAllowance.Should().Be(0.1);
        options.ProbeInterval.Should().Be(100);
        options.Smoothing.Should().Be(0.2);
        FluentActions.Invoking(() => new AdaptiveConcurrencyLimiterOptions { LatencyThreshold = null }.Validate()).Should().NotThrow("null turns AIMD's latency signal off");
    }

    [Fact]
    public void Constructor_CopiesOptions_LaterChangesDoNotReachIt()
    {
        var options = new AdaptiveConcurrencyLimiterOptions { InitialLimit = 3, MaxLimit = 5 };
        using var limiter = new AdaptiveConcurrencyLimiter(options, _time);

        options.InitialLimit = 50;
        options.MaxLimit = 100;

        limiter.CurrentLimit.Should().Be(3);
        var act = () => limiter.AttemptAcquire(6);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("permitCount");
    }

    [Fact]
    public void AttemptAcquire_AtLimit_RejectsWithReasonPhrase()
    {
        using var limiter = Create(initial: 2);
        using var a = limiter.AttemptAcquire();
        using var b = limiter.AttemptAcquire();

        using var c = limiter.AttemptAcquire();

        a.IsAcquired.Should().BeTrue();
        b.IsAcquired.Should().BeTrue();
        c.IsAcquired.Should().BeFalse();
        c.TryGetMetadata(MetadataName.ReasonPhrase, out string? reason).Should().BeTrue();
        reason.Should().Be("Concurrency limit reached: 2 of 2 permits in use and 0 of 0 queued; 1 requested.");
        c.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan _).Should().BeFalse("no latency has been observed yet");
        limiter.GetStatistics()!.TotalFailedLeases.Should().Be(1);
    }

    [Fact]
    public void AttemptAcquire_AtLimitAfterLatenciesAreKnown_RetryAfterEstimatesWhenAPermitFrees()
    {
        using var limiter = Create(initial: 4, max: 4);
        for (int i = 0; i < 3; i++)
        {
            var sample = limiter.AttemptAcquire();
            _time.Advance(TimeSpan.FromMilliseconds(400));
            sample.Dispose();
        }

        var held = Enumerable.Range(0, 4).Select(_ => limiter.AttemptAcquire()).ToList();
        using var rejected = limiter.AttemptAcquire();

        // 4 leases of about 400 ms each in flight: one ends about every 100 ms.
        rejected.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter).Should().BeTrue();
        retryAfter.Should().Be(TimeSpan.FromMilliseconds(100));
        rejected.MetadataNames.Should().BeEquivalentTo(MetadataName.ReasonPhrase.Name, MetadataName.RetryAfter.Name);
        held.ForEach(l => l.Dispose());
    }

    [Fact]
    public void Drop_ShrinksByBackoffRatio_OncePerCongestionEvent()
    {
        using var limiter = Create(initial: 10);
        var leases = Enumerable.Range(0, 10).Select(_ => (AdaptiveConcurrencyLease)limiter.AttemptAcquire()).ToList();

        foreach (var lease in leases)
        {
            lease.Record(ConcurrencyOutcome.Drop);
            lease.Dispose();
        }

        limiter.CurrentLimit.Should().Be(9, "ten drops of calls that all started before the decrease are one congestion event");
        limiter.TotalDrops.Should().Be(10);

        var later = (AdaptiveConcurrencyLease)limiter.AttemptAcquire();
        later.Record(ConcurrencyOutcome.Drop);
        later.Dispose();

        limiter.CurrentLimit.Should().Be(8, "a call started after the decrease that drops is a new event: 9 x 0.9 = 8.1");
    }

    [Fact]
    public void Success_Aimd_GrowsByOnePerBusyWindow()
    {
        using var limiter = Create(initial: 4);
        var leases = Enumerable.Range(0, 4).Select(_ => limiter.AttemptAcquire()).ToList();

        leases.ForEach(l => l.Dispose());

        limiter.CurrentLimit.Should().Be(5);
    }

    [Fact]
    public void Ignore_FreesPermitsWithoutFeedback()
    {
        using var limiter = Create(initial: 4);
        var leases = Enumerable.Range(0, 4).Select(_ => (AdaptiveConcurrencyLease)limiter.AttemptAcquire()).ToList();

        foreach (var lease in leases)
        {
            lease.Record(ConcurrencyOutcome.Ignore);
            lease.Dispose();
        }

        limiter.CurrentLimit.Should().Be(4);
        limiter.InFlight.Should().Be(0);
        limiter.TotalDrops.Should().Be(0);
    }

    [Fact]
    public void Gradient_LatencyFarAboveBaseline_ShrinksLimit()
    {
        using var limiter = Create(initial: 20, algorithm: ConcurrencyLimitAlgorithm.Gradient);
        for (int window = 0; window < 12; window++)
        {
            RunWindow(limiter, 20, TimeSpan.FromMilliseconds(100));
        }

        int settled = limiter.CurrentLimit;
        for (int window = 0; window < 5; window++)
        {
            RunWindow(limiter, limiter.CurrentLimit, TimeSpan.FromMilliseconds(400));
        }

        limiter.CurrentLimit.Should().BeLessThan(settled);
    }

    [Fact]
    public void Probe_FirstWindow_LowersTheLimitToThreeQuartersOfIt_AndRestoresItWhenMeasured()
    {
        using var limiter = Create(initial: 20, algorithm: ConcurrencyLimitAlgorithm.Vegas);

        RunWindow(limiter, 20, TimeSpan.FromMilliseconds(100));

        limiter.CurrentLimit.Should().Be(15, "the first window starts a probe at three quarters of the limit");
        WarmUp(limiter, TimeSpan.FromMilliseconds(100));
        limiter.CurrentLimit.Should().BeGreaterThanOrEqualTo(20, "the probe found no queue: the limit is back, and Vegas grows while nothing queues");
    }

    [Fact]
    public void Aimd_LatencySignal_WindowSlowerThanThresholdTimesNoLoadLatency_IsADrop()
    {
        using var limiter = Create(initial: 10, algorithm: ConcurrencyLimitAlgorithm.Aimd, latencyThreshold: 1.1);
        WarmUp(limiter, TimeSpan.FromMilliseconds(100));
        int before = limiter.CurrentLimit;

        RunWindow(limiter, before, TimeSpan.FromMilliseconds(105));
        limiter.CurrentLimit.Should().Be(before + 1, "5 % slower than without a queue is under the threshold: a busy window grows the limit");

        int grown = limiter.CurrentLimit;
        RunWindow(limiter, grown, TimeSpan.FromMilliseconds(130));
        limiter.CurrentLimit.Should().Be((int)Math.Floor(grown * 0.9), "30 % slower is over 1.1 x the no-load latency: a drop");
        limiter.TotalDrops.Should().Be(0, "a latency drop shrinks the limit; it is not a reported drop");
    }

    [Fact]
    public void Aimd_WithoutLatencyThreshold_NeverProbes_AndIgnoresLatency()
    {
        using var limiter = Create(initial: 10, algorithm: ConcurrencyLimitAlgorithm.Aimd, latencyThreshold: null);

        RunWindow(limiter, 10, TimeSpan.FromMilliseconds(100));
        RunWindow(limiter, 11, TimeSpan.FromMilliseconds(1000));

        limiter.CurrentLimit.Should().Be(12);
    }

    [Fact]
    public void Vegas_QueueingWindow_MovesTheLimitTowardsTheCapacityItImpliesPlusTheAllowance()
    {
        using var limiter = Create(initial: 10, max: 40, algorithm: ConcurrencyLimitAlgorithm.Vegas);
        WarmUp(limiter, TimeSpan.FromMilliseconds(100));
        int before = limiter.CurrentLimit;

        RunWindow(limiter, before, TimeSpan.FromMilliseconds(150));

        // A third of the latency was queueing: capacity = limit x 100 / 150; target = capacity x 1.1; a fifth of the way
        // there: the limit x (1 + 0.2 x (0.733 - 1)). (The limit is fractional, CurrentLimit its floor: before to before + 1.)
        const double Factor = 1 + (0.2 * ((100.0 / 150 * 1.1) - 1));
        limiter.CurrentLimit.Should().BeInRange((int)Math.Floor(before * Factor), (int)Math.Floor((before + 1) * Factor));
    }

    [Fact]
    public void Probe_WindowTwiceTheNoLoadLatency_CutsTheLimitToTheCapacityItImplies()
    {
        using var limiter = Create(initial: 10, max: 40, algorithm: ConcurrencyLimitAlgorithm.Vegas);
        WarmUp(limiter, TimeSpan.FromMilliseconds(100));
        int before = limiter.CurrentLimit;

        // The capacity fell to a third: latency triples. The probe drains the queue and measures 100 ms again.
        RunWindow(limiter, before, TimeSpan.FromMilliseconds(300));
        limiter.CurrentLimit.Should().Be((int)Math.Floor(0.75 * before / 3), "the probe holds three quarters of the implied capacity");
        for (int round = 0; round < 4; round++)
        {
            RunWindow(limiter, limiter.CurrentLimit, TimeSpan.FromMilliseconds(100));
        }

        limiter.CurrentLimit.Should().Be((int)Math.Floor(before / 3.0), "after the probe the limit goes on from the capacity the slow window implied, not from where it was");
    }

    [Fact]
    public void Record_WithLatency_UsesTheCallersLatency()
    {
        using var limiter = Create(initial: 1, max: 1);
        var lease = (AdaptiveConcurrencyLease)limiter.AttemptAcquire();
        _time.Advance(TimeSpan.FromSeconds(10));
        lease.Record(ConcurrencyOutcome.Success, TimeSpan.FromMilliseconds(200));
        lease.Dispose();

        using var held = limiter.AttemptAcquire();
        using var rejected = limiter.AttemptAcquire();

        rejected.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter).Should().BeTrue();
        retryAfter.Should().Be(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public void Record_UndefinedOutcomeOrNegativeLatency_Throws()
    {
        using var limiter = Create(initial: 1);
        using var lease = (AdaptiveConcurrencyLease)limiter.AttemptAcquire();

        ((Action)(() => lease.Record((ConcurrencyOutcome)9))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("outcome");
        ((Action)(() => lease.Record(ConcurrencyOutcome.Success, TimeSpan.FromTicks(-1)))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("latency");
    }

    [Fact]
    public void Dispose_Twice_ReleasesOnce()
    {
        using var limiter = Create(initial: 2);
        var a = limiter.AttemptAcquire();
        using var b = limiter.AttemptAcquire();

        a.Dispose();
        a.Dispose();

        limiter.InFlight.Should().Be(1);
    }

    [Fact]
    public void AttemptAcquire_ZeroPermits_TellsWhetherAPermitIsFree()
    {
        using var limiter = Create(initial: 1);
        limiter.AttemptAcquire(0).IsAcquired.Should().BeTrue();
        using var held = limiter.AttemptAcquire();

        limiter.AttemptAcquire(0).IsAcquired.Should().BeFalse();
        limiter.InFlight.Should().Be(1);
    }

    [Fact]
    public void AttemptAcquire_SeveralPermits_CountsThemAll()
    {
        using var limiter = Create(initial: 5);
        using var three = limiter.AttemptAcquire(3);

        limiter.AttemptAcquire(3).IsAcquired.Should().BeFalse();
        limiter.GetStatistics()!.CurrentAvailablePermits.Should().Be(2);
    }

    [Fact]
    public async Task AcquireAsync_NoPermit_WaitsAndIsGrantedOnRelease()
    {
        using var limiter = Create(initial: 1, queue: 2);
        var held = limiter.AttemptAcquire();

        var waiting = limiter.AcquireAsync().AsTask();
        waiting.IsCompleted.Should().BeFalse();
        limiter.GetStatistics()!.CurrentQueuedCount.Should().Be(1);

        held.Dispose();
        using var lease = await waiting.WaitAsync(TimeSpan.FromSeconds(10));

        lease.IsAcquired.Should().BeTrue();
        limiter.GetStatistics()!.CurrentQueuedCount.Should().Be(0);
    }

    [Fact]
    public async Task AcquireAsync_OldestFirst_ServesInOrderAndRejectsWhenQueueFull()
    {
        using var limiter = Create(initial: 1, max: 1, queue: 2);
        var held = limiter.AttemptAcquire();
        var first = limiter.AcquireAsync().AsTask();
        var second = limiter.AcquireAsync().AsTask();

        using var third = await limiter.AcquireAsync();

        third.IsAcquired.Should().BeFalse();
        third.TryGetMetadata(MetadataName.ReasonPhrase, out string? reason).Should().BeTrue();
        reason.Should().Contain("2 of 2 queued");
        held.Dispose();
        var firstLease = await first.WaitAsync(TimeSpan.FromSeconds(10));
        second.IsCompleted.Should().BeFalse();
        firstLease.Dispose();
        (await second.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();
    }

    [Fact]
    public async Task AcquireAsync_NewestFirst_EvictsTheOldestWaiterWhenQueueFull()
    {
        using var limiter = Create(initial: 1, queue: 1, order: QueueProcessingOrder.NewestFirst);
        var held = limiter.AttemptAcquire();
        var oldest = limiter.AcquireAsync().AsTask();

        var newest = limiter.AcquireAsync().AsTask();

        using var evicted = await oldest.WaitAsync(TimeSpan.FromSeconds(10));
        evicted.IsAcquired.Should().BeFalse();
        evicted.TryGetMetadata(MetadataName.ReasonPhrase, out string? reason).Should().BeTrue();
        reason.Should().Contain("Evicted");
        held.Dispose();
        using var granted = await newest.WaitAsync(TimeSpan.FromSeconds(10));
        granted.IsAcquired.Should().BeTrue();
    }

    [Fact]
    public async Task AcquireAsync_Cancelled_LeavesTheQueue()
    {
        using var limiter = Create(initial: 1, queue: 1);
        using var held = limiter.AttemptAcquire();
        using var cts = new CancellationTokenSource();
        var waiting = limiter.AcquireAsync(1, cts.Token).AsTask();

        await cts.CancelAsync();

        await FluentActions.Awaiting(() => waiting).Should().ThrowAsync<OperationCanceledException>();
        limiter.GetStatistics()!.CurrentQueuedCount.Should().Be(0);
        var next = limiter.AcquireAsync().AsTask();
        next.IsCompleted.Should().BeFalse("the queue has room again, so the next request waits instead of being rejected");
        held.Dispose();
        (await next.WaitAsync(TimeSpan.FromSeconds(10))).IsAcquired.Should().BeTrue();
    }

    [Fact]
    public async Task AcquireAsync_MorePermitsThanTheCurrentLimit_IsRejectedAtOnceInsteadOfBlockingTheQueue()
    {
        using var limiter = Create(initial: 4, max: 10, queue: 20);

        using var tooLarge = await limiter.AcquireAsync(8).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        tooLarge.IsAcquired.Should().BeFalse();
        using var small = limiter.AttemptAcquire(1);
        small.IsAcquired.Should().BeTrue("nothing is left queued in front of it");
    }

    [Fact]
    public async Task Waiter_LimitShrinksBelowItsRequest_IsFailedAndTheQueueMovesOn()
    {
        using var limiter = Create(initial: 4, max: 4, queue: 20);
        var held = Enumerable.Range(0, 4).Select(_ => (AdaptiveConcurrencyLease)limiter.AttemptAcquire()).ToList();
        var big = limiter.AcquireAsync(4).AsTask();
        var small = limiter.AcquireAsync(1).AsTask();

        held[0].Record(ConcurrencyOutcome.Drop);
        held[0].Dispose(); // 4 x 0.9 = 3.6 -> limit 3, below the 4 the head waiter needs

        using var failed = await big.WaitAsync(TimeSpan.FromSeconds(10));
        failed.IsAcquired.Should().BeFalse();
        failed.TryGetMetadata(MetadataName.ReasonPhrase, out string? reason).Should().BeTrue();
        reason.Should().Be("The limit shrank to 3, below the 4 permits requested.");
        small.IsCompleted.Should().BeFalse("3 permits are still in use under a limit of 3");
        held[1].Dispose();
        using var next = await small.WaitAsync(TimeSpan.FromSeconds(10));
        next.IsAcquired.Should().BeTrue("the failed head no longer blocks the queue");
        held[2].Dispose();
        held[3].Dispose();
    }

    [Fact]
    public async Task Cancel_HeadWaiter_LetsSmallerWaitersBehindItIn()
    {
        using var limiter = Create(initial: 4, max: 4, queue: 20);
        var held = Enumerable.Range(0, 2).Select(_ => limiter.AttemptAcquire()).ToList();
        using var cts = new CancellationTokenSource();
        var head = limiter.AcquireAsync(3, cts.Token).AsTask();
        var behind = limiter.AcquireAsync(1).AsTask();
        behind.IsCompleted.Should().BeFalse("it is queued behind the 3-permit request");

        await cts.CancelAsync();

        await FluentActions.Awaiting(() => head).Should().ThrowAsync<OperationCanceledException>();
        using var lease = await behind.WaitAsync(TimeSpan.FromSeconds(10));
        lease.IsAcquired.Should().BeTrue("2 of 4 permits were free once the head left");
        held.ForEach(l => l.Dispose());
    }

    [Fact]
    public async Task Dispose_FailsWaitersAndRefusesNewRequests()
    {
        var limiter = Create(initial: 1, queue: 1);
        using var held = limiter.AttemptAcquire();
        var waiting = limiter.AcquireAsync().AsTask();

        limiter.Dispose();

        using var lease = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        lease.IsAcquired.Should().BeFalse();
        lease.TryGetMetadata(MetadataName.ReasonPhrase, out string? reason).Should().BeTrue();
        reason.Should().Be("The limiter was disposed.");
        limiter.Invoking(l => l.AttemptAcquire()).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public void IdleDuration_NullWhileInUse_ElapsedTimeWhenIdle()
    {
        using var limiter = Create(initial: 1);
        _time.Advance(TimeSpan.FromSeconds(3));
        limiter.IdleDuration.Should().Be(TimeSpan.FromSeconds(3));

        var lease = limiter.AttemptAcquire();
        limiter.IdleDuration.Should().BeNull();
        _time.Advance(TimeSpan.FromSeconds(5));
        lease.Dispose();
        _time.Advance(TimeSpan.FromSeconds(2));

        limiter.IdleDuration.Should().Be(TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void GetStatistics_CountsGrantedAndRejected()
    {
        using var limiter = Create(initial: 2);
        using var a = limiter.AttemptAcquire();
        using var b = limiter.AttemptAcquire();
        using var c = limiter.AttemptAcquire();

        var stats = limiter.GetStatistics()!;

        stats.TotalSuccessfulLeases.Should().Be(2);
        stats.TotalFailedLeases.Should().Be(1);
        stats.CurrentAvailablePermits.Should().Be(0);
    }

    [Fact]
    public void Partitioned_OneKeysDropsDoNotThrottleAnother()
    {
        using var limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.Get(key, _ => Create(initial: 10)));

        for (int round = 0; round < 10; round++)
        {
            var lease = (AdaptiveConcurrencyLease)limiter.AttemptAcquire("slow.example");
            lease.Record(ConcurrencyOutcome.Drop);
            lease.Dispose();
        }

        var slow = Enumerable.Range(0, 20).Select(_ => limiter.AttemptAcquire("slow.example")).ToList();
        var fast = Enumerable.Range(0, 20).Select(_ => limiter.AttemptAcquire("fast.example")).ToList();

        slow.Count(l => l.IsAcquired).Should().Be(3, "ten successive drops took 10 to 3 (x0.9 each, floored)");
        fast.Count(l => l.IsAcquired).Should().Be(10);
        slow.Concat(fast).ToList().ForEach(l => l.Dispose());
    }

    [Fact]
    public async Task Stress_ConcurrentAcquireRelease_InFlightNeverExceedsTheLimit()
    {
        // Successes and ignores only, and no latency signal: the limit never shrinks, so a limit read after a grant is at
        // least the limit the grant saw, and the holders counted at that moment must fit in it.
        using var limiter = new AdaptiveConcurrencyLimiter(new AdaptiveConcurrencyLimiterOptions { InitialLimit = 4, MaxLimit = 32, QueueLimit = 10_000, LatencyThreshold = null });
        int holders = 0;
        int violations = 0;
        int maxHolders = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, 20_000), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, ct) =>
        {
            using var lease = await limiter.AcquireAsync(1, ct);
            if (!lease.IsAcquired)
            {
                throw new InvalidOperationException("The queue limit is large enough for every waiter.");
            }

            int now = Interlocked.Increment(ref holders);
            InterlockedMax(ref maxHolders, now);
            if (now > limiter.CurrentLimit)
            {
                Interlocked.Increment(ref violations);
            }

            if (i % 16 == 0)
            {
                await Task.Yield();
            }

            Interlocked.Decrement(ref holders);
            ((AdaptiveConcurrencyLease)lease).Record(i % 5 == 0 ? ConcurrencyOutcome.Ignore : ConcurrencyOutcome.Success);
        });

        violations.Should().Be(0);
        maxHolders.Should().BeLessThanOrEqualTo(32);
        limiter.InFlight.Should().Be(0);
        limiter.GetStatistics()!.CurrentQueuedCount.Should().Be(0);
        limiter.GetStatistics()!.TotalSuccessfulLeases.Should().Be(20_000);
    }

    [Fact]
    public async Task Stress_WithDropsAndCancellations_LeavesNothingHeldOrQueued()
    {
        using var limiter = new AdaptiveConcurrencyLimiter(new AdaptiveConcurrencyLimiterOptions { InitialLimit = 8, MinLimit = 2, MaxLimit = 16, QueueLimit = 40 });
        int holders = 0;
        int maxHolders = 0;
        long granted = 0;
        long rejected = 0;

        await Parallel.ForEachAsync(Enumerable.Range(0, 20_000), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (i, _) =>
        {
            using var cts = new CancellationTokenSource();
            if (i % 7 == 0)
            {
                cts.CancelAfter(TimeSpan.FromMilliseconds(1));
            }

            RateLimitLease lease;
            try
            {
                lease = await limiter.AcquireAsync(1, cts.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using (lease)
            {
                if (!lease.IsAcquired)
                {
                    Interlocked.Increment(ref rejected);
                    return;
                }

                Interlocked.Increment(ref granted);
                InterlockedMax(ref maxHolders, Interlocked.Increment(ref holders));
                await Task.Yield();
                Interlocked.Decrement(ref holders);
                ((AdaptiveConcurrencyLease)lease).Record(i % 3 == 0 ? ConcurrencyOutcome.Drop : ConcurrencyOutcome.Success);
            }
        });

        maxHolders.Should().BeLessThanOrEqualTo(16);
        limiter.InFlight.Should().Be(0);
        limiter.GetStatistics()!.CurrentQueuedCount.Should().Be(0);
        limiter.CurrentLimit.Should().BeInRange(2, 16);
        limiter.GetStatistics()!.TotalSuccessfulLeases.Should().Be(granted);
        (granted + rejected).Should().BeGreaterThan(0);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    /// <summary>Windows at the given latency until the first probe (and the window after it) are over.</summary>
    private void WarmUp(AdaptiveConcurrencyLimiter limiter, TimeSpan latency)
    {
        for (int round = 0; round < 12; round++)
        {
            RunWindow(limiter, limiter.CurrentLimit, latency);
        }
    }

    private void RunWindow(AdaptiveConcurrencyLimiter limiter, int count, TimeSpan latency)
    {
        var leases = Enumerable.Range(0, count).Select(_ => limiter.AttemptAcquire()).Where(l => l.IsAcquired).ToList();
        _time.Advance(latency);
        leases.ForEach(l => l.Dispose());
    }

    /// <summary>A limiter on the test's clock; AIMD without its latency signal unless asked (these tests are about the mechanics).</summary>
    private AdaptiveConcurrencyLimiter Create(int initial, int max = 100, int queue = 0, QueueProcessingOrder order = QueueProcessingOrder.OldestFirst, ConcurrencyLimitAlgorithm algorithm = ConcurrencyLimitAlgorithm.Aimd, double? latencyThreshold = null) =>
        new(new AdaptiveConcurrencyLimiterOptions { InitialLimit = initial, MaxLimit = max, QueueLimit = queue, QueueProcessingOrder = order, Algorithm = algorithm, LatencyThreshold = latencyThreshold }, _time);
}
