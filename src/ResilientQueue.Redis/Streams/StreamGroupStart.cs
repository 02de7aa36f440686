namespace ResilientQueue.Redis.Streams;

/// <summary>Where a consumer group created on a stream that already holds entries starts reading.</summary>
public enum StreamGroupStart
{
    /// <summary>At the first entry the stream still holds: the retained history (<see cref="RedisStreamOptions.HistoryMaxCount"/>) and every entry some other group has not finished.</summary>
    RetainedHistory = 0,

    /// <summary>After the last entry: the group gets only jobs added from its creation on.</summary>
    NewJobs = 1,
}
