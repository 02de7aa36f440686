namespace ResilientQueue.Concurrency;

/// <summary>What one call protected by an <see cref="AdaptiveConcurrencyLimiter"/> told about the capacity of what it called.</summary>
public enum ConcurrencyOutcome
{
    /// <summary>The call finished normally; its latency is a sample for the algorithm.</summary>
    Success = 0,

    /// <summary>The call showed overload: a timeout, a 429/503 or a transient error. The limit shrinks (once per congestion event).</summary>
    Drop = 1,

    /// <summary>The call says nothing about capacity (cancelled, bad input, a bug): it frees its permits and is not a sample.</summary>
    Ignore = 2,
}
