using ResilientQueue.Redis.Scripting;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Streams;

/// <summary>
/// The one place that names a stream queue's keys, as one group sees them. Every key shares the hash tag
/// <c>{rq:&lt;queue&gt;}</c> (one Redis Cluster slot per queue). The queue's keys (<c>{rq:q}:…</c>) are shared by its
/// groups; each group's own keys are <c>{rq:q}:g:&lt;group&gt;:…</c>, and the scripts derive a group's per-job keys
/// from <see cref="GroupMeta"/> by cutting its <c>meta</c> suffix, as the list backend's do from its meta key.
/// </summary>
internal sealed class RedisStreamKeys
{
    public RedisStreamKeys(string queueName, string group)
    {
        Prefix = "{rq:" + queueName + "}:";
        GroupPrefix = Prefix + "g:" + group + ":";
        Meta = Prefix + RedisKeys.MetaSuffix;
        Stream = Prefix + "stream";
        Entries = Prefix + "entries";
        Delayed = Prefix + "delayed";
        Groups = Prefix + "groups";
        GroupMeta = GroupPrefix + RedisKeys.MetaSuffix;
        Ready = GroupPrefix + "ready";
        GroupDelayed = GroupPrefix + "delayed";
        Active = GroupPrefix + "active";
        Lease = GroupPrefix + "lease";
        Attempts = GroupPrefix + "attempts";
        Dead = GroupPrefix + "dead";
        Completed = GroupPrefix + "completed";
        NotifyChannelName = Prefix + "notify";
        DoneChannel = DoneChannelOf(Prefix, group);
        NotifyChannel = RedisChannel.Literal(NotifyChannelName);
    }

    /// <summary><c>{rq:q}:</c> — the prefix of every key of the queue.</summary>
    public string Prefix { get; }

    /// <summary><c>{rq:q}:g:&lt;group&gt;:</c> — the prefix of the group's keys.</summary>
    public string GroupPrefix { get; }

    /// <summary>Hash: <c>kind</c> = <c>stream</c>, <c>added</c> (entries added to the stream, in all).</summary>
    public RedisKey Meta { get; }

    /// <summary>Stream: one entry per job (fields <c>j</c> job id, <c>t</c> when it entered the stream, <c>e</c> the envelope).</summary>
    public RedisKey Stream { get; }

    /// <summary>Hash: job id → stream entry id, while the entry is in the stream.</summary>
    public RedisKey Entries { get; }

    /// <summary>Sorted set of delayed enqueues by due time (Unix ms); they join the stream when due.</summary>
    public RedisKey Delayed { get; }

    /// <summary>Hash: group → where it started (<c>0</c> or <c>$</c>), for every group the library created.</summary>
    public RedisKey Groups { get; }

    /// <summary>Hash: <c>read</c> (entries delivered to the group, in all), <c>fence</c>, <c>paused</c>, <c>dtrim</c>, <c>cseq</c>.</summary>
    public RedisKey GroupMeta { get; }

    /// <summary>List of job ids that came back to the group (released, aborted, reaped, retried, requeued): RPOP = head.</summary>
    public RedisKey Ready { get; }

    /// <summary>Sorted set of the group's retries by due time (Unix ms).</summary>
    public RedisKey GroupDelayed { get; }

    /// <summary>Sorted set of the group's leased job ids by lease deadline (Unix ms).</summary>
    public RedisKey Active { get; }

    /// <summary>Hash: job id → the current fencing token, while the job is active in the group.</summary>
    public RedisKey Lease { get; }

    /// <summary>Hash: job id → attempts in the group (<c>n</c>, or <c>n+</c> when it has an x hash), for every job the group tracks.</summary>
    public RedisKey Attempts { get; }

    /// <summary>Sorted set of the group's dead-lettered job ids by dead-letter time (Unix ms).</summary>
    public RedisKey Dead { get; }

    /// <summary>Sorted set of the group's retained completed job ids by completion sequence.</summary>
    public RedisKey Completed { get; }

    /// <summary>The pub/sub channel the scripts publish to when jobs may have become ready (the list backend's channel name).</summary>
    public RedisChannel NotifyChannel { get; }

    /// <summary>The name of <see cref="NotifyChannel"/>, as the scripts receive it.</summary>
    public string NotifyChannelName { get; }

    /// <summary>The group's pub/sub channel of completions, <c>{rq:q}:g:&lt;group&gt;:done</c>: the ids of the group's jobs that completed with a result or failed for good (or <c>*</c>: look again, all), for waiting producers.</summary>
    public RedisChannel DoneChannel { get; }

    /// <summary><c>{rq:q}:g:&lt;group&gt;:result:&lt;id&gt;</c> — the group's stored result of a job (<see cref="Lists.RedisResultCodec"/>), a string with a TTL.</summary>
    public RedisKey Result(string jobId) => GroupPrefix + "result:" + jobId;

    /// <summary>The done channel of any group of the queue whose keys start with <paramref name="prefix"/> (<c>{rq:q}:</c>).</summary>
    public static RedisChannel DoneChannelOf(string prefix, string group) => RedisChannel.Literal(prefix + "g:" + group + ":done");

    /// <summary><c>{rq:q}:idem:&lt;key&gt;</c> — an idempotency key, shared by the groups.</summary>
    public RedisKey Idempotency(string key) => Prefix + "idem:" + key;

    /// <summary><c>{rq:q}:g:&lt;group&gt;:turn:&lt;name&gt;</c> — a maintenance turn of the group (the reaper's is <c>reaper</c>).</summary>
    public RedisKey Turn(string name) => GroupPrefix + "turn:" + name;
}
