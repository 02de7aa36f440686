using System.Diagnostics.Metrics;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.Conformance.Infrastructure;
using ResilientQueue.DependencyInjection;
using ResilientQueue.InMemory;
using ResilientQueue.Reaping;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Tests.Telemetry;

/// <summary>The seed-004 instruments: stale leases, ages, the processing-age histogram, reaper runs, and the bucket advice of every histogram.</summary>
public sealed class QueueMetricsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly string _queueName = "metrics-" + Guid.NewGuid().ToString("N")[..8];

    [Theory]
    [InlineData("resilientqueue.job.duration", 0.005, 600)]
    [InlineData("resilientqueue.job.queue_wait", 0.005, 3600)]
    [InlineData("resilientqueue.job.processing_age", 1, 600)]
    public void EveryHistogramInSeconds_CarriesExplicitBucketAdvice(string name, double first, double last)
    {
        Instrument instrument = PublishedInstruments().Single(i => i.Name == name);

        instrument.Unit.Should().Be("s");
        IReadOnlyList<double>? bounds = ((Histogram<double>)instrument).Advice?.HistogramBucketBoundaries;
        bounds.Should().NotBeNull("without advice exporters use millisecond-scale defaults and a scrape puts every job in le=5");
        bounds!.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        bounds![0].Should().Be(first);
        bounds[^1].Should().Be(last);
        if (name == "resilientqueue.job.processing_age")
        {
            bounds.Should().Contain([30, 60, 120, 300, 600], "seed 004's alerts read the 30 s to 600 s buckets");
        }
    }

    [Fact]
    public void EveryHistogramOfTheMeter_HasBucketAdvice()
    {
        PublishedInstruments().OfType<Histogram<double>>().Should().OnlyContain(h => h.Advice != null && h.Advice.HistogramBucketBoundaries != null);
    }

    [Fact]
    public async Task Sampler_ReportsStaleJobs_Ages_ProcessingAges_AndDepthByState_FromItsLastSample()
    {
        using var stale = Collect<long>("resilientqueue.queue.stale");
        using var oldestReady = Collect<double>("resilientqueue.queue.oldest_ready_age");
        using var oldestActive = Collect<double>("resilientqueue.queue.oldest_active_age");
        using var depth = Collect<long>("resilientqueue.queue.depth");
        using var processingAge = Collect<double>("resilientqueue.job.processing_age");
        var queue = new InMemoryJobQueue(_queueName, timeProvider: _time);
        await queue.EnqueueManyAsync([new JobSubmission(new byte[] { 1 }), new JobSubmission(new byte[] { 2 }), new JobSubmission(new byte[] { 3 })]);
        await queue.FetchAsync(1, TimeSpan.FromSeconds(30));          // lease runs out after 30 s
        _time.Advance(TimeSpan.FromSeconds(20));
        await queue.FetchAsync(1, TimeSpan.FromMinutes(10));
        _time.Advance(TimeSpan.FromSeconds(70));
        var sampler = new QueueMetricsSampler([queue], new QueueMetricsOptions(), _time, NullLogger.Instance);

        await sampler.SampleAllAsync(CancellationToken.None);
        await queue.EnqueueAsync(new byte[] { 4 }); // after the sample: a scrape reports the sample, not a fresh read

        var tag = (ResilientQueueTelemetry.QueueTag, (object?)_queueName);
        stale.Observe(tag).Should().Equal(1);
        oldestReady.Observe(tag).Should().Equal(90);
        oldestActive.Observe(tag).Should().Equal(90);
        depth.Observe(tag, ("resilientqueue.state", "ready")).Should().Equal(1);
        depth.Observe(tag, ("resilientqueue.state", "active")).Should().Equal(2);
        depth.Observe(tag, ("resilientqueue.state", "dead")).Should().Equal(0);
        processingAge.GetMeasurementSnapshot().ContainsTags(new KeyValuePair<string, object?>(ResilientQueueTelemetry.QueueTag, _queueName))
            .Select(m => m.Value).Should().BeEquivalentTo([90.0, 70.0]);

        ResilientQueueTelemetry.LastSample.TryRemove(_queueName, out _);
        ResilientQueueTelemetry.LastStatus.TryRemove(_queueName, out _);
    }

    [Fact]
    public async Task Sampler_KeepsTheLastSample_WhenAQueueCannotBeRead_AndLogsIt()
    {
        using var stale = Collect<long>("resilientqueue.queue.stale");
        var queue = new InMemoryJobQueue(_queueName, timeProvider: _time);
        var logs = new FakeLogCollector();
        await new QueueMetricsSampler([queue], new QueueMetricsOptions(), _time, NullLogger.Instance).SampleAllAsync(CancellationToken.None);
        var failing = new QueueMetricsSampler([UnreachableQueue.Create(_queueName)], new QueueMetricsOptions(), _time, new FakeLogger(logs));

        for (int i = 0; i < 30; i++)
        {
            await failing.SampleAllAsync(CancellationToken.None);
        }

        stale.Observe((ResilientQueueTelemetry.QueueTag, _queueName)).Should().Equal(0);
        logs.Events(5001).Select(e => e.StructuredState!.Single(p => p.Key == "Failures").Value).Should().Equal("1", "30");
        ResilientQueueTelemetry.LastSample.TryRemove(_queueName, out _);
        ResilientQueueTelemetry.LastStatus.TryRemove(_queueName, out _);
    }

    [Fact]
    public async Task Reaper_CountsItsRuns_AndItsFailures()
    {
        using var runs = Collect<long>("resilientqueue.reaper.runs");
        using var failures = Collect<long>("resilientqueue.reaper.failures");
        var queue = new InMemoryJobQueue(_queueName, timeProvider: _time);
        var reaper = new StaleJobReaper([queue], new StaleJobReaperOptions(), _time, NullLogger.Instance);

        await reaper.ReapQueueAsync(queue, CancellationToken.None);
        await reaper.ReapQueueAsync(queue, CancellationToken.None); // the turn is still held: no run
        var failing = new StaleJobReaper([UnreachableQueue.Create(_queueName)], new StaleJobReaperOptions(), _time, NullLogger.Instance);
        var tag = (ResilientQueueTelemetry.QueueTag, (object?)_queueName);
        await failing.StartAsync(CancellationToken.None);           // its first pass runs at once, and fails
        for (int i = 0; i < 500 && failures.Sum(tag) == 0; i++)
        {
            await Task.Delay(10);
        }

        await failing.StopAsync(CancellationToken.None);
        runs.Sum(tag).Should().Be(1);
        failures.Sum(tag).Should().Be(1);
    }

    [Fact]
    public void Options_OutOfRange_AreNamed()
    {
        FluentActions.Invoking(() => new QueueMetricsOptions { Interval = TimeSpan.Zero }.Validate())
            .Should().Throw<InvalidOptionsException>().WithMessage("*QueueMetricsOptions.Interval*");
        FluentActions.Invoking(() => new QueueMetricsOptions { MaxActiveSampled = 1001 }.Validate())
            .Should().Throw<InvalidOptionsException>().WithMessage("*QueueMetricsOptions.MaxActiveSampled*");
        var bad = new QueueMetricsOptions();
        bad.Queues.Add("no spaces");
        FluentActions.Invoking(bad.Validate).Should().Throw<InvalidOptionsException>().WithMessage("*QueueMetricsOptions.Queues*");
        new QueueMetricsOptions().Validate();
    }

    [Fact]
    public async Task AddQueueMetrics_ObservesQueuesByName_ListsThemAsConfigured_AndValidatesAtStart()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddResilientQueue().AddQueueMetrics(o => o.Queues.Add(_queueName)).AddQueueMetrics();
        using IHost host = builder.Build();

        host.Services.GetRequiredService<IJobQueueProvider>().ConfiguredQueues.Should().Equal(_queueName);
        host.Services.GetServices<IHostedService>().Should().ContainSingle(s => s is QueueMetricsSampler, "safe to call twice");

        var bad = Host.CreateApplicationBuilder();
        bad.Services.AddResilientQueue().AddQueueMetrics(o => o.Interval = TimeSpan.FromHours(1));
        using IHost badHost = bad.Build();
        await FluentActions.Awaiting(() => badHost.StartAsync()).Should().ThrowAsync<OptionsValidationException>().WithMessage("*QueueMetricsOptions.Interval*");
    }

    private static List<Instrument> PublishedInstruments()
    {
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == ResilientQueueTelemetry.Name)
                {
                    instruments.Add(instrument);
                }
            },
        };
        // Every type of the core that holds instruments in static fields creates them on first use: create them all, so
        // the list does not depend on which tests ran before (request-reply's histogram lives in its own type).
        foreach (Type type in typeof(ResilientQueueTelemetry).Assembly.GetTypes())
        {
            if (!type.ContainsGenericParameters && type.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic).Any(f => typeof(Instrument).IsAssignableFrom(f.FieldType)))
            {
                System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(type.TypeHandle);
            }
        }

        listener.Start();
        return instruments;
    }

    private static MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(null, ResilientQueueTelemetry.Name, instrument);
}
