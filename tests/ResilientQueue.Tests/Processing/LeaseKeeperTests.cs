using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.InMemory;
using ResilientQueue.Leases;
using ResilientQueue.Processing;
using Xunit;

namespace ResilientQueue.Tests.Processing;

/// <summary>
/// The lease keeper's list of jobs stays bounded by the jobs it keeps: jobs let go are dropped as new ones are added,
/// not only at its renewal pass (every 5 s with the default lease), so a fast worker does not keep every job it
/// finished meanwhile reachable.
/// </summary>
public sealed class LeaseKeeperTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 5, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Add_JobsLetGoBeforeThePass_AreDroppedAsMoreAreAdded()
    {
        LeaseKeeper keeper = NewKeeper();
        for (int batch = 0; batch < 1_000; batch++)
        {
            TrackedJob[] jobs = NewJobs(100, batch);
            keeper.Add(jobs);
            foreach (TrackedJob job in jobs)
            {
                job.Finish();
            }
        }

        // 100,000 jobs added and let go, no pass ran: the list holds at most the last few batches.
        keeper.Count.Should().BeLessThanOrEqualTo(2 * (LeaseKeeper.MinCompactAt + 100));
    }

    [Fact]
    public void Add_JobsStillKept_AreNeverDropped()
    {
        LeaseKeeper keeper = NewKeeper();
        using var slot = new JobSlot(TimeProvider.System, CancellationToken.None);
        var kept = new List<TrackedJob>();
        var running = new List<TrackedJob>();
        for (int batch = 0; batch < 100; batch++)
        {
            TrackedJob[] jobs = NewJobs(50, batch);
            keeper.Add(jobs);
            kept.Add(jobs[0]); // held: still in the buffer
            jobs[1].TryStart(slot, renewUntil: long.MaxValue).Should().BeTrue(); // running
            kept.Add(jobs[1]);
            running.Add(jobs[1]);
            foreach (TrackedJob job in jobs.Skip(2))
            {
                job.Finish();
            }
        }

        keeper.Count.Should().BeGreaterThanOrEqualTo(kept.Count, "a held or running job must stay kept, whatever was let go around it");
        keeper.Running().Should().BeEquivalentTo(running, o => o.WithStrictOrdering(), "every running job is still renewed");
        keeper.Count.Should().BeLessThanOrEqualTo(2 * (kept.Count + 50) + LeaseKeeper.MinCompactAt);
    }

    private static LeaseKeeper NewKeeper()
    {
        var clock = new FakeTimeProvider(Start);
        return new LeaseKeeper(new InMemoryJobQueue("keeper", timeProvider: clock), new JobWorkerOptions(), clock, NullLogger.Instance);
    }

    private static TrackedJob[] NewJobs(int count, int batch) =>
        [.. Enumerable.Range(0, count).Select(i => new TrackedJob(NewLeased($"{batch}-{i}"), leaseSetAt: 0))];

    private static LeasedJob NewLeased(string id) => new(
        new Job { Id = id, Queue = "keeper", Payload = ReadOnlyMemory<byte>.Empty, State = JobState.Active, MaxAttempts = 3, EnqueuedAt = Start, AvailableAt = Start },
        new JobLease(id, "token-" + id, Start.AddSeconds(30), 1, 3));
}
