using ResilientQueue.DependencyInjection;

namespace ResilientQueue.AspNetCore.Dashboard;

/// <summary>The queues the dashboard lists: the app's configured queues and <see cref="DashboardOptions.Queues"/>, in ordinal order, at most <see cref="DashboardOptions.MaxQueues"/>.</summary>
internal sealed class DashboardQueues(IJobQueueProvider provider, DashboardOptions options)
{
    public IJobQueueProvider Provider => provider;

    public IReadOnlyList<string> Names =>
        [.. provider.ConfiguredQueues.Concat(options.Queues).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(options.MaxQueues)];

    /// <summary>The queue, when it is one the dashboard lists: a URL never opens (or creates) any other.</summary>
    public IJobQueue? Find(string? name) =>
        name is not null && Names.Contains(name, StringComparer.Ordinal) ? provider.GetQueue(name) : null;
}
