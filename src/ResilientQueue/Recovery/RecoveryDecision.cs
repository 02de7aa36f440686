namespace ResilientQueue.Recovery;

/// <summary>What an <see cref="IRecoveryStrategy"/> decided for a failed job. Create one with the static factories.</summary>
public readonly record struct RecoveryDecision
{
    // Stored inverted so that default(RecoveryDecision) is Retry(0) spending an attempt: a strategy that returns
    // default can never loop a poison job forever.
    private readonly bool _givesAttemptBack;

    private RecoveryDecision(RecoveryAction action, TimeSpan delay, bool spendsAttempt, string? reason)
    {
        Action = action;
        Delay = delay;
        _givesAttemptBack = !spendsAttempt;
        Reason = reason;
    }

    /// <summary>What to do.</summary>
    public RecoveryAction Action { get; }

    /// <summary>For <see cref="RecoveryAction.Retry"/> the backoff, for <see cref="RecoveryAction.Pause"/> the pause; otherwise zero.</summary>
    public TimeSpan Delay { get; }

    /// <summary>
    /// Whether the failed attempt counts against the job's max attempts. <see langword="false"/> for
    /// <see cref="RecoveryAction.Pause"/>, <see cref="RecoveryAction.Abort"/> and <see cref="RetryWithoutAttempt"/>;
    /// <see langword="true"/> for <c>default(RecoveryDecision)</c>, which is <c>Retry(TimeSpan.Zero)</c>.
    /// </summary>
    public bool SpendsAttempt => !_givesAttemptBack;

    /// <summary>Why, in words; stored with a dead-letter entry.</summary>
    public string? Reason { get; }

    /// <summary>Retry after <paramref name="delay"/>, spending an attempt; dead-letter when none is left.</summary>
    /// <param name="delay">The backoff; zero or more.</param>
    /// <returns>The decision.</returns>
    public static RecoveryDecision Retry(TimeSpan delay) => new(RecoveryAction.Retry, RequireNonNegative(delay), spendsAttempt: true, reason: null);

    /// <summary>Retry after <paramref name="delay"/> without spending an attempt (the failure was not the job's fault).</summary>
    /// <param name="delay">The wait; zero or more.</param>
    /// <returns>The decision.</returns>
    public static RecoveryDecision RetryWithoutAttempt(TimeSpan delay) => new(RecoveryAction.Retry, RequireNonNegative(delay), spendsAttempt: false, reason: null);

    /// <summary>Dead-letter the job now.</summary>
    /// <param name="reason">Why; stored with the entry.</param>
    /// <returns>The decision.</returns>
    public static RecoveryDecision DeadLetter(string reason) => new(RecoveryAction.DeadLetter, TimeSpan.Zero, spendsAttempt: true, RequireReason(reason));

    /// <summary>Record the failure and drop the job.</summary>
    /// <param name="reason">Why; logged.</param>
    /// <returns>The decision.</returns>
    public static RecoveryDecision Skip(string reason) => new(RecoveryAction.Skip, TimeSpan.Zero, spendsAttempt: true, RequireReason(reason));

    /// <summary>Pause fetching for <paramref name="duration"/>; the job runs again after it without spending an attempt.</summary>
    /// <param name="duration">How long; more than zero.</param>
    /// <returns>The decision.</returns>
    public static RecoveryDecision Pause(TimeSpan duration) =>
        duration > TimeSpan.Zero
            ? new(RecoveryAction.Pause, duration, spendsAttempt: false, reason: null)
            : throw new ArgumentOutOfRangeException(nameof(duration), duration, "A pause must be longer than zero.");

    /// <summary>Stop the worker; the job is released without spending an attempt.</summary>
    /// <param name="reason">Why; logged and reported by health checks.</param>
    /// <returns>The decision.</returns>
    public static RecoveryDecision Abort(string reason) => new(RecoveryAction.Abort, TimeSpan.Zero, spendsAttempt: false, RequireReason(reason));

    private static TimeSpan RequireNonNegative(TimeSpan delay) =>
        delay >= TimeSpan.Zero ? delay : throw new ArgumentOutOfRangeException(nameof(delay), delay, "A retry delay cannot be negative.");

    private static string RequireReason(string reason)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        return reason;
    }
}
