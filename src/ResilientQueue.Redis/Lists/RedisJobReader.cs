using System.Globalization;
using System.Text.Json;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

/// <summary>
/// Builds a <see cref="Job"/> from its envelope (<see cref="RedisJobCodec"/>), its attempts and its x hash
/// (HGETALL: v available at, err, ec, f failures JSON [[ms, attempt, category, error], …], c checkpoint, dt/dr/dc
/// dead at/reason/category, ct completed at).
/// </summary>
internal static class RedisJobReader
{
    // availableAtMs: when the job became available if its x hash does not say (v), a stream entry's t; -1 for none
    // (then its enqueue time). It replaces building a copy of the x hash with a v field for every fetched stream job.
    public static Job Read(string queue, string id, JobState state, ReadOnlyMemory<byte> envelope, long attempts, RedisResult[] extra, long leaseDeadlineMs = -1, long availableAtMs = -1) =>
        Read(queue, id, state, envelope, attempts, ToFields(extra), leaseDeadlineMs, availableAtMs);

    public static DeadLetterEntry ReadDeadLetter(string queue, string id, byte[] envelope, long attempts, RedisResult[] extra)
    {
        Dictionary<string, RedisValue> x = ToFields(extra);
        return ToDeadLetter(Read(queue, id, JobState.Dead, envelope, attempts, x, -1, -1), x);
    }

    public static DeadLetterEntry ToDeadLetter(Job job, RedisResult[] extra) => ToDeadLetter(job, ToFields(extra));

    private static DeadLetterEntry ToDeadLetter(Job job, Dictionary<string, RedisValue> x) =>
        new(job, Time(x, "dt") ?? job.AvailableAt, (string?)Get(x, "dr") ?? string.Empty, (ErrorCategory)Int(x, "dc", 0));

    private static Job Read(string queue, string id, JobState state, ReadOnlyMemory<byte> envelope, long attempts, Dictionary<string, RedisValue> x, long leaseDeadlineMs, long availableAtMs)
    {
        RedisJobCodec.Envelope e = RedisJobCodec.Decode(envelope);
        return new Job
        {
            Id = id,
            Queue = queue,
            Payload = e.Payload,
            State = state,
            Priority = e.Priority,
            Attempts = (int)attempts,
            MaxAttempts = e.MaxAttempts,
            EnqueuedAt = e.EnqueuedAt,
            AvailableAt = Time(x, "v") ?? (availableAtMs >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(availableAtMs) : e.EnqueuedAt),
            LeaseExpiresAt = state == JobState.Active && leaseDeadlineMs >= 0 ? DateTimeOffset.FromUnixTimeMilliseconds(leaseDeadlineMs) : null,
            LastError = (string?)Get(x, "err"),
            LastErrorCategory = x.ContainsKey("ec") ? (ErrorCategory)Int(x, "ec", 0) : null,
            Failures = Failures(Get(x, "f")),
            Checkpoint = x.TryGetValue("c", out RedisValue c) ? (ReadOnlyMemory<byte>?)(byte[])c! : null,
            TraceParent = e.TraceParent,
            CorrelationId = e.CorrelationId,
            IdempotencyKey = e.IdempotencyKey,
        };
    }

    // Most fetched jobs have no x hash (never failed, never delayed): they share one empty, never-written dictionary.
    private static readonly Dictionary<string, RedisValue> NoFields = new(0, StringComparer.Ordinal);

    private static Dictionary<string, RedisValue> ToFields(RedisResult[] hash)
    {
        if (hash.Length < 2)
        {
            return NoFields;
        }

        var fields = new Dictionary<string, RedisValue>(hash.Length / 2, StringComparer.Ordinal);
        for (int i = 0; i + 1 < hash.Length; i += 2)
        {
            fields[(string)hash[i]!] = (RedisValue)hash[i + 1];
        }

        return fields;
    }

    private static RedisValue Get(Dictionary<string, RedisValue> f, string name) => f.TryGetValue(name, out RedisValue v) ? v : RedisValue.Null;

    private static int Int(Dictionary<string, RedisValue> f, string name, int fallback) =>
        f.TryGetValue(name, out RedisValue v) && int.TryParse((string?)v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : fallback;

    private static DateTimeOffset? Time(Dictionary<string, RedisValue> f, string name) =>
        f.TryGetValue(name, out RedisValue v) && long.TryParse((string?)v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : null;

    private static JobFailureRecord[] Failures(RedisValue json)
    {
        if (json.IsNull)
        {
            return [];
        }

        using JsonDocument doc = JsonDocument.Parse((byte[])json!);
        var records = new List<JobFailureRecord>(doc.RootElement.GetArrayLength());
        foreach (JsonElement e in doc.RootElement.EnumerateArray())
        {
            records.Add(new JobFailureRecord(
                DateTimeOffset.FromUnixTimeMilliseconds((long)e[0].GetDouble()),
                (int)e[1].GetDouble(),
                (ErrorCategory)(int)e[2].GetDouble(),
                e[3].GetString() ?? string.Empty));
        }

        return records.ToArray();
    }
}
