using System.Net;

namespace ResilientQueue.Errors;

/// <summary>
/// Thrown by a handler when the service it calls asked it to slow down (HTTP 429, or 503 with Retry-After; for an
/// <see cref="HttpResponseMessage"/>, <see cref="HttpResponseMessageExtensions.EnsureSuccessStatusCodeWithRetryAfter"/>
/// throws it). The default classifier makes it <see cref="ErrorCategory.RateLimited"/> with <see cref="RetryAfter"/>, and
/// the default strategy pauses fetching for that long (for the backoff when it is <see langword="null"/> or zero) and
/// runs the job again without spending an attempt.
/// </summary>
public sealed class RateLimitedException : ResilientQueueException
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

    /// <summary>The HTTP status code of the response that asked to slow down, if it came from one. Default: <see langword="null"/>.</summary>
    public HttpStatusCode? StatusCode { get; init; }
}
