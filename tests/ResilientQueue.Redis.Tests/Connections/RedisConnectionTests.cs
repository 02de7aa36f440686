using System.Collections.Concurrent;
using System.Diagnostics;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Processing;
using ResilientQueue.Redis.DependencyInjection;
using ResilientQueue.Redis.Lists;
using ResilientQueue.Redis.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace ResilientQueue.Redis.Tests.Connections;

/// <summary>
/// The connection the library opens itself (<c>UseRedisLists("…")</c>, <see cref="RedisListJobQueue.ConnectAsync"/>):
/// ACL users, refused credentials reported as such, a host that starts before Redis, and recovery after an outage.
/// </summary>
[Collection(RedisCollection.Name)]
public sealed class RedisConnectionTests(RedisServerFixture redis, ITestOutputHelper output) : RedisTestBase(redis)
{
    private const string AclUser = "resq-acl-app";
    private const string AclPassword = "acl-s3cret-value";
    private const string WrongPassword = "not-the-acl-password";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly string _queue = "conn-" + Guid.NewGuid().ToString("N")[..8];
    private ServiceProvider? _services;

    /// <summary>Flushes the server and creates the ACL user the tests connect as (ACL users survive FLUSHALL; removed in <see cref="DisposeAsync"/>).</summary>
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Database.ExecuteAsync("ACL", "SETUSER", AclUser, "reset", "on", ">" + AclPassword, "~*", "&*", "+@all");
    }

    public override async Task DisposeAsync()
    {
        if (_services is not null)
        {
            foreach (IHostedService worker in _services.GetServices<IHostedService>())
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await worker.StopAsync(deadline.Token);
            }

            await _services.DisposeAsync();
        }

        await RedisServerProbe.PingUntilReconnectedAsync(Database, Patience);
        await Database.ExecuteAsync("ACL", "DELUSER", AclUser);
    }

    [Fact]
    public async Task UseRedisLists_AclUserAndPassword_ConsumesJobs()
    {
        Recorder recorder = await StartWorkerAsync(AclConfiguration(AclPassword));

        await Producer().EnqueueObjectAsync(new Ping(1));

        await EventuallyAsync(() => recorder.Runs.Count == 1, "the worker connected as the ACL user runs the job");
        (await HealthAsync()).Status.Should().Be(HealthStatus.Healthy);
        string? clients = (string?)await Database.ExecuteAsync("CLIENT", "LIST");
        clients.Should().Contain($"user={AclUser}", "the library's own connection authenticated as the ACL user");
    }

    [Fact]
    public async Task ConnectAsync_AclUserAndPassword_EnqueuesAndFetches()
    {
        await using RedisListJobQueue queue = await RedisListJobQueue.ConnectAsync(AclConfiguration(AclPassword), _queue);

        string id = (await queue.EnqueueAsync(new byte[] { 1, 2, 3 })).JobId;

        (await queue.FetchAsync(1, TimeSpan.FromMinutes(1))).Should().ContainSingle().Which.Job.Id.Should().Be(id);
    }

    [Fact]
    public async Task UseRedisLists_WrongPassword_HostStartsAndEveryReportSaysTheCredentialsWereRejected()
    {
        // Short client timeouts so the failures surface quickly; the behaviour is the same with the defaults (5 s).
        string configuration = AclConfiguration(WrongPassword) + ",connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000";
        string expected = $"Redis at 127.0.0.1:{Redis.Port} rejected the credentials of user '{AclUser}'";

        await StartWorkerAsync(configuration); // does not throw: the connection is made in the background

        HealthReportEntry health = default;
        await EventuallyAsync(async () => (health = await HealthAsync()).Description?.Contains(expected, StringComparison.Ordinal) == true, () => $"the health check names the refused credentials (last: {health.Status}: {health.Description})");
        health.Status.Should().Be(HealthStatus.Degraded);
        health.Description.Should().NotContain(WrongPassword).And.NotContain(AclPassword);

        Func<Task> enqueue = async () => await Producer().EnqueueAsync(new byte[] { 1 });
        (await enqueue.Should().ThrowAsync<RedisConnectionException>())
            .Which.Should().Match<RedisConnectionException>(e => e.FailureType == ConnectionFailureType.AuthenticationFailure && e.Message.StartsWith(expected, StringComparison.Ordinal) && !e.Message.Contains(WrongPassword));
    }

    [Fact]
    public async Task UseRedisLists_CredentialsFixedOnTheServerLater_WorkerConsumesWithoutARestart()
    {
        const string LaterPassword = "password-the-server-learns-later";
        Recorder recorder = await StartWorkerAsync(AclConfiguration(LaterPassword) + ",connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000");
        await EventuallyAsync(async () => (await HealthAsync()).Description?.Contains("rejected the credentials", StringComparison.Ordinal) == true, "the refused credentials are reported first");

        await Database.ExecuteAsync("ACL", "SETUSER", AclUser, ">" + LaterPassword); // the operator fixes the ACL
        await EnqueueThroughAFreshConnectionAsync();

        await EventuallyAsync(() => recorder.Runs.Count == 1, "a fresh connection is tried every 5 s and accepted once the server knows the password");
        (await HealthAsync()).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task UseRedisLists_RedisStartsAfterTheHost_WorkerIsDegradedThenConsumesWithoutARestart()
    {
        SkipUnlessOwned();

        // The server goes down, the host starts while it is down, and the server comes back 3 s later.
        Task restart = Redis.RestartAsync(TimeSpan.FromSeconds(3));
        await EventuallyAsync(async () => !await AnswersPingAsync(), "the server is down");
        var clock = Stopwatch.StartNew();
        Recorder recorder = await StartWorkerAsync(Redis.Configuration);
        TimeSpan started = clock.Elapsed;
        restart.IsCompleted.Should().BeFalse($"starting the host does not wait for Redis (it took {started.TotalMilliseconds:0} ms; the server is down for 3 s)");
        HealthReportEntry health = await HealthAsync();
        health.Status.Should().Be(HealthStatus.Degraded, $"the worker has not reached Redis yet ({health.Description})");

        await restart;
        TimeSpan back = recorder.Clock.Elapsed;
        await EnqueueThroughAFreshConnectionAsync();

        await EventuallyAsync(() => recorder.Runs.Count == 1, "the worker consumes once Redis answers, without a restart");
        output.WriteLine($"server back {back.TotalSeconds:0.00} s after the host started; job ran {(recorder.Runs.Single() - back).TotalMilliseconds:0} ms later");
        await EventuallyAsync(async () => (await HealthAsync()).Status == HealthStatus.Healthy, "healthy once Redis answered");
    }

    [Fact]
    public async Task UseRedisLists_AfterAnEightSecondOutage_TheFirstJobRunsAboutASecondAfterRedisAnswers()
    {
        SkipUnlessOwned();
        Recorder recorder = await StartWorkerAsync(Redis.Configuration);
        await Producer().EnqueueObjectAsync(new Ping(1));
        await EventuallyAsync(() => recorder.Runs.Count == 1, "a job runs before the outage");

        await Redis.RestartAsync(TimeSpan.FromSeconds(8));
        TimeSpan back = recorder.Clock.Elapsed;
        await EnqueueThroughAFreshConnectionAsync();

        await EventuallyAsync(() => recorder.Runs.Count == 2, "the worker consumes again after the outage");
        TimeSpan resumedAfter = recorder.Runs.Last() - back;
        output.WriteLine($"outage ~8 s; first job after it ran {resumedAfter.TotalMilliseconds:0} ms after Redis answered");

        // About a second: the client reconnects on its 1 s heartbeat (retried every 500 ms) and the worker's fetch
        // retries are at most 1 s apart; 3 s leaves room for a loaded 2-core machine.
        resumedAfter.Should().BeLessThan(TimeSpan.FromSeconds(3));
    }

    private string AclConfiguration(string password) => $"127.0.0.1:{Redis.Port},user={AclUser},password={password}";

    private void SkipUnlessOwned()
    {
        if (!Redis.OwnsServer)
        {
            throw new InvalidOperationException($"{RedisServerFixture.ExternalServerVariable} points at an external server, which the tests may not restart.");
        }
    }

    private async Task<Recorder> StartWorkerAsync(string configuration)
    {
        var recorder = new Recorder();
        var services = new ServiceCollection();
        services.AddSingleton(recorder);
        services.AddLogging();
        services.AddHealthChecks();
        services.AddResilientQueue()
            .UseRedisLists(configuration)
            .AddHandler<RecordingHandler, Ping>(_queue, o => o.PollInterval = TimeSpan.FromMilliseconds(100));
        _services = services.BuildServiceProvider();
        recorder.Clock.Restart();
        foreach (IHostedService worker in _services.GetServices<IHostedService>())
        {
            await worker.StartAsync(CancellationToken.None);
        }

        return recorder;
    }

    private IJobQueue Producer() => _services!.GetRequiredService<IJobQueueProvider>().GetQueue(_queue);

    private async Task<HealthReportEntry> HealthAsync() =>
        (await _services!.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries[$"resilientqueue:{_queue}"];

    private async Task EnqueueThroughAFreshConnectionAsync()
    {
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(Redis.Configuration);
        await using var queue = new RedisListJobQueue(connection, _queue);
        await queue.EnqueueObjectAsync(new Ping(2));
    }

    // Whether a fresh connection gets a PONG within 1 s. Bounded as a whole: a probe caught by a server going down
    // (a container being stopped) may neither connect nor fail for many seconds, and the 3 s outage must not pass
    // unseen while one probe hangs (CI saw "Not within 20 s: the server is down" once).
    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            Task<bool> probe = PingOnceAsync();
            return await probe.WaitAsync(TimeSpan.FromSeconds(1));
        }
        catch (Exception e) when (e is RedisConnectionException or TimeoutException) // RedisTimeoutException is a TimeoutException
        {
            return false;
        }
    }

    private async Task<bool> PingOnceAsync()
    {
        using ConnectionMultiplexer probe = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{Redis.Port},abortConnect=true,connectTimeout=300,connectRetry=0,asyncTimeout=500,syncTimeout=500");
        await probe.GetDatabase().PingAsync();
        return true;
    }

    private static Task EventuallyAsync(Func<Task<bool>> condition, string because) => EventuallyAsync(condition, () => because);

    private static async Task EventuallyAsync(Func<Task<bool>> condition, Func<string> because)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > Patience)
            {
                throw new TimeoutException($"Not within {Patience.TotalSeconds} s: {because()}");
            }

            await Task.Delay(20);
        }
    }

    private static Task EventuallyAsync(Func<bool> condition, string because) => EventuallyAsync(() => Task.FromResult(condition()), because);

    public sealed record Ping(int N);

    /// <summary>When each job ran, measured from the worker's start.</summary>
    public sealed class Recorder
    {
        public Stopwatch Clock { get; } = new();

        public ConcurrentQueue<TimeSpan> Runs { get; } = new();
    }

    public sealed class RecordingHandler(Recorder recorder) : IJobHandler<Ping>
    {
        public ValueTask HandleAsync(JobContext<Ping> job, CancellationToken cancellationToken)
        {
            recorder.Runs.Enqueue(recorder.Clock.Elapsed);
            return ValueTask.CompletedTask;
        }
    }
}
