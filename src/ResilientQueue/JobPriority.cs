namespace ResilientQueue;

/// <summary>The range of job priorities. Higher values are fetched first; within one priority jobs are FIFO.</summary>
public static class JobPriority
{
    /// <summary>The lowest priority, and the default: 0.</summary>
    public const int Lowest = 0;

    /// <summary>The highest priority: 9.</summary>
    public const int Highest = 9;
}
