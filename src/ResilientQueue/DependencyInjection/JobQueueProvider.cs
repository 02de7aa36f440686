using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace ResilientQueue.DependencyInjection;

/// <summary>One queue per name, created by the backend's factory with the name's options, disposed with the container.</summary>
internal sealed class JobQueueProvider(IJobQueueFactory factory, IOptionsMonitor<JobQueueOptions> options) : IJobQueueProvider, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<IJobQueue>> _queues = new(StringComparer.Ordinal);

    public IJobQueue GetQueue(string queueName)
    {
        QueueNames.ThrowIfInvalid(queueName);
        return _queues.GetOrAdd(
            queueName,
            name => new Lazy<IJobQueue>(() => new ProducerJobQueue(factory.Create(name, options.Get(name))), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (Lazy<IJobQueue> queue in _queues.Values)
        {
            if (queue.IsValueCreated && ((ProducerJobQueue)queue.Value).Inner is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
