using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue.Conformance;

/// <summary>
/// The behaviour every <see cref="IJobQueue"/> backend must have. Each backend's test project subclasses this once and
/// says how to create a queue; every scenario then runs against that backend.
/// </summary>
public abstract partial class JobQueueConformanceTests : IAsyncLifetime
{
    protected static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly List<IJobQueue> _created = [];

    /// <summary>The clock of every queue the test creates; it moves only when the test advances it.</summary>
    protected FakeTimeProvider Time { get; } = new();

    /// <summary>What the queues the test created logged.</summary>
    protected FakeLogCollector Logs { get; } = new();

    /// <summary>The logger every queue the test creates is given; it writes to <see cref="Logs"/>.</summary>
    protected ILogger QueueLogger => new FakeLogger(Logs, "ResilientQueue.Conformance");

    /// <summary>
    /// Creates a queue of the backend under test, with this clock and this logger. Must throw the queue-name exceptions of
    /// <see cref="QueueNames"/> for bad names.
    /// </summary>
    protected abstract ValueTask<IJobQueue> CreateQueueAsync(string name, JobQueueOptions options, TimeProvider timeProvider, ILogger logger);

    /// <summary>Releases what <see cref="CreateQueueAsync"/> created.</summary>
    protected virtual ValueTask DisposeQueueAsync(IJobQueue queue) =>
        queue is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (IJobQueue queue in _created)
        {
            await DisposeQueueAsync(queue);
        }
    }

    protected async Task<IJobQueue> NewQueueAsync(Action<JobQueueOptions>? configure = null)
    {
        var options = new JobQueueOptions();
        configure?.Invoke(options);
        IJobQueue queue = await CreateQueueAsync("conf-" + Guid.NewGuid().ToString("N")[..12], options, Time, QueueLogger);
        _created.Add(queue);
        return queue;
    }

    protected static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    protected static string Text(Job job) => Encoding.UTF8.GetString(job.Payload.Span);

    protected static async Task<string> EnqueueAsync(IJobQueue queue, string text, EnqueueOptions? options = null) =>
        (await queue.EnqueueAsync(Bytes(text), options)).JobId;

    protected static async Task<LeasedJob> FetchOneAsync(IJobQueue queue, TimeSpan? lease = null)
    {
        IReadOnlyList<LeasedJob> jobs = await queue.FetchAsync(1, lease ?? Lease);
        jobs.Should().ContainSingle("a job was expected to be ready");
        return jobs[0];
    }

    /// <summary>Fetches one job and marks its handler started, as a worker does when it runs it.</summary>
    protected static async Task<LeasedJob> FetchStartedAsync(IJobQueue queue, TimeSpan? lease = null)
    {
        LeasedJob job = await FetchOneAsync(queue, lease);
        (await queue.MarkStartedManyAsync([job.Lease])).Should().Equal(LeaseResult.Succeeded);
        return job;
    }

    protected static async Task<List<string>> DrainTextsAsync(IJobQueue queue, int batch = 1000)
    {
        var texts = new List<string>();
        while (true)
        {
            IReadOnlyList<LeasedJob> jobs = await queue.FetchAsync(batch, Lease);
            if (jobs.Count == 0)
            {
                return texts;
            }

            texts.AddRange(jobs.Select(j => Text(j.Job)));
        }
    }

    protected static JobError Error(string message = "boom", ErrorCategory category = ErrorCategory.Transient) =>
        new("InvalidOperationException", message, category);

    /// <summary>Enqueues a job, fetches it and fails it with a dead-letter decision; returns its id.</summary>
    protected static async Task<string> DeadLetterAsync(IJobQueue queue, string text, ErrorCategory category = ErrorCategory.Validation)
    {
        string id = await EnqueueAsync(queue, text);
        LeasedJob leased = await FetchOneAsync(queue);
        leased.Job.Id.Should().Be(id);
        (await queue.FailAsync(leased.Lease, Error("bad " + text, category), RecoveryDecision.DeadLetter("poison " + text))).Outcome.Should().Be(FailOutcome.DeadLettered);
        return id;
    }

    protected static async Task<QueueStatus> StatusAsync(IJobQueue queue) => await queue.GetStatusAsync();

    protected static void ShouldCount(QueueStatus status, long ready = 0, long delayed = 0, long active = 0, long dead = 0, long completed = 0)
    {
        status.Ready.Should().Be(ready, "ready count");
        status.Delayed.Should().Be(delayed, "delayed count");
        status.Active.Should().Be(active, "active count");
        status.Dead.Should().Be(dead, "dead count");
        status.Completed.Should().Be(completed, "completed count");
    }
}
