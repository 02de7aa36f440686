namespace ResilientQueue.DependencyInjection;

/// <summary>The queues that already have a handler, shared by every call of <c>AddResilientQueue</c> on one collection.</summary>
internal sealed class HandledQueues
{
    public HashSet<string> Queues { get; } = new(StringComparer.Ordinal);
}
