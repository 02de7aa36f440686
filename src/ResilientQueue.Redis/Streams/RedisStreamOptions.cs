namespace ResilientQueue.Redis.Streams;

/// <summary>
/// Options of the Redis stream backend (<see cref="RedisStreamJobQueue"/>): which consumer group a queue object reads
/// as, which groups a producer declares, what acknowledged history the stream keeps, and its housekeeping. Validated
/// when a queue is created (and at start-up through <c>UseRedisStreams</c>).
/// </summary>
public sealed class RedisStreamOptions
{
    /// <summary>The group a queue object reads as when none is set: <c>default</c>.</summary>
    public const string DefaultGroup = "default";

    /// <summary>The longest group name: 64 characters.</summary>
    public const int MaxGroupNameLength = 64;

    /// <summary>
    /// The consumer group this queue object reads as: its leases, attempts, retries, dead letters, counts and pause are
    /// the group's; every group gets every job. Created on the first fetch (never by an enqueue: see
    /// <see cref="Groups"/>). 1 to 64 ASCII letters, digits, <c>-</c>, <c>_</c> or <c>.</c>. Default: <c>default</c>.
    /// </summary>
    public string Group { get; set; } = DefaultGroup;

    /// <summary>
    /// The consumer name this queue object reads as (<c>XREADGROUP</c>), unique per process; it only says who holds a
    /// pending entry (the fence is the lease token). Default: <see langword="null"/>, <c>&lt;machine&gt;:&lt;pid&gt;:&lt;random&gt;</c>.
    /// At most 200 characters.
    /// </summary>
    public string? Consumer { get; set; }

    /// <summary>
    /// The groups of the pipeline, created (when missing) before this queue object's first enqueue, so that no job
    /// reaches the stream, and no entry is trimmed, before each of them can get it. A group that is not declared
    /// anywhere gets the jobs enqueued before it was created only while the stream still holds them (see
    /// <see cref="NewGroupStart"/>). Default: none.
    /// </summary>
    public IList<string> Groups { get; set; } = [];

    /// <summary>Where a group created on a stream that holds entries starts. Default: <see cref="StreamGroupStart.RetainedHistory"/>.</summary>
    public StreamGroupStart NewGroupStart { get; set; } = StreamGroupStart.RetainedHistory;

    /// <summary>
    /// How many of its newest entries the stream keeps after every group has acknowledged them, so that a group created
    /// later can replay them (besides every entry some group has not finished, which is never deleted). 0 deletes an
    /// entry as soon as every group is past it. Default: 0. From 0 to 100,000,000.
    /// </summary>
    public long HistoryMaxCount { get; set; }

    /// <summary>
    /// How long the kept history (<see cref="HistoryMaxCount"/>) lasts: acknowledged entries that entered the stream
    /// longer ago are deleted even within the count. Default: <see langword="null"/>, no age bound. From 1 second to
    /// 365 days; needs <see cref="HistoryMaxCount"/> above 0.
    /// </summary>
    public TimeSpan? HistoryMaxAge { get; set; }

    /// <summary>
    /// How long a consumer with nothing pending stays in its group after its last read (by the server's clock; removing
    /// one is harmless, a read creates it again). A consumer with pending entries is never removed. Default: 1 hour.
    /// From 1 second to 30 days.
    /// </summary>
    public TimeSpan IdleConsumerRemoval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often a queue object runs the stream's housekeeping (deleting acknowledged entries, removing idle consumers)
    /// after acknowledgements and reaps. Default: 1 second. From 10 ms to 1 hour.
    /// </summary>
    public TimeSpan HousekeepingInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether <paramref name="group"/> is a valid group name (see <see cref="Group"/>).</summary>
    /// <param name="group">The name.</param>
    /// <returns><see langword="true"/> when it is.</returns>
    public static bool IsValidGroupName(string? group) =>
        group is { Length: > 0 and <= MaxGroupNameLength } && group.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>Checks every option and throws for the first that is out of range.</summary>
    /// <exception cref="InvalidOptionsException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        foreach ((string option, string message) in Problems())
        {
            throw new InvalidOptionsException(option, message);
        }
    }

    /// <summary>Every option out of range, each with what is wrong.</summary>
    internal IEnumerable<(string Option, string Message)> Problems()
    {
        if (!IsValidGroupName(Group))
        {
            yield return ("RedisStreamOptions.Group", GroupProblem(Group));
        }

        if (Consumer is not null && (Consumer.Length == 0 || Consumer.Length > 200 || Consumer.Any(char.IsControl)))
        {
            yield return ("RedisStreamOptions.Consumer", $"must be 1 to 200 characters without control characters when set, was '{Consumer}'.");
        }

        if (Groups is null)
        {
            yield return ("RedisStreamOptions.Groups", "cannot be null.");
        }
        else
        {
            foreach (string group in Groups)
            {
                if (!IsValidGroupName(group))
                {
                    yield return ("RedisStreamOptions.Groups", GroupProblem(group));
                }
            }
        }

        if (!Enum.IsDefined(NewGroupStart))
        {
            yield return ("RedisStreamOptions.NewGroupStart", $"must be RetainedHistory or NewJobs, was {(int)NewGroupStart}.");
        }

        if (HistoryMaxCount is < 0 or > 100_000_000)
        {
            yield return ("RedisStreamOptions.HistoryMaxCount", $"must be from 0 to 100000000, was {HistoryMaxCount}.");
        }

        if (HistoryMaxAge is { } age && (age < TimeSpan.FromSeconds(1) || age > TimeSpan.FromDays(365)))
        {
            yield return ("RedisStreamOptions.HistoryMaxAge", $"must be from 1 second to 365 days when set, was {age}.");
        }
        else if (HistoryMaxAge is not null && HistoryMaxCount == 0)
        {
            yield return ("RedisStreamOptions.HistoryMaxAge", "bounds the kept history, but HistoryMaxCount is 0 (no history is kept); set HistoryMaxCount too.");
        }

        if (IdleConsumerRemoval < TimeSpan.FromSeconds(1) || IdleConsumerRemoval > TimeSpan.FromDays(30))
        {
            yield return ("RedisStreamOptions.IdleConsumerRemoval", $"must be from 1 second to 30 days, was {IdleConsumerRemoval}.");
        }

        if (HousekeepingInterval < TimeSpan.FromMilliseconds(10) || HousekeepingInterval > TimeSpan.FromHours(1))
        {
            yield return ("RedisStreamOptions.HousekeepingInterval", $"must be from 10 ms to 1 hour, was {HousekeepingInterval}.");
        }
    }

    /// <summary>A validated copy, so later changes do not reach a queue already created.</summary>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    internal RedisStreamOptions ValidatedCopy()
    {
        Validate();
        return new RedisStreamOptions
        {
            Group = Group,
            Consumer = Consumer,
            Groups = [.. Groups.Distinct(StringComparer.Ordinal)],
            NewGroupStart = NewGroupStart,
            HistoryMaxCount = HistoryMaxCount,
            HistoryMaxAge = HistoryMaxAge,
            IdleConsumerRemoval = IdleConsumerRemoval,
            HousekeepingInterval = HousekeepingInterval,
        };
    }

    private static string GroupProblem(string? group) =>
        group is null
            ? "a group name cannot be null."
            : $"a group name has 1 to {MaxGroupNameLength} ASCII letters, digits, '-', '_' or '.'; '{group}' does not.";
}
