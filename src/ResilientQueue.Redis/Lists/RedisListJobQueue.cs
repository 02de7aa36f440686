using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ResilientQueue.Backpressure;
using ResilientQueue.DeadLetter;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;
using ResilientQueue.Redis.Connections;
using ResilientQueue.Redis.Scripting;
using ResilientQueue.Telemetry;
using StackExchange.Redis;

namespace ResilientQueue.Redis.Lists;

/// <summary>
/// A reliable job queue on Redis lists and sorted sets. Every transition of a job is one Lua script, so it is atomic
/// with any number of producers, consumers and operators in any number of processes; every key of the queue shares
/// the hash tag <c>{rq:&lt;queue&gt;}</c>, so it works on Redis Cluster. Fetch, ack and fail take batches. Idle consumers
/// are woken through pub/sub (<see cref="WaitForJobsAsync"/>); no blocking command is ever sent on the shared
/// multiplexer. "Now" comes from the <see cref="TimeProvider"/>, never from the server.
/// </summary>
/// <remarks>
/// Use one <see cref="IConnectionMultiplexer"/> per process. Run Redis with <c>maxmemory-policy noeviction</c>: an
/// evicted key is a lost job.
/// </remarks>
public sealed partial class RedisListJobQueue : IJobQueue, IAsyncDisposable, IDisposable
{
    private static readonly RedisValue[] NoValues = [];

    private readonly RedisConnection _connection;
    private readonly bool _disposesConnection;
    private readonly int _database;
    private Database? _db;
    private readonly RedisKeys _keys;
    private readonly JobQueueOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisDeadLetterStore _deadLetters;
    private readonly string _channel;
    private readonly Action<RedisChannel, RedisValue> _onNotify;
    private readonly object _signalGate = new();
    private TaskCompletionSource? _signal;
    private Task? _subscription;
    private IConnectionMultiplexer? _subscribedOn;
    private int _disposed;

    /// <summary>Creates a queue on a multiplexer the caller owns (one per process).</summary>
    /// <param name="multiplexer">The connection; the queue does not dispose it.</param>
    /// <param name="name">The queue's name (see <see cref="QueueNames"/>).</param>
    /// <param name="options">The queue's options, copied; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock for delays, leases and ages; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Where dead-letter trims are logged; <see langword="null"/> for none.</param>
    /// <param name="database">The Redis database; -1 (the default) for the multiplexer's default.</param>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    public RedisListJobQueue(IConnectionMultiplexer multiplexer, string name, JobQueueOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null, int database = -1)
        : this(RedisConnection.Share(multiplexer ?? throw new ArgumentNullException(nameof(multiplexer)), logger), disposesConnection: true, name, options, timeProvider, logger, database)
    {
    }

    /// <summary>A queue on a connection shared by several queues (the DI factory's); <paramref name="disposesConnection"/> when the queue alone uses it.</summary>
    internal RedisListJobQueue(RedisConnection connection, bool disposesConnection, string name, JobQueueOptions? options, TimeProvider? timeProvider, ILogger? logger, int database)
    {
        QueueNames.ThrowIfInvalid(name);
        Name = name;
        _options = (options ?? new JobQueueOptions()).ValidatedCopy();
        _connection = connection;
        _disposesConnection = disposesConnection;
        _database = database;
        _keys = new RedisKeys(name);
        _channel = _keys.NotifyChannelName;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _deadLetters = new RedisDeadLetterStore(this);
        _onNotify = (_, _) => Signal();

        // Nudges published while the connection was down are lost: a restored connection wakes idle consumers.
        _connection.Restored += Signal;
    }

    /// <summary>
    /// Creates a queue that opens its own connection to Redis and closes it when disposed. The connection is made in
    /// the background and never fails this call because Redis is down or refuses the credentials: operations wait for
    /// it (up to the client's timeout) and then throw <see cref="RedisConnectionException"/> (for refused credentials,
    /// one that says so, naming the endpoint and the user, never the password), and it keeps trying about every half
    /// second, so the queue works as soon as Redis answers.
    /// </summary>
    /// <param name="configuration">A StackExchange.Redis configuration string, e.g. <c>localhost:6379</c> or <c>redis1:6379,user=app,password=…</c>; <c>abortConnect</c> is always off.</param>
    /// <param name="name">The queue's name.</param>
    /// <param name="options">The queue's options; <see langword="null"/> for the defaults.</param>
    /// <param name="timeProvider">The clock; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <param name="logger">Where dead-letter trims are logged; <see langword="null"/> for none.</param>
    /// <returns>The queue, once the first connection attempt has ended (at most the connect timeout, 5 s by default).</returns>
    /// <exception cref="ArgumentException">The configuration string is invalid or names no endpoint, or the name is invalid.</exception>
    /// <exception cref="InvalidOptionsException">An option is out of range.</exception>
    /// <remarks>Prefer one shared multiplexer per process and the public constructor when the process has several queues.</remarks>
    public static async Task<RedisListJobQueue> ConnectAsync(string configuration, string name, JobQueueOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        QueueNames.ThrowIfInvalid(name);
        (options ?? new JobQueueOptions()).Validate();
        RedisConnection connection = RedisConnection.Open(configuration, logger, timeProvider);
        await connection.GetAsync().ConfigureAwait(false);
        return new RedisListJobQueue(connection, disposesConnection: true, name, options, timeProvider, logger, database: -1);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public IDeadLetterStore DeadLetters => _deadLetters;

    /// <inheritdoc />
    public async ValueTask<EnqueueResult> EnqueueAsync(ReadOnlyMemory<byte> payload, EnqueueOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.NormalizedEnqueue job = JobArguments.Enqueue(Name, payload, options, _options);
        var results = await RoomWaiter.RunAsync(Name, JobArguments.FullPolicy(options, _options), () => new ValueTask<EnqueueResult[]>(EnqueueCoreAsync([job])), WaitForRoomAsync, _time, cancellationToken).ConfigureAwait(false);
        return results[0];
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<EnqueueResult>> EnqueueManyAsync(IReadOnlyList<JobSubmission> jobs, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.NormalizedEnqueue[] normalized = JobArguments.EnqueueMany(Name, jobs, _options);
        return await RoomWaiter.RunAsync(Name, JobArguments.FullPolicy(null, _options), () => new ValueTask<EnqueueResult[]>(EnqueueCoreAsync(normalized)), WaitForRoomAsync, _time, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<BackpressureSignal> GetBackpressureAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();

        // The depth counter the enqueue script checks capacity against: one read, in the queue's slot.
        RedisValue depth = await RunAsync(static (db, keys) => db.HashGetAsync(keys.Meta, "depth"), _keys).ConfigureAwait(false);
        return ResilientQueueTelemetry.RecordBackpressure(Name, BackpressureSignal.From(depth.IsNull ? 0 : (long)depth, _options));
    }

    // Room appears when jobs finish; nothing announces it (a PUBLISH on every ack would cost the hot path), so a
    // waiting producer retries the atomic enqueue on RoomWaiter's backoff (5 ms doubling to 250 ms).
    private Task WaitForRoomAsync(TimeSpan wait, CancellationToken cancellationToken) => Task.Delay(wait, _time, cancellationToken);

    private async Task<EnqueueResult[]> EnqueueCoreAsync(JobArguments.NormalizedEnqueue[] jobs)
    {
        DateTimeOffset now = JobArguments.Now(_time);
        var ids = new string[jobs.Length];
        var args = new RedisValue[5 + (jobs.Length * 5)];
        args[0] = now.ToUnixTimeMilliseconds();
        args[1] = _options.Capacity;
        args[2] = (long)_options.IdempotencyWindow.TotalMilliseconds;
        args[3] = _channel;
        args[4] = jobs.Length;
        for (int i = 0; i < jobs.Length; i++)
        {
            JobArguments.NormalizedEnqueue job = jobs[i];
            ids[i] = Guid.CreateVersion7(now).ToString("N");
            int b = 5 + (i * 5);
            args[b] = ids[i];
            args[b + 1] = RedisJobCodec.Encode(job, now.ToUnixTimeMilliseconds());
            args[b + 2] = job.Priority;
            args[b + 3] = (long)job.Delay.TotalMilliseconds;
            args[b + 4] = job.IdempotencyKey ?? string.Empty;
        }

        RedisResult[] reply = (RedisResult[])(await EvalAsync(LuaScripts.Enqueue, [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Attempts], args).ConfigureAwait(false))!;
        if ((long)reply[0] == -1)
        {
            throw new QueueFullException(Name, _options.Capacity, (long)reply[1], (int)(long)reply[2]);
        }

        var results = new EnqueueResult[jobs.Length];
        for (int i = 0; i < jobs.Length; i++)
        {
            string duplicateOf = (string)reply[i + 1]!;
            results[i] = duplicateOf.Length == 0 ? new EnqueueResult(ids[i], Duplicate: false) : new EnqueueResult(duplicateOf, Duplicate: true);
        }

        return results;
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeasedJob>> FetchAsync(int maxCount, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        leaseDuration = JobArguments.Fetch(maxCount, leaseDuration);
        DateTimeOffset now = JobArguments.Now(_time);
        DateTimeOffset expires = now + leaseDuration;
        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            LuaScripts.Fetch,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Active, _keys.Lease, _keys.Attempts],
            [now.ToUnixTimeMilliseconds(), maxCount, expires.ToUnixTimeMilliseconds()]).ConfigureAwait(false))!;
        if (reply.Length == 0)
        {
            return [];
        }

        // {n, then id, token, attempts, envelope per job, then (index, x hash) for the jobs that have one}
        int count = (int)(long)reply[0];
        var extras = new Dictionary<int, RedisResult[]>();
        for (int i = 1 + (count * 4); i + 1 < reply.Length; i += 2)
        {
            extras[(int)(long)reply[i]] = (RedisResult[])reply[i + 1]!;
        }

        var leased = new List<LeasedJob>(count);
        long deadline = expires.ToUnixTimeMilliseconds();
        for (int j = 0; j < count; j++)
        {
            int i = 1 + (j * 4);
            string id = (string)reply[i]!;
            string token = (string)reply[i + 1]!;
            RedisResult[] extra = extras.TryGetValue(j + 1, out RedisResult[]? x) ? x : [];
            Job job = RedisJobReader.Read(Name, id, JobState.Active, (byte[])reply[i + 3]!, (long)reply[i + 2], extra, deadline);
            leased.Add(new LeasedJob(job, new JobLease(id, token, expires)));
        }

        return leased;
    }

    /// <inheritdoc />
    public async ValueTask<LeaseResult> AckAsync(JobLease lease, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        return (await AckCoreAsync([lease]).ConfigureAwait(false))[0];
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeaseResult>> AckManyAsync(IReadOnlyList<JobLease> leases, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Leases(leases);

        return await AckCoreAsync(leases).ConfigureAwait(false);
    }

    private async Task<LeaseResult[]> AckCoreAsync(IReadOnlyList<JobLease> leases)
    {
        var args = new RedisValue[3 + (leases.Count * 2)];
        args[0] = JobArguments.Now(_time).ToUnixTimeMilliseconds();
        args[1] = _options.CompletedRetention;
        args[2] = leases.Count;
        for (int i = 0; i < leases.Count; i++)
        {
            args[3 + (2 * i)] = leases[i].JobId;
            args[4 + (2 * i)] = leases[i].Token;
        }

        long[] reply = (long[])(await EvalAsync(LuaScripts.Ack, [_keys.Meta, _keys.Active, _keys.Completed, _keys.Lease, _keys.Attempts], args).ConfigureAwait(false))!;
        return Array.ConvertAll(reply, r => r == 1 ? LeaseResult.Succeeded : LeaseResult.LeaseLost);
    }

    /// <inheritdoc />
    public async ValueTask<LeaseResult> FailAsync(JobLease lease, JobError error, RecoveryDecision decision, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        JobArguments.Error(error);
        JobArguments.Decision(decision);
        return (await FailCoreAsync([new JobFailure(lease, error, decision)]).ConfigureAwait(false))[0];
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<LeaseResult>> FailManyAsync(IReadOnlyList<JobFailure> failures, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Failures(failures);

        return await FailCoreAsync(failures).ConfigureAwait(false);
    }

    private async Task<LeaseResult[]> FailCoreAsync(IReadOnlyList<JobFailure> failures)
    {
        var args = new RedisValue[5 + (failures.Count * 8)];
        args[0] = JobArguments.Now(_time).ToUnixTimeMilliseconds();
        args[1] = _options.DeadLetter.MaxEntries;
        args[2] = (long)_options.DeadLetter.MaxAge.TotalMilliseconds;
        args[3] = _channel;
        args[4] = failures.Count;
        for (int i = 0; i < failures.Count; i++)
        {
            JobFailure f = failures[i];
            int b = 5 + (i * 8);
            args[b] = f.Lease.JobId;
            args[b + 1] = f.Lease.Token;
            args[b + 2] = (int)f.Decision.Action;
            args[b + 3] = (long)JobArguments.CeilingToMilliseconds(f.Decision.Delay).TotalMilliseconds;
            args[b + 4] = f.Decision.SpendsAttempt ? 1 : 0;
            args[b + 5] = f.Decision.Reason ?? f.Error.ToString();
            args[b + 6] = f.Error.ToString();
            args[b + 7] = (int)f.Error.Category;
        }

        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            LuaScripts.Fail,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Active, _keys.Dead, _keys.Lease, _keys.Attempts],
            args).ConfigureAwait(false))!;
        ReportTrims((RedisResult[])reply[1]!);
        return Array.ConvertAll((long[])reply[0]!, r => r == 1 ? LeaseResult.Succeeded : LeaseResult.LeaseLost);
    }

    /// <inheritdoc />
    public async ValueTask<LeaseResult> RenewAsync(JobLease lease, TimeSpan leaseDuration, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        leaseDuration = JobArguments.LeaseDuration(leaseDuration);
        long deadline = (JobArguments.Now(_time) + leaseDuration).ToUnixTimeMilliseconds();
        RedisResult reply = await EvalAsync(LuaScripts.Renew, [_keys.Meta, _keys.Active, _keys.Lease], [lease.JobId, lease.Token, deadline]).ConfigureAwait(false);
        return ToLeaseResult(reply);
    }

    /// <inheritdoc />
    public async ValueTask<LeaseResult> ReleaseAsync(JobLease lease, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        RedisResult reply = await EvalAsync(
            LuaScripts.Release,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Active, _keys.Lease, _keys.Attempts],
            [lease.JobId, lease.Token, JobArguments.Now(_time).ToUnixTimeMilliseconds(), _channel]).ConfigureAwait(false);
        return ToLeaseResult(reply);
    }

    /// <inheritdoc />
    public async ValueTask<LeaseResult> SaveCheckpointAsync(JobLease lease, ReadOnlyMemory<byte> checkpoint, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Lease(lease);
        if (checkpoint.Length > _options.MaxPayloadBytes)
        {
            throw new PayloadTooLargeException(Name, checkpoint.Length, _options.MaxPayloadBytes);
        }

        RedisResult reply = await EvalAsync(LuaScripts.Checkpoint, [_keys.Meta, _keys.Lease, _keys.Attempts], [lease.JobId, lease.Token, checkpoint.ToArray()]).ConfigureAwait(false);
        return ToLeaseResult(reply);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<ReapedJob>> ReapExpiredAsync(int maxCount, TimeSpan olderThan = default, bool dryRun = false, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.Reap(maxCount, olderThan);
        RedisResult[] reply = (RedisResult[])(await EvalAsync(
            LuaScripts.Reap,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Active, _keys.Dead, _keys.Delayed, _keys.Lease, _keys.Attempts],
            [
                JobArguments.Now(_time).ToUnixTimeMilliseconds(), maxCount, dryRun ? 1 : 0, _options.DeadLetter.MaxEntries,
                (long)_options.DeadLetter.MaxAge.TotalMilliseconds, _channel, (int)ErrorCategory.LeaseExpired,
                (long)JobArguments.CeilingToMilliseconds(olderThan).TotalMilliseconds,
            ]).ConfigureAwait(false))!;
        var reaped = new ReapedJob[reply.Length - 1];
        for (int i = 0; i < reaped.Length; i++)
        {
            RedisResult[] r = (RedisResult[])reply[i]!;
            reaped[i] = new ReapedJob(
                (string)r[0]!,
                (long)r[1] == 0 ? ReapAction.Requeued : ReapAction.DeadLettered,
                (int)(long)r[2],
                (int)(long)r[3],
                DateTimeOffset.FromUnixTimeMilliseconds(long.Parse((string)r[4]!, CultureInfo.InvariantCulture)));
        }

        ReportTrims((RedisResult[])reply[^1]!);
        return reaped;
    }

    /// <inheritdoc />
    /// <remarks>
    /// A string <c>{rq:q}:turn:&lt;name&gt;</c> holding <c>holder|until-ms</c>, written by <c>turn-1.lua</c> when absent or past
    /// (the caller's clock decides; the server TTL only collects it).
    /// </remarks>
    public async ValueTask<bool> TryClaimTurnAsync(string name, string holder, TimeSpan turn, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        turn = JobArguments.Turn(name, holder, turn);
        long now = JobArguments.Now(_time).ToUnixTimeMilliseconds();
        RedisResult reply = await EvalAsync(LuaScripts.Turn, [_keys.Meta], [name, holder, now, (long)turn.TotalMilliseconds]).ConfigureAwait(false);
        return (long)reply == 1;
    }

    /// <inheritdoc />
    public async ValueTask<Job?> GetJobAsync(string jobId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        JobArguments.JobId(jobId);
        return (await ReadJobAsync(jobId).ConfigureAwait(false))?.Job;
    }

    private async Task<(Job Job, RedisResult[] Extra)?> ReadJobAsync(string jobId)
    {
        RedisResult reply = await EvalAsync(
            LuaScripts.GetJob,
            [_keys.Meta, _keys.Delayed, _keys.Active, _keys.Dead, _keys.Completed, _keys.Attempts],
            [jobId]).ConfigureAwait(false);
        RedisResult[] parts = (RedisResult[])reply!;
        if (parts.Length == 0)
        {
            return null;
        }

        RedisResult[] extra = (RedisResult[])parts[3]!;
        return (RedisJobReader.Read(Name, jobId, (JobState)(int)(long)parts[0], (byte[])parts[1]!, (long)parts[2], extra, (long)parts[4]), extra);
    }

    /// <inheritdoc />
    public async ValueTask<QueueStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long[] r = (long[])(await EvalAsync(
            LuaScripts.Status,
            [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed, _keys.Active, _keys.Dead, _keys.Completed],
            NoValues).ConfigureAwait(false))!;
        return new QueueStatus(r[0], r[1], r[2], r[3], r[4], r[5] == 1, r[6]);
    }

    /// <inheritdoc />
    public async ValueTask PauseAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await RunAsync(static (db, keys) => db.HashSetAsync(keys.Meta, "paused", 1), _keys).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask ResumeAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await RunAsync(static (db, keys) => db.HashDeleteAsync(keys.Meta, "paused"), _keys).ConfigureAwait(false);
        await RunAsync(static (db, keys) => db.PublishAsync(keys.NotifyChannel, 1), _keys).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> WaitForJobsAsync(TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        JobArguments.MaxWait(maxWait);
        cancellationToken.ThrowIfCancellationRequested();
        DateTimeOffset deadline = _time.GetUtcNow() + maxWait;
        await EnsureSubscribedAsync().ConfigureAwait(false);
        while (true)
        {
            Task signal;
            lock (_signalGate)
            {
                signal = (_signal ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            // The signal is taken before looking, so a wake-up published after the look is not missed.
            long[] peek = (long[])(await EvalAsync(LuaScripts.Peek, [_keys.Meta, _keys.Ready, _keys.Priority, _keys.Delayed], NoValues).ConfigureAwait(false))!;
            bool paused = peek[0] == 1;
            DateTimeOffset now = _time.GetUtcNow();
            if (!paused && (peek[1] > 0 || (peek[2] >= 0 && peek[2] <= JobArguments.Now(_time).ToUnixTimeMilliseconds())))
            {
                return true;
            }

            TimeSpan wait = deadline - now;
            if (wait <= TimeSpan.Zero)
            {
                return false;
            }

            if (!paused && peek[2] >= 0)
            {
                TimeSpan untilDue = DateTimeOffset.FromUnixTimeMilliseconds(peek[2]) - now;
                if (untilDue < wait)
                {
                    wait = untilDue;
                }
            }

            using var delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task delay = Task.Delay(wait, _time, delayCancellation.Token);
            await Task.WhenAny(signal, delay).ConfigureAwait(false);
            await delayCancellation.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Stops listening for wake-ups and, if this queue created its connection, closes it.</summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _connection.Restored -= Signal;
        if (_subscription is not null && _subscribedOn is { } multiplexer)
        {
            try
            {
                await multiplexer.GetSubscriber().UnsubscribeAsync(_keys.NotifyChannel, _onNotify).ConfigureAwait(false);
            }
            catch (RedisException)
            {
                // The connection is gone; so is the subscription.
            }
        }

        if (_disposesConnection)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops listening for wake-ups and, if this queue created its connection, closes it (synchronously).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _connection.Restored -= Signal;
        if (_subscription is not null && _subscribedOn is { } multiplexer)
        {
            try
            {
                multiplexer.GetSubscriber().Unsubscribe(_keys.NotifyChannel, _onNotify);
            }
            catch (RedisException)
            {
                // The connection is gone; so is the subscription.
            }
        }

        if (_disposesConnection)
        {
            _connection.Dispose();
        }
    }

    private async Task EnsureSubscribedAsync()
    {
        IConnectionMultiplexer multiplexer = await _connection.GetAsync().ConfigureAwait(false);
        Task subscription;
        lock (_signalGate)
        {
            // A failed subscription is retried by the next wait, and one made on a replaced multiplexer is made again.
            if (_subscription is null || _subscription.IsFaulted || _subscription.IsCanceled || !ReferenceEquals(_subscribedOn, multiplexer))
            {
                _subscription = multiplexer.GetSubscriber().SubscribeAsync(_keys.NotifyChannel, _onNotify);
                _subscribedOn = multiplexer;
            }

            subscription = _subscription;
        }

        try
        {
            await subscription.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && _connection.CredentialsRejected(ex) is { } rejected)
        {
            throw rejected;
        }
    }

    private void Signal()
    {
        lock (_signalGate)
        {
            _signal?.TrySetResult();
            _signal = null;
        }
    }

    private void ReportTrims(RedisResult[] trimmed)
    {
        foreach (RedisResult t in trimmed)
        {
            RedisResult[] e = (RedisResult[])t!;
            string reason = (string)e[1]!;
            string deadAt = (string)e[2]!;
            DateTimeOffset? at = long.TryParse(deadAt, NumberStyles.None, CultureInfo.InvariantCulture, out long ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
            QueueLog.DeadLetterTrimmed(_logger, Name, (string)e[0]!, reason, at, (string?)e[3]);
            ResilientQueueTelemetry.RecordDeadLetterTrimmed(Name, reason, 1);
        }
    }

    private static LeaseResult ToLeaseResult(RedisResult reply) => (long)reply == 1 ? LeaseResult.Succeeded : LeaseResult.LeaseLost;

    /// <summary>
    /// Runs a script by its SHA-1 (EVALSHA, the script text is not sent); when the server does not have it yet (a new
    /// or restarted server, or its script cache was flushed) the NOSCRIPT reply is answered by sending the text once
    /// more, which the client loads on that server (SCRIPT LOAD) and then runs by hash.
    /// </summary>
    private async Task<RedisResult> EvalAsync(RedisScript script, RedisKey[] keys, RedisValue[] args)
    {
        System.Diagnostics.Debug.Assert(keys.Length == script.KeyCount, $"{script.Name} takes {script.KeyCount} keys, got {keys.Length}");
        IDatabase db = CurrentDatabase() ?? await ConnectDatabaseAsync().ConfigureAwait(false);
        try
        {
            try
            {
                return await db.ScriptEvaluateAsync(script.Sha1, keys, args).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
            {
                // EVALSHA answered NOSCRIPT without running anything, so running the script now is safe.
                return await db.ScriptEvaluateAsync(script.Text, keys, args).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && _connection.CredentialsRejected(ex) is { } rejected)
        {
            throw rejected;
        }
    }

    /// <summary>Runs one plain command, with the same connection handling as <see cref="EvalAsync"/>.</summary>
    private async Task<T> RunAsync<T>(Func<IDatabase, RedisKeys, Task<T>> command, RedisKeys keys)
    {
        IDatabase db = CurrentDatabase() ?? await ConnectDatabaseAsync().ConfigureAwait(false);
        try
        {
            return await command(db, keys).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException && _connection.CredentialsRejected(ex) is { } rejected)
        {
            throw rejected;
        }
    }

    /// <summary>The database of the connection's current multiplexer when it may be used now (the hot path: two reads), else <see langword="null"/>.</summary>
    private IDatabase? CurrentDatabase()
    {
        Database? db = _db;
        return db is not null && ReferenceEquals(db.Owner, _connection.Ready) ? db.Value : null;
    }

    /// <summary>Waits for the connection (or throws its refused-credentials error) and caches the database of its multiplexer.</summary>
    private async Task<IDatabase> ConnectDatabaseAsync()
    {
        IConnectionMultiplexer multiplexer = await _connection.GetAsync().ConfigureAwait(false);
        var db = new Database(multiplexer, multiplexer.GetDatabase(_database));
        _db = db;
        return db.Value;
    }

    /// <summary>A database and the multiplexer it belongs to (an opened connection may replace its multiplexer).</summary>
    private sealed record Database(IConnectionMultiplexer Owner, IDatabase Value);
}
