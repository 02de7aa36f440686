using Microsoft.Extensions.Options;

namespace ResilientQueue.DependencyInjection;

/// <summary>
/// One queue per name, created by the backend's factory with the name's options, disposed with the container
/// (synchronously or asynchronously). A creation that fails (invalid options) is not cached: the next call tries again.
/// </summary>
internal sealed class JobQueueProvider(IJobQueueFactory factory, IOptionsMonitor<JobQueueOptions> options) : IJobQueueProvider, IDisposable, IAsyncDisposable
{
    private readonly Dictionary<string, ProducerJobQueue> _queues = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public IJobQueue GetQueue(string queueName)
    {
        QueueNames.ThrowIfInvalid(queueName);
        lock (_gate)
        {
            if (!_queues.TryGetValue(queueName, out ProducerJobQueue? queue))
            {
                queue = new ProducerJobQueue(factory.Create(queueName, options.Get(queueName)));
                _queues.Add(queueName, queue);
            }

            return queue;
        }
    }

    public void Dispose()
    {
        foreach (ProducerJobQueue queue in TakeAll())
        {
            (queue.Inner as IDisposable)?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ProducerJobQueue queue in TakeAll())
        {
            if (queue.Inner is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                (queue.Inner as IDisposable)?.Dispose();
            }
        }
    }

    private ProducerJobQueue[] TakeAll()
    {
        lock (_gate)
        {
            ProducerJobQueue[] all = [.. _queues.Values];
            _queues.Clear();
            return all;
        }
    }
}
