using StackExchange.Redis;

namespace ResilientQueue.Redis.Scripting;

/// <summary>
/// The one place that names a queue's keys. Every key shares the hash tag <c>{rq:&lt;queue&gt;}</c>, so a queue lives on
/// one Redis Cluster slot; scripts derive job keys from <see cref="Meta"/> by replacing its <c>meta</c> suffix.
/// </summary>
internal sealed class RedisKeys
{
    internal const string MetaSuffix = "meta";

    public RedisKeys(string queueName)
    {
        Prefix = "{rq:" + queueName + "}:";
        Meta = Prefix + MetaSuffix;
        Ready = Prefix + "ready";
        Priority = Prefix + "prio";
        Delayed = Prefix + "delayed";
        Active = Prefix + "active";
        Dead = Prefix + "dead";
        Completed = Prefix + "completed";
        Lease = Prefix + "lease";
        Attempts = Prefix + "attempts";
        NotifyChannelName = Prefix + "notify";
        NotifyChannel = RedisChannel.Literal(NotifyChannelName);
        DoneChannelName = Prefix + "done";
        DoneChannel = RedisChannel.Literal(DoneChannelName);
    }

    /// <summary><c>{rq:q}:</c> — the prefix of every key of the queue.</summary>
    public string Prefix { get; }

    /// <summary>Hash: paused flag, depth counter, fencing counter, sequence counters, dead-letter trim total.</summary>
    public RedisKey Meta { get; }

    /// <summary>List of job ids at priority 0: pushed on the left, popped from the right (FIFO); a release pushes on the right.</summary>
    public RedisKey Ready { get; }

    /// <summary>Sorted set of job ids at priorities 1–9, scored so that ZPOPMIN gives highest priority first, FIFO within one.</summary>
    public RedisKey Priority { get; }

    /// <summary>Sorted set of job ids scored by due time (Unix ms).</summary>
    public RedisKey Delayed { get; }

    /// <summary>Sorted set of leased job ids scored by lease deadline (Unix ms).</summary>
    public RedisKey Active { get; }

    /// <summary>Sorted set of dead-lettered job ids scored by dead-letter time (Unix ms).</summary>
    public RedisKey Dead { get; }

    /// <summary>Sorted set of retained completed job ids scored by completion sequence (oldest first); the time is the job's <c>ct</c> field.</summary>
    public RedisKey Completed { get; }

    /// <summary>Hash: job id → its current fencing token (<c>&lt;fence&gt;:&lt;granted at, Unix ms&gt;</c>), only while the job is active.</summary>
    public RedisKey Lease { get; }

    /// <summary>Hash: job id → attempts, as <c>n</c>, or <c>n+</c> when the job has an x hash.</summary>
    public RedisKey Attempts { get; }

    /// <summary>The pub/sub channel the scripts publish to when jobs may have become ready.</summary>
    public RedisChannel NotifyChannel { get; }

    /// <summary>The name of <see cref="NotifyChannel"/>, as the scripts receive it.</summary>
    public string NotifyChannelName { get; }

    /// <summary>The pub/sub channel the scripts publish the ids of jobs to (space-separated) when they completed with a result or failed for good; <c>*</c> when every waiter should look again.</summary>
    public RedisChannel DoneChannel { get; }

    /// <summary>The name of <see cref="DoneChannel"/>, as the scripts derive it.</summary>
    public string DoneChannelName { get; }

    /// <summary><c>{rq:q}:result:&lt;id&gt;</c> — the result of one completed job, a string (see <c>RedisResultCodec</c>) with a TTL.</summary>
    public RedisKey Result(string jobId) => Prefix + "result:" + jobId;

    /// <summary><c>{rq:q}:job:&lt;id&gt;</c> — the immutable envelope of one job, a string (see <c>RedisJobCodec</c>).</summary>
    public RedisKey Job(string jobId) => Prefix + "job:" + jobId;

    /// <summary><c>{rq:q}:x:&lt;id&gt;</c> — the rarely needed mutable fields of one job, a hash created only when one is set.</summary>
    public RedisKey Extra(string jobId) => Prefix + "x:" + jobId;

    /// <summary><c>{rq:q}:turn:&lt;name&gt;</c> — a maintenance turn (e.g. the reaper's): <c>holder|until-ms</c>, a string.</summary>
    public RedisKey Turn(string name) => Prefix + "turn:" + name;

    /// <summary><c>{rq:q}:idem:&lt;key&gt;</c> — an idempotency key, a string holding the job id, expiring after the window.</summary>
    public RedisKey Idempotency(string key) => Prefix + "idem:" + key;
}
