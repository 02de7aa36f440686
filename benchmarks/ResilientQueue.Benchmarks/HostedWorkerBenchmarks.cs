using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResilientQueue.DependencyInjection;
using ResilientQueue.Processing;
using ResilientQueue.Telemetry;

namespace ResilientQueue.Benchmarks;

/// <summary>
/// The hosted worker's per-job path on the in-memory backend, as users run it (<c>AddResilientQueue().UseInMemory()</c>,
/// <c>AddHandler</c> with a no-op handler): the host is started once; each invocation enqueues
/// <see cref="JobsPerInvocation"/> jobs in batches of 100 and waits until the handler ran them all and the queue has
/// nothing ready or active. Per job: enqueue + fetch + deserialize + scope + handler + ack; with <see cref="Telemetry"/>
/// a listener records every ResilientQueue instrument and samples every activity, as an OpenTelemetry SDK with the
/// library's meter and source added does (the exporters' own cost is not part of it).
/// </summary>
[MemoryDiagnoser]
public class HostedWorkerBenchmarks
{
    private const int JobsPerInvocation = 2000;

    private IHost _host = null!;
    private IJobQueue _queue = null!;
    private HandlerCounter _counter = null!;
    private JobSubmission[] _batch = [];
    private MeterListener? _meters;
    private ActivityListener? _activities;
    private long _measurements;

    /// <summary>The worker's concurrency.</summary>
    [Params(1, 10, 100)]
    public int Concurrency { get; set; }

    /// <summary>Whether the library's meter and activity source are listened to (telemetry on, as in production).</summary>
    [Params(false, true)]
    public bool Telemetry { get; set; }

    /// <summary>Builds and starts the host; the worker waits on an empty queue.</summary>
    [GlobalSetup]
    public void Setup()
    {
        if (Telemetry)
        {
            StartListening();
        }

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        _counter = new HandlerCounter();
        builder.Services.AddSingleton(_counter);
        builder.Services.AddResilientQueue()
            .UseInMemory()
            .ConfigureQueue("bench", q => q.Capacity = 10_000_000)
            .AddHandler<CountingHandler, BenchmarkPayload>("bench", w => w.Concurrency = Concurrency);
        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult();
        _queue = _host.Services.GetRequiredService<IJobQueueProvider>().GetQueue("bench");
        _batch = Enumerable.Repeat(new JobSubmission(BenchmarkPayload.Bytes), 100).ToArray();
    }

    /// <summary>Stops the host.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
        _meters?.Dispose();
        _activities?.Dispose();
    }

    private void StartListening()
    {
        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ResilientQueueTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meters.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref _measurements));
        _meters.SetMeasurementEventCallback<int>((_, _, _, _) => Interlocked.Increment(ref _measurements));
        _meters.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _measurements));
        _meters.Start();
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ResilientQueueTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_activities);
    }

    /// <summary>Runs <see cref="JobsPerInvocation"/> jobs through the started worker.</summary>
    /// <returns>The jobs the handler ran so far.</returns>
    [Benchmark(OperationsPerInvoke = JobsPerInvocation)]
    public async Task<long> JobsThroughHostedWorker()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // bounded
        Task reached = _counter.Expect(JobsPerInvocation);
        for (int sent = 0; sent < JobsPerInvocation; sent += _batch.Length)
        {
            await _queue.EnqueueManyAsync(_batch, timeout.Token).ConfigureAwait(false);
        }

        await reached.WaitAsync(timeout.Token).ConfigureAwait(false);
        while (await _queue.GetStatusAsync(timeout.Token).ConfigureAwait(false) is { Ready: > 0 } or { Active: > 0 })
        {
            await Task.Yield();
        }

        return _counter.Handled;
    }
}

/// <summary>Counts handler calls and completes a task when an expected number was reached.</summary>
public sealed class HandlerCounter
{
    private long _handled;
    private long _target = long.MaxValue;
    private TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The handler calls so far.</summary>
    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>A task that completes when <paramref name="more"/> more handler calls were made.</summary>
    /// <param name="more">The number of calls to wait for.</param>
    /// <returns>The task.</returns>
    public Task Expect(long more)
    {
        _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _target, Handled + more);
        return _reached.Task;
    }

    /// <summary>Called by the handler.</summary>
    public void OnHandled()
    {
        if (Interlocked.Increment(ref _handled) == Volatile.Read(ref _target))
        {
            _reached.TrySetResult();
        }
    }
}

/// <summary>The no-op handler: it only counts.</summary>
/// <param name="counter">The counter.</param>
public sealed class CountingHandler(HandlerCounter counter) : IJobHandler<BenchmarkPayload>
{
    /// <inheritdoc />
    public ValueTask HandleAsync(JobContext<BenchmarkPayload> context, CancellationToken cancellationToken)
    {
        counter.OnHandled();
        return ValueTask.CompletedTask;
    }
}
