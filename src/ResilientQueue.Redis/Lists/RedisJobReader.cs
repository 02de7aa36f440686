using System.Globalization;
using System.Text.Json;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

/// <summary>Turns a job hash (HGETALL: field, value, field, value …) into a <see cref="Job"/>.</summary>
/// <remarks>
/// Fields: p payload, pr priority, a attempts, m max attempts, e enqueued (ms), v available (ms), t token,
/// l lease deadline (ms), err last error, ec its category, f failures (JSON [[ms, attempt, category, error], …]),
/// c checkpoint, tp traceparent, ci correlation id, ik idempotency key, dt dead at (ms), dr dead reason,
/// dc dead category.
/// </remarks>
internal static class RedisJobReader
{
    public static Job Read(string queue, string id, JobState state, RedisResult[] hash) => Read(queue, id, state, ToFields(hash));

    public static DeadLetterEntry ReadDeadLetter(string queue, RedisResult[] hash)
    {
        Dictionary<string, RedisValue> fields = ToFields(hash);
        string id = fields.TryGetValue("id", out RedisValue idValue) ? (string)idValue! : throw new FormatException("A dead-letter listing returned a job without its id.");
        return ToDeadLetter(Read(queue, id, JobState.Dead, fields), fields);
    }

    public static DeadLetterEntry ToDeadLetter(Job job, RedisResult[] hash) => ToDeadLetter(job, ToFields(hash));

    private static DeadLetterEntry ToDeadLetter(Job job, Dictionary<string, RedisValue> f) =>
        new(job, Time(f, "dt") ?? job.AvailableAt, (string?)Get(f, "dr") ?? string.Empty, (ErrorCategory)Int(f, "dc", 0));

    private static Job Read(string queue, string id, JobState state, Dictionary<string, RedisValue> f) => new()
    {
        Id = id,
        Queue = queue,
        Payload = (byte[]?)Get(f, "p") ?? [],
        State = state,
        Priority = Int(f, "pr", 0),
        Attempts = Int(f, "a", 0),
        MaxAttempts = Int(f, "m", 1),
        EnqueuedAt = Time(f, "e") ?? DateTimeOffset.UnixEpoch,
        AvailableAt = Time(f, "v") ?? DateTimeOffset.UnixEpoch,
        LeaseExpiresAt = state == JobState.Active ? Time(f, "l") : null,
        LastError = (string?)Get(f, "err"),
        LastErrorCategory = f.ContainsKey("ec") ? (ErrorCategory)Int(f, "ec", 0) : null,
        Failures = Failures(Get(f, "f")),
        Checkpoint = f.TryGetValue("c", out RedisValue c) ? (ReadOnlyMemory<byte>?)(byte[])c! : null,
        TraceParent = (string?)Get(f, "tp"),
        CorrelationId = (string?)Get(f, "ci"),
        IdempotencyKey = (string?)Get(f, "ik"),
    };

    private static Dictionary<string, RedisValue> ToFields(RedisResult[] hash)
    {
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
