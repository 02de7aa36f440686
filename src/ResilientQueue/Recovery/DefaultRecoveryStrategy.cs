using ResilientQueue.Errors;

namespace ResilientQueue.Recovery;

/// <summary>
/// The default <see cref="IRecoveryStrategy"/>: <see cref="ErrorCategory.Transient"/>, <see cref="ErrorCategory.Database"/>,
/// <see cref="ErrorCategory.Unknown"/> and <see cref="ErrorCategory.LeaseExpired"/> → retry with the backoff (the queue
/// dead-letters the job when that spends its last attempt); <see cref="ErrorCategory.Validation"/> → dead-letter at once
/// (a poison job); <see cref="ErrorCategory.RateLimited"/> → pause for the Retry-After, or the backoff when there is
/// none, and run the job again without spending an attempt; <see cref="ErrorCategory.Auth"/> → abort the worker and keep
/// the job.
/// </summary>
public sealed class DefaultRecoveryStrategy : IRecoveryStrategy
{
    private readonly BackoffPolicy _backoff;

    /// <summary>Creates the strategy.</summary>
    /// <param name="backoff">The backoff for retries; <see langword="null"/> for <see cref="BackoffPolicy.Default"/>.</param>
    public DefaultRecoveryStrategy(BackoffPolicy? backoff = null)
    {
        _backoff = backoff ?? BackoffPolicy.Default;
    }

    /// <inheritdoc />
    public RecoveryDecision Decide(in RecoveryArguments arguments)
    {
        int retry = Math.Max(arguments.Attempt, 1);
        return arguments.Classification.Category switch
        {
            ErrorCategory.Validation => RecoveryDecision.DeadLetter($"Validation error, not retried: {JobError.FromException(arguments.Exception, ErrorCategory.Validation)}"),
            ErrorCategory.RateLimited => RecoveryDecision.Pause(Positive(arguments.Classification.RetryAfter) ?? _backoff.GetDelay(retry)),
            ErrorCategory.Auth => RecoveryDecision.Abort($"Authentication failed; every job would fail the same way: {JobError.FromException(arguments.Exception, ErrorCategory.Auth)}"),
            _ => RecoveryDecision.Retry(_backoff.GetDelay(retry)),
        };
    }

    private static TimeSpan? Positive(TimeSpan? value) => value > TimeSpan.Zero ? value : null;
}
