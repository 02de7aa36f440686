using FluentAssertions;
using ResilientQueue.Redis.Streams;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Tests.Streams;

/// <summary>
/// The owned redis-server restarted under a stream queue: with its data (as with persistence) the group and its
/// leases are intact and consumption goes on; without (a restart with no persistence) the group is created again by
/// the next fetch and new jobs flow, no dead loop of NOGROUP errors.
/// </summary>
public sealed class RedisStreamRestartTests(RedisServerFixture redis) : StreamTestBase(redis)
{
    private static readonly TimeSpan ReconnectTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Restart_PreservingData_TheGroupAndItsLeasesSurvive_AndNothingIsLost()
    {
        OwnsServerOrThrow();
        RedisStreamJobQueue queue = Queue("workers");
        List<string> ids = await EnqueueJobsAsync(queue, 6);
        IReadOnlyList<LeasedJob> held = await queue.FetchAsync(2, Lease);

        await Redis.RestartPreservingDataAsync(TimeSpan.FromMilliseconds(200));
        await RedisServerProbe.PingUntilReconnectedAsync(Database, ReconnectTimeout);

        (await queue.AckManyAsync(held.Select(j => j.Lease).ToArray())).Should().OnlyContain(r => r == LeaseResult.Succeeded);
        List<string> rest = await DrainAsync(queue);
        rest.Should().HaveCount(4);
        Events(4102).Should().BeEmpty("the group was not lost");
        await queue.TrimAsync();
        (await StreamLengthAsync()).Should().Be(0, $"all of {string.Join(", ", ids)} were acknowledged");
    }

    [Fact]
    public async Task Restart_WithoutData_TheNextFetchCreatesTheGroupAgain_AndNewJobsFlow()
    {
        OwnsServerOrThrow();
        RedisStreamJobQueue queue = Queue("workers");
        await EnqueueJobsAsync(queue, 3);
        (await DrainAsync(queue)).Should().HaveCount(3);

        await Redis.RestartAsync(TimeSpan.FromMilliseconds(200));
        await RedisServerProbe.PingUntilReconnectedAsync(Database, ReconnectTimeout);

        IReadOnlyList<LeasedJob>? empty = null;
        for (int tries = 0; empty is null; tries++)
        {
            tries.Should().BeLessThan(100, "the queue's connection comes back");
            try
            {
                empty = await queue.FetchAsync(10, Lease);
            }
            catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException)
            {
                await Task.Delay(100);
            }
        }

        empty.Should().BeEmpty();
        await EnqueueJobsAsync(queue, 2, "after-");
        (await DrainAsync(queue)).Should().Equal("after-0", "after-1");
        Events(4101).Should().HaveCount(2, "created at first, and again on the empty server");
    }

    private void OwnsServerOrThrow()
    {
        if (!Redis.OwnsServer)
        {
            throw new InvalidOperationException($"{RedisServerFixture.ExternalServerVariable} points at an external server, which the tests may not restart.");
        }
    }
}
