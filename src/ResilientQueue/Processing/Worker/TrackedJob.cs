using ResilientQueue.Leases;

namespace ResilientQueue.Processing;

/// <summary>
/// A job the worker holds, from its fetch to its outcome: buffered (<see cref="Held"/>), waiting for a permit, running
/// (<see cref="Running"/>), its outcome being written, or let go. The <see cref="LeaseKeeper"/> renews its lease while
/// it is held or running and marks it <see cref="Lost"/> when a renewal finds another worker holds the job; a running
/// job's handler is then cancelled through <see cref="JobSlot"/>'s token. One small object per fetched job, and no
/// dictionary: the keeper's list and the buffer reference it. Its transitions lock the instance itself (it is internal
/// and never handed out, so nothing else locks it), which saves a gate object per job.
/// </summary>
internal sealed class TrackedJob(LeasedJob job, long leaseSetAt)
{
    /// <summary>Fetched, not started: in the buffer, in a rate-limit pause or waiting for a permit.</summary>
    public const int Held = 0;

    /// <summary>Its handler runs.</summary>
    public const int Running = 1;

    /// <summary>The handler finished; its outcome is being written (a stop at the deadline leaves it to that write).</summary>
    public const int WritingOutcome = 2;

    /// <summary>Let go: acknowledged, failed, released or deferred; the keeper drops it.</summary>
    public const int Done = 3;

    /// <summary>A renewal found the lease taken (reaped and leased again): the worker must not write an outcome.</summary>
    public const int Lost = 4;

    /// <summary>Given back at the shutdown deadline while its handler still ran: the handler is fenced out.</summary>
    public const int ReleasedAtDeadline = 5;

    private int _state;
    private JobSlot? _slot;
    private long _leaseSetAt = leaseSetAt;

    public LeasedJob Job { get; } = job;

    public JobLease Lease => Job.Lease;

    public int State => Volatile.Read(ref _state);

    /// <summary>When the lease was last set (fetched or renewed), as a <see cref="TimeProvider"/> timestamp.</summary>
    public long LeaseSetAt
    {
        get => Volatile.Read(ref _leaseSetAt);
        set => Volatile.Write(ref _leaseSetAt, value);
    }

    /// <summary>While running with a job timeout: the timestamp after which the keeper stops renewing the lease.</summary>
    public long RenewUntil { get; private set; } = long.MaxValue;

    /// <summary>The serialized result a result handler returned, written with the job's completion; <see langword="null"/> for a plain acknowledgement.</summary>
    public byte[]? Result { get; set; }

    /// <summary>Whether the keeper stopped renewing because the handler ran past its timeout (logged once).</summary>
    public bool RenewalStopped { get; set; }

    /// <summary>Held → Running; false when the lease was lost (or the job let go) first.</summary>
    public bool TryStart(JobSlot slot, long renewUntil)
    {
        lock (this)
        {
            if (_state != Held)
            {
                return false;
            }

            _slot = slot;
            RenewUntil = renewUntil;
            _state = Running;
            return true;
        }
    }

    /// <summary>Running → <paramref name="next"/> (<see cref="WritingOutcome"/> or <see cref="ReleasedAtDeadline"/>); false when another state came first.</summary>
    public bool TryLeaveRunning(int next)
    {
        lock (this)
        {
            if (_state != Running)
            {
                return false;
            }

            _state = next;
            if (next == WritingOutcome)
            {
                _slot = null; // from here nothing may cancel the slot's token: it is reset for the next job
            }

            return true;
        }
    }

    /// <summary>
    /// The lease is no longer ours (a renewal said so, or the handler reported it): held → lost, running → lost with the
    /// handler's token cancelled. A job whose outcome is being written or that was let go is not touched.
    /// </summary>
    public bool MarkLost()
    {
        JobSlot? slot;
        lock (this)
        {
            if (_state is not (Held or Running))
            {
                return _state == Lost;
            }

            slot = _state == Running ? _slot : null;
            _slot = null;
            _state = Lost;
            slot?.Cancel(); // under the lock: the slot cannot be reset for another job meanwhile
        }

        return true;
    }

    /// <summary>Let go (acknowledged, failed, released, deferred); the keeper drops it at its next pass.</summary>
    public void Finish()
    {
        lock (this)
        {
            if (_state != Lost)
            {
                _state = Done;
            }

            _slot = null;
        }
    }

    /// <summary>Whether the keeper still renews this job's lease (until its outcome is written).</summary>
    public bool IsKept => State is Held or Running or WritingOutcome;
}
