using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ResilientQueue.Telemetry;

namespace ResilientQueue.AspNetCore.Dashboard;

/// <summary>One point of a queue's chart: its counts and this process's completed/failed totals at a time.</summary>
internal readonly record struct HistoryPoint(DateTimeOffset At, long Ready, long Delayed, long Active, long Dead, long Completed, long Failed);

/// <summary>
/// The queue page's chart data, sampled in this process: every <see cref="DashboardOptions.SampleInterval"/> each listed
/// queue's counts, and the completed/failed totals of this process's workers (from the library's meter). Each queue keeps
/// the last hour (a bounded ring). Also reads the adaptive limiters' limit and in-flight gauges on demand.
/// </summary>
internal sealed partial class DashboardHistory : BackgroundService
{
    private static readonly TimeSpan Window = TimeSpan.FromHours(1);

    private readonly DashboardQueues _queues;
    private readonly DashboardOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly int _capacity;
    private readonly ConcurrentDictionary<string, Queue<HistoryPoint>> _points = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Queue, string Instrument), long> _totals = new();
    private readonly Dictionary<(string Limiter, string Instrument), long> _gauges = [];
    private readonly MeterListener _listener = new();
    private readonly Lock _gaugeLock = new();

    public DashboardHistory(DashboardQueues queues, DashboardOptions options, TimeProvider time, ILogger logger)
    {
        _queues = queues;
        _options = options;
        _time = time;
        _logger = logger;
        _capacity = (int)Math.Ceiling(Window / options.SampleInterval) + 1;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ResilientQueueTelemetry.Name && instrument.Name is Completed or Failed or Limit or InFlight)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    internal const string Completed = "resilientqueue.jobs.completed";
    internal const string Failed = "resilientqueue.jobs.failed";
    internal const string Limit = "resilientqueue.concurrency.limit";
    internal const string InFlight = "resilientqueue.concurrency.in_flight";

    /// <summary>The queue's points of the last hour, oldest first.</summary>
    public IReadOnlyList<HistoryPoint> Points(string queue)
    {
        if (!_points.TryGetValue(queue, out Queue<HistoryPoint>? ring))
        {
            return [];
        }

        lock (ring)
        {
            return [.. ring];
        }
    }

    /// <summary>This process's completed and failed totals of the queue since the dashboard started.</summary>
    public (long Completed, long Failed) Totals(string queue) =>
        (_totals.GetValueOrDefault((queue, Completed)), _totals.GetValueOrDefault((queue, Failed)));

    /// <summary>Completed and failed jobs per minute over the last five minutes of samples (this process's workers); null before two samples.</summary>
    public (double Completed, double Failed)? RatesPerMinute(string queue)
    {
        IReadOnlyList<HistoryPoint> points = Points(queue);
        if (points.Count < 2)
        {
            return null;
        }

        HistoryPoint last = points[^1];
        HistoryPoint first = points.LastOrDefault(p => last.At - p.At >= TimeSpan.FromMinutes(5), points[0]);
        double minutes = Math.Max((last.At - first.At).TotalMinutes, 1.0 / 60);
        return ((last.Completed - first.Completed) / minutes, (last.Failed - first.Failed) / minutes);
    }

    /// <summary>The adaptive limiter named after the queue (its worker's): limit and in-flight, or null when there is none in this process.</summary>
    public (long Limit, long InFlight)? Limiter(string queue)
    {
        lock (_gaugeLock)
        {
            _gauges.Clear();
            _listener.RecordObservableInstruments();
            return _gauges.TryGetValue((queue, Limit), out long limit) ? (limit, _gauges.GetValueOrDefault((queue, InFlight))) : null;
        }
    }

    /// <summary>Samples every listed queue once (the service does it every interval).</summary>
    internal async Task SampleAsync(CancellationToken cancellationToken)
    {
        foreach (string name in _queues.Names)
        {
            try
            {
                QueueStatus s = await _queues.Provider.GetQueue(name).GetStatusAsync(cancellationToken).ConfigureAwait(false);
                (long completed, long failed) = Totals(name);
                Queue<HistoryPoint> ring = _points.GetOrAdd(name, _ => new Queue<HistoryPoint>(_capacity));
                lock (ring)
                {
                    if (ring.Count == _capacity)
                    {
                        ring.Dequeue();
                    }

                    ring.Enqueue(new HistoryPoint(_time.GetUtcNow(), s.Ready, s.Delayed, s.Active, s.Dead, completed, failed));
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogSampleFailed(_logger, ex, name);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.SampleInterval, _time);
        try
        {
            do
            {
                await SampleAsync(stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    public override void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string key = instrument.Name is Limit or InFlight ? "resilientqueue.limiter" : ResilientQueueTelemetry.QueueTag;
        string? name = null;
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == key)
            {
                name = tag.Value as string;
            }
        }

        if (name is null)
        {
            return;
        }

        if (instrument.Name is Limit or InFlight)
        {
            _gauges[(name, instrument.Name)] = value; // under _gaugeLock: observed only from Limiter()
        }
        else
        {
            _totals.AddOrUpdate((name, instrument.Name), value, (_, total) => total + value);
        }
    }

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Dashboard could not sample queue {Queue} for its charts; trying again next interval")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception, string queue);
}
