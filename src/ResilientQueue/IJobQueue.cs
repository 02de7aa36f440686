namespace ResilientQueue;

/// <summary>
/// One job queue, in its three roles: <see cref="IJobProducer"/> (enqueue, backpressure), <see cref="IJobConsumer"/>
/// (fetch, ack, fail, renew, release, checkpoint, wait) and <see cref="IJobQueueAdmin"/> (look up, count, pause, reap,
/// clear, dead letters). Every operation is one atomic transition of the job state machine (ready → active →
/// completed, delayed, dead; dead → ready), safe to call from many threads and processes. Give each part of an app
/// the role it needs. A backend implements it by deriving from <see cref="Backends.JobQueueBase"/>.
/// </summary>
/// <remarks>
/// Bad arguments throw before anything changes: the <see cref="ArgumentException"/> family naming the argument,
/// <see cref="InvalidOptionsException"/> naming the option, <see cref="PayloadTooLargeException"/>. Expected races are
/// results, not exceptions: a lost lease, a duplicate enqueue, a dead-letter entry someone else requeued first.
/// </remarks>
public interface IJobQueue : IJobProducer, IJobConsumer, IJobQueueAdmin
{
    /// <summary>The queue's name (see <see cref="QueueNames"/>).</summary>
    new string Name { get; }
}
