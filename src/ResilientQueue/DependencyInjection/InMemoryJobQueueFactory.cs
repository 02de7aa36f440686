using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ResilientQueue.InMemory;

namespace ResilientQueue.DependencyInjection;

/// <summary>Creates <see cref="InMemoryJobQueue"/>s: the embedded default backend.</summary>
internal sealed class InMemoryJobQueueFactory(TimeProvider time, IServiceProvider services) : IJobQueueFactory
{
    public IJobQueue Create(string queueName, JobQueueOptions options) =>
        new InMemoryJobQueue(queueName, options, time, Loggers.Of(services).CreateLogger<InMemoryJobQueue>());
}

/// <summary>The host's logger factory, or none when the app registered no logging.</summary>
internal static class Loggers
{
    public static ILoggerFactory Of(IServiceProvider services) =>
        (ILoggerFactory?)services.GetService(typeof(ILoggerFactory)) ?? NullLoggerFactory.Instance;
}
