namespace ResilientQueue.Errors;

/// <summary>
/// Thrown by a handler when the service it calls asked it to slow down (HTTP 429, or 503 with Retry-After). The
/// default classifier makes it <see cref="ErrorCategory.RateLimited"/> with <see cref="RetryAfter"/>, and the default
/// strategy pauses fetching for that long and runs the job again without spending an attempt.
/// </summary>
public sealed class RateLimitedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was rate-limited.</param>
    /// <param name="retryAfter">How long the service asked to wait, if it said.</param>
    /// <param name="innerException">The exception that carried the rate limit, if any.</param>
    public RateLimitedException(string message, TimeSpan? retryAfter = null, Exception? innerException = null)
        : base(message, innerException)
    {
        if (retryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retryAfter), retryAfter, "Retry-After cannot be negative.");
        }

        RetryAfter = retryAfter;
    }

    /// <summary>How long the service asked to wait, if it said.</summary>
    public TimeSpan? RetryAfter { get; }
}
