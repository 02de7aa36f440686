using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Errors;
using ResilientQueue.InMemory;
using ResilientQueue.Processing;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Tests.DependencyInjection;

public sealed class AddResilientQueueTests
{
    private static readonly byte[] Payload = [1, 2, 3];

    [Fact]
    public async Task AddResilientQueue_CalledTwice_RegistersOneProviderAndOneFactory()
    {
        var services = new ServiceCollection();

        services.AddResilientQueue();
        services.AddResilientQueue(b => b.ConfigureQueue("twice", o => o.Capacity = 5));

        services.Count(d => d.ServiceType == typeof(IJobQueueProvider)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IJobQueueFactory)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IValidateOptions<JobQueueOptions>)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IValidateOptions<JobWorkerOptions>)).Should().Be(1);
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetServices<IJobQueueProvider>().Should().ContainSingle();
        provider.GetServices<IJobQueueFactory>().Should().ContainSingle();
    }

    [Fact]
    public void AddHandler_SameQueueInTwoAddResilientQueueCalls_ThrowsInvalidOperation()
    {
        var services = new ServiceCollection();
        services.AddResilientQueue(b => b.AddHandler<NoopHandler, string>("shared-registry"));

        FluentActions.Invoking(() => services.AddResilientQueue(b => b.AddHandler<OtherHandler, string>("shared-registry")))
            .Should().Throw<InvalidOperationException>().WithMessage("*'shared-registry'*");
    }

    [Fact]
    public async Task GetQueue_ByDefault_GivesAWorkingInMemoryQueue()
    {
        await using ServiceProvider provider = Build(b => { });

        provider.GetRequiredService<IJobQueueFactory>().Create("default-backend-probe", new JobQueueOptions()).Should().BeOfType<InMemoryJobQueue>();
        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue("default-backend");
        queue.Name.Should().Be("default-backend");

        string id = (await queue.EnqueueAsync(Payload)).JobId;
        IReadOnlyList<LeasedJob> fetched = await queue.FetchAsync(10, TimeSpan.FromSeconds(30));

        fetched.Should().ContainSingle().Which.Job.Should().Match<Job>(j => j.Id == id && j.Payload.ToArray().SequenceEqual(Payload));
        (await queue.AckAsync(fetched[0].Lease)).Should().Be(LeaseResult.Succeeded);
        (await queue.GetStatusAsync()).Should().Match<QueueStatus>(s => s.Ready == 0 && s.Active == 0);
    }

    [Fact]
    public async Task GetQueue_SameNameTwice_GivesTheSameQueue()
    {
        await using ServiceProvider provider = Build(b => { });
        IJobQueueProvider queues = provider.GetRequiredService<IJobQueueProvider>();

        queues.GetQueue("same").Should().BeSameAs(queues.GetQueue("same"));
        queues.GetQueue("same").Should().NotBeSameAs(queues.GetQueue("other"));
    }

    [Fact]
    public async Task ConfigureQueue_Capacity_AppliesToThatQueueOnly()
    {
        await using ServiceProvider provider = Build(b => b.ConfigureQueue("small", o => o.Capacity = 2));
        IJobQueue small = provider.GetRequiredService<IJobQueueProvider>().GetQueue("small");
        IJobQueue other = provider.GetRequiredService<IJobQueueProvider>().GetQueue("not-small");

        await small.EnqueueAsync(Payload);
        await small.EnqueueAsync(Payload);

        (await FluentActions.Awaiting(() => small.EnqueueAsync(Payload).AsTask()).Should().ThrowAsync<QueueFullException>())
            .Which.Should().Match<QueueFullException>(e => e.QueueName == "small" && e.Capacity == 2);
        for (int i = 0; i < 3; i++)
        {
            await other.EnqueueAsync(Payload);
        }
    }

    [Fact]
    public async Task GetQueue_ConfiguredWithCapacityZero_ThrowsOptionsValidation_NamingQueueAndOption()
    {
        await using ServiceProvider provider = Build(b => b.ConfigureQueue("bad-capacity", o => o.Capacity = 0));

        FluentActions.Invoking(() => provider.GetRequiredService<IJobQueueProvider>().GetQueue("bad-capacity"))
            .Should().Throw<OptionsValidationException>()
            .Where(e => e.OptionsName == "bad-capacity"
                && e.Message.Contains("'bad-capacity'", StringComparison.Ordinal)
                && e.Message.Contains("JobQueueOptions.Capacity", StringComparison.Ordinal));
    }

    [Fact]
    public void AddHandler_TwiceForOneQueue_ThrowsInvalidOperation_NamingTheQueue()
    {
        var services = new ServiceCollection();

        FluentActions.Invoking(() => services.AddResilientQueue(b => b
                .AddHandler<NoopHandler, string>("one-handler")
                .AddHandler<OtherHandler, string>("one-handler")))
            .Should().Throw<InvalidOperationException>().WithMessage("*'one-handler'*");
    }

    [Fact]
    public async Task AddHandler_WithConcurrencyZero_ResolvingTheWorkerOptions_ThrowsOptionsValidation_NamingTheOption()
    {
        await using ServiceProvider provider = Build(b => b.AddHandler<NoopHandler, string>("zero-concurrency", o => o.Concurrency = 0));

        FluentActions.Invoking(() => provider.GetRequiredService<IOptionsMonitor<JobWorkerOptions>>().Get("zero-concurrency"))
            .Should().Throw<OptionsValidationException>()
            .Where(e => e.OptionsName == "zero-concurrency"
                && e.Message.Contains("JobWorkerOptions.Concurrency", StringComparison.Ordinal)
                && e.Message.Contains("'zero-concurrency'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddHandler_SetsTheWorkerOptionsQueueName_EvenIfConfigureChangesIt()
    {
        await using ServiceProvider provider = Build(b => b.AddHandler<NoopHandler, string>("named-worker", o =>
        {
            o.Concurrency = 3;
            o.QueueName = "something-else";
        }));

        JobWorkerOptions options = provider.GetRequiredService<IOptionsMonitor<JobWorkerOptions>>().Get("named-worker");

        options.QueueName.Should().Be("named-worker");
        options.Concurrency.Should().Be(3);
    }

    [Fact]
    public async Task StartAsync_HostWithAnInvalidWorkerOption_ThrowsOptionsValidation()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddLogging();
        builder.Services.AddResilientQueue(b => b.AddHandler<NoopHandler, string>("validated-on-start", o => o.Concurrency = 0));
        using IHost host = builder.Build(); // not stopped: Host.StopAsync after a failed start throws (the host never resolved its services)

        (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>())
            .Which.Message.Should().Contain("JobWorkerOptions.Concurrency").And.Contain("'validated-on-start'");
    }

    [Fact]
    public async Task StartAsync_HostWhoseWorkerQueueHasInvalidOptions_ThrowsOptionsValidation_NamingQueueAndOption()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddResilientQueue(b => b
            .ConfigureQueue("bad-worker-queue", o => o.Capacity = 0)
            .AddHandler<NoopHandler, string>("bad-worker-queue"));
        using IHost host = builder.Build();

        (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>())
            .Which.Message.Should().Contain("JobQueueOptions.Capacity").And.Contain("'bad-worker-queue'");
    }

    [Fact]
    public async Task StartAsync_HostWithValidWorkerOptions_StartsAndStops()
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddResilientQueue(b => b.AddHandler<NoopHandler, string>("valid-on-start", o => o.Concurrency = 2));
        using IHost host = builder.Build();

        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public async Task ConfigureErrors_Rules_ApplyToTheRegisteredClassifier_BeforeTheBuiltInOnes()
    {
        await using ServiceProvider provider = Build(b => b
            .ConfigureErrors(o => o.Add<TimeoutException>(ErrorCategory.Validation))
            .ConfigureErrors(o => o.Add(e => e.Message == "quota" ? new ErrorClassification(ErrorCategory.RateLimited) : null)));
        IErrorClassifier classifier = provider.GetRequiredService<IErrorClassifier>();

        classifier.Should().BeOfType<DefaultErrorClassifier>();
        classifier.Classify(new TimeoutException()).Category.Should().Be(ErrorCategory.Validation);
        classifier.Classify(new InvalidOperationException("quota")).Category.Should().Be(ErrorCategory.RateLimited);
        classifier.Classify(new IOException()).Category.Should().Be(ErrorCategory.Transient);
    }

    [Fact]
    public async Task GetQueue_WithATimeProviderRegistered_UsesItsClock()
    {
        var clock = new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddResilientQueue();
        await using ServiceProvider provider = services.BuildServiceProvider();
        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue("clocked");

        string id = (await queue.EnqueueAsync(Payload, new EnqueueOptions { Delay = TimeSpan.FromMinutes(1) })).JobId;

        (await queue.GetJobAsync(id))!.AvailableAt.Should().Be(clock.GetUtcNow() + TimeSpan.FromMinutes(1));
        (await queue.FetchAsync(1, TimeSpan.FromSeconds(30))).Should().BeEmpty();
        clock.Advance(TimeSpan.FromMinutes(1));
        (await queue.FetchAsync(1, TimeSpan.FromSeconds(30))).Should().ContainSingle().Which.Job.Id.Should().Be(id);
    }

    [Fact]
    public void Dispose_ContainerThatGaveAQueue_DisposedSynchronously_DoesNotThrow()
    {
        ServiceProvider provider = Build(b => { });
        provider.GetRequiredService<IJobQueueProvider>().GetQueue("sync-dispose");

        FluentActions.Invoking(provider.Dispose).Should().NotThrow();
    }

    public static TheoryData<string> InvalidNames => new()
    {
        "",
        "has space",
        "brace{tag}",
        "slash/name",
        new string('q', QueueNames.MaxLength + 1),
    };

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task GetQueue_InvalidName_ThrowsArgumentException(string name)
    {
        await using ServiceProvider provider = Build(b => { });

        FluentActions.Invoking(() => provider.GetRequiredService<IJobQueueProvider>().GetQueue(name)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task GetQueue_NullName_ThrowsArgumentNull()
    {
        await using ServiceProvider provider = Build(b => { });

        FluentActions.Invoking(() => provider.GetRequiredService<IJobQueueProvider>().GetQueue(null!)).Should().Throw<ArgumentNullException>();
    }

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public void ConfigureQueue_InvalidName_ThrowsArgumentException(string name)
    {
        FluentActions.Invoking(() => new ServiceCollection().AddResilientQueue(b => b.ConfigureQueue(name, o => o.Capacity = 1)))
            .Should().Throw<ArgumentException>();
    }

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public void AddHandler_InvalidName_ThrowsArgumentException(string name)
    {
        FluentActions.Invoking(() => new ServiceCollection().AddResilientQueue(b => b.AddHandler<NoopHandler, string>(name)))
            .Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task EnqueueAsync_InsideAnActivity_StoresTheSendSpansW3CTraceParent()
    {
        const string QueueName = "traced-enqueue";
        using var spans = new SendSpanRecorder(QueueName);
        await using ServiceProvider provider = Build(b => { });
        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue(QueueName);

        string id;
        using (Activity parent = new Activity("caller").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            id = (await queue.EnqueueAsync(Payload)).JobId;
            spans.Stopped.Should().ContainSingle().Which.TraceId.Should().Be(parent.TraceId, "the send span is a child of the caller's span");
        }

        Activity send = spans.Stopped.Single();
        send.Kind.Should().Be(ActivityKind.Producer);
        string? traceParent = (await queue.GetJobAsync(id))!.TraceParent;
        traceParent.Should().StartWith("00-")
            .And.Contain(send.TraceId.ToHexString())
            .And.Be($"00-{send.TraceId.ToHexString()}-{send.SpanId.ToHexString()}-01");
    }

    [Fact]
    public async Task EnqueueAsync_InsideAnActivity_KeepsTheWaitForRoomMode()
    {
        const string QueueName = "traced-wait";
        using var spans = new SendSpanRecorder(QueueName);
        await using ServiceProvider provider = Build(b => b.ConfigureQueue(QueueName, o => o.Capacity = 1));
        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue(QueueName);
        await queue.EnqueueAsync(Payload);

        Func<Task> act = () => queue.EnqueueAsync(Payload, new EnqueueOptions { FullMode = Backpressure.QueueFullMode.Wait, FullWaitTimeout = TimeSpan.FromMilliseconds(50) }).AsTask();

        await act.Should().ThrowAsync<QueueFullTimeoutException>("the traced copy of the options must keep FullMode and FullWaitTimeout");
    }

    [Fact]
    public async Task EnqueueAsync_InsideAnActivity_KeepsTheCallersOtherOptions()
    {
        const string QueueName = "traced-options";
        using var spans = new SendSpanRecorder(QueueName);
        await using ServiceProvider provider = Build(b => { });
        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue(QueueName);

        string id = (await queue.EnqueueAsync(Payload, new EnqueueOptions
        {
            Priority = JobPriority.Highest,
            MaxAttempts = 3,
            CorrelationId = "order-17",
            IdempotencyKey = "order-17-email",
            Delay = TimeSpan.FromMinutes(5),
        })).JobId;

        Job job = (await queue.GetJobAsync(id))!;
        job.TraceParent.Should().StartWith("00-").And.Contain(spans.Stopped.Single().TraceId.ToHexString());
        job.Priority.Should().Be(JobPriority.Highest);
        job.MaxAttempts.Should().Be(3);
        job.CorrelationId.Should().Be("order-17");
        job.IdempotencyKey.Should().Be("order-17-email");
        job.State.Should().Be(JobState.Delayed);
        (job.AvailableAt - job.EnqueuedAt).Should().Be(TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task EnqueueAsync_WithACallerSetTraceParent_KeepsIt()
    {
        const string QueueName = "traced-caller-set";
        const string CallerTraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        using var spans = new SendSpanRecorder(QueueName);
        await using ServiceProvider provider = Build(b => { });
        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue(QueueName);

        string id = (await queue.EnqueueAsync(Payload, new EnqueueOptions { TraceParent = CallerTraceParent })).JobId;

        spans.Stopped.Should().ContainSingle("the send span is still recorded");
        (await queue.GetJobAsync(id))!.TraceParent.Should().Be(CallerTraceParent);
    }

    [Fact]
    public async Task EnqueueManyAsync_InsideAnActivity_StoresTheTraceParentOnEveryJob_AndKeepsACallerSetOne()
    {
        const string QueueName = "traced-batch";
        const string CallerTraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        using var spans = new SendSpanRecorder(QueueName);
        await using ServiceProvider provider = Build(b => { });
        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue(QueueName);

        IReadOnlyList<EnqueueResult> results = await queue.EnqueueManyAsync(
        [
            new JobSubmission(Payload),
            new JobSubmission(Payload, new EnqueueOptions { CorrelationId = "second" }),
            new JobSubmission(Payload, new EnqueueOptions { TraceParent = CallerTraceParent }),
        ]);

        string expected = spans.Stopped.Should().ContainSingle().Which.Id!;
        (await queue.GetJobAsync(results[0].JobId))!.TraceParent.Should().Be(expected);
        (await queue.GetJobAsync(results[1].JobId))!.Should().Match<Job>(j => j.TraceParent == expected && j.CorrelationId == "second");
        (await queue.GetJobAsync(results[2].JobId))!.TraceParent.Should().Be(CallerTraceParent);
    }

    [Fact]
    public async Task EnqueueAsync_ThroughTheProvider_CountsJobsEnqueued_ButNotDuplicates()
    {
        string queueName = $"counted-{Guid.NewGuid():N}";
        using var enqueued = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.jobs.enqueued");
        await using ServiceProvider provider = Build(b => { });
        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue(queueName);

        await queue.EnqueueAsync(Payload);
        EnqueueResult first = await queue.EnqueueAsync(Payload, new EnqueueOptions { IdempotencyKey = "once" });
        EnqueueResult again = await queue.EnqueueAsync(Payload, new EnqueueOptions { IdempotencyKey = "once" });

        again.Should().Be(first with { Outcome = EnqueueOutcome.Duplicate });
        enqueued.Sum((ResilientQueueTelemetry.QueueTag, queueName)).Should().Be(2);
    }

    [Fact]
    public async Task EnqueueManyAsync_ThroughTheProvider_CountsNewJobs_ButNotDuplicates()
    {
        string queueName = $"counted-batch-{Guid.NewGuid():N}";
        using var enqueued = new MetricCollector<long>(null, ResilientQueueTelemetry.Name, "resilientqueue.jobs.enqueued");
        await using ServiceProvider provider = Build(b => { });
        IJobQueue queue = provider.GetRequiredService<IJobQueueProvider>().GetQueue(queueName);
        await queue.EnqueueAsync(Payload, new EnqueueOptions { IdempotencyKey = "known" });

        IReadOnlyList<EnqueueResult> results = await queue.EnqueueManyAsync(
        [
            new JobSubmission(Payload),
            new JobSubmission(Payload, new EnqueueOptions { IdempotencyKey = "known" }),
            new JobSubmission(Payload, new EnqueueOptions { IdempotencyKey = "new" }),
            new JobSubmission(Payload, new EnqueueOptions { IdempotencyKey = "new" }),
        ]);

        results.Select(r => r.Duplicate).Should().Equal(false, true, false, true);
        enqueued.Sum((ResilientQueueTelemetry.QueueTag, queueName)).Should().Be(3, "one before the batch, two new in it");
    }

    private static ServiceProvider Build(Action<ResilientQueueBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddResilientQueue(configure);
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    private sealed class NoopHandler : IJobHandler<string>
    {
        public ValueTask HandleAsync(JobContext<string> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    private sealed class OtherHandler : IJobHandler<string>
    {
        public ValueTask HandleAsync(JobContext<string> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    /// <summary>Records the stopped send spans of one queue (other tests' spans, running in parallel, are ignored).</summary>
    private sealed class SendSpanRecorder : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly List<Activity> _stopped = [];

        public SendSpanRecorder(string queueName)
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == ResilientQueueTelemetry.Name,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = activity =>
                {
                    if (activity.Kind == ActivityKind.Producer && Equals(activity.GetTagItem(ResilientQueueTelemetry.QueueTag), queueName))
                    {
                        lock (_stopped)
                        {
                            _stopped.Add(activity);
                        }
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public IReadOnlyList<Activity> Stopped
        {
            get
            {
                lock (_stopped)
                {
                    return _stopped.ToArray();
                }
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
