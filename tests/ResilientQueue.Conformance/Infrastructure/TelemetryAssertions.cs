using System.Globalization;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace ResilientQueue.Conformance.Infrastructure;

/// <summary>
/// Reading what a <see cref="MetricCollector{T}"/> or a <see cref="FakeLogCollector"/> (Microsoft.Extensions.Diagnostics.Testing)
/// collected, in the terms the tests assert. The ResilientQueue meter is shared by every test running in parallel, so
/// measurements are always filtered by a tag only the asking test uses (its queue's or limiter's name).
/// </summary>
public static class TelemetryAssertions
{
    /// <summary>The sum of the measurements collected so far whose tags include every given tag.</summary>
    public static long Sum(this MetricCollector<long> collector, params (string Key, object? Value)[] tags) =>
        collector.GetMeasurementSnapshot().ContainsTags(Pairs(tags)).EvaluateAsCounter();

    /// <summary>Reads an observable instrument once and returns its current values whose tags include every given tag.</summary>
    public static T[] Observe<T>(this MetricCollector<T> collector, params (string Key, object? Value)[] tags)
        where T : struct
    {
        collector.Clear();
        collector.RecordObservableInstruments();
        return collector.GetMeasurementSnapshot().ContainsTags(Pairs(tags)).Select(m => m.Value).ToArray();
    }

    /// <summary>The records of one event, oldest first.</summary>
    public static FakeLogRecord[] Events(this FakeLogCollector logs, int eventId) =>
        logs.GetSnapshot().Where(r => r.Id.Id == eventId).ToArray();

    /// <summary>Asserts that the record is the event with this id and level, written with exactly these structured fields.</summary>
    /// <remarks>
    /// The fields are compared as a structured log sink receives them: FakeLogger renders each value with the invariant
    /// culture (see <see cref="Invariant"/>); the message template is left out.
    /// </remarks>
    public static void ShouldBeEvent(this FakeLogRecord record, int eventId, LogLevel level, IReadOnlyDictionary<string, string?> fields)
    {
        record.Id.Id.Should().Be(eventId, "the event id is part of the documented contract");
        record.Level.Should().Be(level, $"event {eventId}'s level is documented");
        record.StructuredState.Should().NotBeNull($"event {eventId} is written with structured state, not only text");
        record.StructuredState!.Where(p => p.Key != "{OriginalFormat}").ToDictionary(p => p.Key, p => p.Value)
            .Should().BeEquivalentTo(fields, $"event {eventId} is written with its documented fields ({record.Message})");
    }

    /// <summary>A value as FakeLogger and the log message render it.</summary>
    public static string Invariant(IFormattable value) => value.ToString(null, CultureInfo.InvariantCulture);

    private static KeyValuePair<string, object?>[] Pairs((string Key, object? Value)[] tags) =>
        tags.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value)).ToArray();
}
