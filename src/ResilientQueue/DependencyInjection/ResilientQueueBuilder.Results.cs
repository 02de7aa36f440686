using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ResilientQueue.Processing;

namespace ResilientQueue.DependencyInjection;

public sealed partial class ResilientQueueBuilder
{
    /// <summary>
    /// Runs the result handler <typeparamref name="THandler"/> on the jobs of <paramref name="queueName"/> in a hosted
    /// worker, as <see cref="AddHandler{THandler, TPayload}"/> does, and stores what it returns as each job's result:
    /// serialized with the queue's serializer and written with the job's acknowledgement, in one atomic step, for
    /// <see cref="JobQueueOptions.Results"/>' retention. Producers get it with <see cref="IJobProducer.WaitForResultAsync"/>
    /// or <c>EnqueueAndWaitAsync</c>. The handler is resolved from a new scope for every job (registered as transient
    /// unless already registered; registered as a singleton, it is resolved once and runs without a scope). One handler
    /// per queue.
    /// </summary>
    /// <typeparam name="THandler">The handler.</typeparam>
    /// <typeparam name="TPayload">The payload type.</typeparam>
    /// <typeparam name="TResult">The result type.</typeparam>
    /// <param name="queueName">The queue.</param>
    /// <param name="configure">Changes the worker's options; validated at start-up.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">The queue already has a handler.</exception>
    public ResilientQueueBuilder AddHandler<THandler, TPayload, TResult>(string queueName, Action<JobWorkerOptions>? configure = null)
        where THandler : class, IJobHandler<TPayload, TResult>
    {
        QueueNames.ThrowIfInvalid(queueName);
        Services.TryAddTransient<THandler>();
        return AddHandler<ResultHandlerAdapter<THandler, TPayload, TResult>, TPayload>(queueName, configure);
    }
}
