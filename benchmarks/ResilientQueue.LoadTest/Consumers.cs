using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using ResilientQueue.Processing;
using ResilientQueue.Serialization;
using ResilientQueue.Telemetry;
using StackExchange.Redis;

namespace ResilientQueue.LoadTest;

/// <summary>Which consumer a run measures.</summary>
internal enum ConsumerKind
{
    /// <summary>The hosted worker as users run it (host, DI, handler, OpenTelemetry on).</summary>
    Hosted,

    /// <summary>The hand-written <see cref="LoadConsumer"/> on the backend: the backend's ceiling.</summary>
    Raw,
}

/// <summary>A consumer under test: started, then awaited until it acknowledged the target number of jobs.</summary>
internal interface IConsumerUnderTest : IAsyncDisposable
{
    Task StartAsync(CancellationToken cancellationToken);

    Task WaitForAllAsync(CancellationToken cancellationToken);
}

/// <summary>The no-op handler of the hosted runs: it only tells the probe it ran.</summary>
internal sealed class NoOpHandler(LoadProbe probe) : IJobHandler<Payload>
{
    public ValueTask HandleAsync(JobContext<Payload> context, CancellationToken cancellationToken)
    {
        probe.OnHandled(context.Payload);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// The hosted worker: a generic host with <c>AddResilientQueue().UseRedisLists()</c> (or <c>UseRedisStreams</c>, as one group) on the shared multiplexer, the
/// <see cref="NoOpHandler"/> at the given concurrency, and OpenTelemetry's SDK recording the library's meter and
/// activity source into counting exporters. Done when the handlers ran every job and the queue has nothing ready
/// or active (the last ack was written).
/// </summary>
internal sealed class HostedConsumer : IConsumerUnderTest
{
    private readonly IHost _host;
    private readonly LoadProbe _probe;
    private readonly Backends.JobQueueBase _status;

    public HostedConsumer(IConnectionMultiplexer redis, string queue, int concurrency, LoadProbe probe, LoadBackend backend, int group, double? traceSample = 1.0)
    {
        _probe = probe;
        _status = backend.Consumer(redis, queue, group);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace); // stdout is the JSON line's
        builder.Services.AddSingleton(redis);
        builder.Services.AddSingleton(probe);
        backend.Use(builder.Services.AddResilientQueue(), group)
            .ConfigureQueue(queue, q => q.Capacity = 10_000_000)
            .AddHandler<NoOpHandler, Payload>(queue, w => w.Concurrency = concurrency);
        OpenTelemetry.OpenTelemetryBuilder telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(m => m.AddMeter(ResilientQueueTelemetry.Name).AddReader(new PeriodicExportingMetricReader(new CountingMetricExporter(), 1000)));
        if (traceSample is { } ratio)
        {
            telemetry.WithTracing(t =>
            {
                t.AddSource(ResilientQueueTelemetry.Name).AddProcessor(new OpenTelemetry.BatchActivityExportProcessor(new CountingActivityExporter()));
                if (ratio < 1)
                {
                    t.SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)));
                }
            });
        }
        _host = builder.Build();
    }

    public Task StartAsync(CancellationToken cancellationToken) => _host.StartAsync(cancellationToken);

    public async Task WaitForAllAsync(CancellationToken cancellationToken)
    {
        await _probe.WaitAsync(cancellationToken).ConfigureAwait(false);
        for (int polls = 0; ; polls++)
        {
            QueueStatus status = await _status.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            if (status.Ready == 0 && status.Active == 0)
            {
                return;
            }

            if (polls == 60_000)
            {
                throw new TimeoutException($"The handlers ran every job, but the queue still has {status.Ready} ready and {status.Active} active after {polls} polls.");
            }

            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(stop.Token).ConfigureAwait(false);
        _host.Dispose();
        await _status.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>The raw-backend consumer (<see cref="LoadConsumer"/>); with latency samples its handler reads the payload.</summary>
internal sealed class RawConsumer : IConsumerUnderTest
{
    private readonly Backends.JobQueueBase _queue;
    private readonly LoadConsumer _consumer;
    private readonly long _target;
    private Task? _running;

    public RawConsumer(IConnectionMultiplexer redis, string queue, int concurrency, long target, LoadProbe? latencyProbe, LoadBackend backend, int group)
    {
        _queue = backend.Consumer(redis, queue, group);
        _target = target;
        _consumer = new LoadConsumer(_queue, concurrency, latencyProbe is null
            ? static _ => ValueTask.CompletedTask
            : job =>
            {
                latencyProbe.OnHandled(SystemTextJsonJobSerializer.Default.Deserialize<Payload>(job.Job.Payload));
                return ValueTask.CompletedTask;
            });
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _running = _consumer.RunAsync(_target, cancellationToken);
        return Task.CompletedTask;
    }

    public Task WaitForAllAsync(CancellationToken cancellationToken) =>
        (_running ?? throw new InvalidOperationException("Not started.")).WaitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_running is not null)
        {
            await _running.ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }

        await _queue.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>The consumers of one run (one per consumer group), started and awaited together.</summary>
internal sealed class ConsumerSet(IEnumerable<IConsumerUnderTest> consumers) : IConsumerUnderTest
{
    private readonly IConsumerUnderTest[] _consumers = [.. consumers];

    public Task StartAsync(CancellationToken cancellationToken) => Task.WhenAll(_consumers.Select(c => c.StartAsync(cancellationToken)));

    public Task WaitForAllAsync(CancellationToken cancellationToken) => Task.WhenAll(_consumers.Select(c => c.WaitForAllAsync(cancellationToken)));

    public async ValueTask DisposeAsync()
    {
        foreach (IConsumerUnderTest consumer in _consumers)
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
        }
    }
}
