using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace ResilientQueue.LoadTest;

/// <summary>An exporter of spans that counts them and keeps nothing, so the SDK records and batches as in production.</summary>
internal sealed class CountingActivityExporter : BaseExporter<Activity>
{
    private long _exported;

    public long Exported => Interlocked.Read(ref _exported);

    public override ExportResult Export(in Batch<Activity> batch)
    {
        Interlocked.Add(ref _exported, batch.Count);
        return ExportResult.Success;
    }
}

/// <summary>An exporter of metrics that counts the metric points it is given and keeps nothing.</summary>
internal sealed class CountingMetricExporter : BaseExporter<Metric>
{
    private long _points;

    public long Points => Interlocked.Read(ref _points);

    public override ExportResult Export(in Batch<Metric> batch)
    {
        foreach (Metric metric in batch)
        {
            foreach (ref readonly MetricPoint _ in metric.GetMetricPoints())
            {
                Interlocked.Increment(ref _points);
            }
        }

        return ExportResult.Success;
    }
}
