using Microsoft.Extensions.Options;
using ResilientQueue.Serialization;
using ResilientQueue.Telemetry;

namespace ResilientQueue.DependencyInjection;

/// <summary>
/// One queue per name, created by the backend's factory with the name's options (and, unless they name one, the
/// serializer registered in DI, so producers and the worker agree), disposed with the container (synchronously or
/// asynchronously). A creation that fails (invalid options) is not cached: the next call tries again.
/// </summary>
internal sealed class JobQueueProvider(IJobQueueFactory factory, IOptionsMonitor<JobQueueOptions> options, IJobSerializer serializer, HandledQueues handled, IOptions<QueueMetricsOptions> observed) : IJobQueueProvider, IDisposable, IAsyncDisposable
{
    private readonly Dictionary<string, IJobQueue> _queues = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public IReadOnlyList<string> ConfiguredQueues =>
        [.. handled.Queues.Concat(observed.Value.Queues).Where(QueueNames.IsValid).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    public IJobQueue GetQueue(string queueName)
    {
        QueueNames.ThrowIfInvalid(queueName);
        lock (_gate)
        {
            if (!_queues.TryGetValue(queueName, out IJobQueue? queue))
            {
                JobQueueOptions configured = options.Get(queueName);
                if (configured.Serializer is null)
                {
                    configured = configured.ValidatedCopy();
                    configured.Serializer = serializer;
                }

                queue = factory.Create(queueName, configured);
                _queues.Add(queueName, queue);
            }

            return queue;
        }
    }

    public void Dispose()
    {
        foreach (IJobQueue queue in TakeAll())
        {
            (queue as IDisposable)?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (IJobQueue queue in TakeAll())
        {
            if (queue is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                (queue as IDisposable)?.Dispose();
            }
        }
    }

    private IJobQueue[] TakeAll()
    {
        lock (_gate)
        {
            IJobQueue[] all = [.. _queues.Values];
            _queues.Clear();
            return all;
        }
    }
}
