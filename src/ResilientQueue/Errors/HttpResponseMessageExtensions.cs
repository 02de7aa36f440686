using System.Globalization;
using System.Net;

namespace ResilientQueue.Errors;

/// <summary>
/// What a job handler that calls an HTTP API needs so that the worker honours the server's <c>Retry-After</c>: an
/// <see cref="HttpRequestException"/> from <see cref="HttpResponseMessage.EnsureSuccessStatusCode"/> carries the status
/// code but no headers.
/// </summary>
public static class HttpResponseMessageExtensions
{
    /// <summary>
    /// Like <see cref="HttpResponseMessage.EnsureSuccessStatusCode"/>, but a response that asks the caller to slow down
    /// (429 Too Many Requests, or 503 Service Unavailable with a <c>Retry-After</c> header) throws a
    /// <see cref="RateLimitedException"/> carrying the status code and the server's delay: the default classifier makes
    /// it <see cref="ErrorCategory.RateLimited"/>, so the worker pauses for that delay (for the backoff when a 429 has
    /// none) and runs the job again without spending an attempt. Any other unsuccessful status throws the
    /// <see cref="HttpRequestException"/> that <see cref="HttpResponseMessage.EnsureSuccessStatusCode"/> throws (a plain
    /// 503 and other 5xx are <see cref="ErrorCategory.Transient"/>, 401/403 <see cref="ErrorCategory.Auth"/>).
    /// </summary>
    /// <param name="response">The response; not disposed.</param>
    /// <param name="timeProvider">The clock that turns a <c>Retry-After</c> date into a delay; <see langword="null"/> for <see cref="TimeProvider.System"/>.</param>
    /// <returns>The response, when its status code is a success (2xx).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="response"/> is <see langword="null"/>.</exception>
    /// <exception cref="RateLimitedException">The status is 429, or 503 with a <c>Retry-After</c> header.</exception>
    /// <exception cref="HttpRequestException">Any other status that is not a success.</exception>
    public static HttpResponseMessage EnsureSuccessStatusCodeWithRetryAfter(this HttpResponseMessage response, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        HttpStatusCode status = response.StatusCode;
        TimeSpan? retryAfter = RetryAfter(response, timeProvider ?? TimeProvider.System);
        string message = string.Create(
            CultureInfo.InvariantCulture,
            $"Response status code does not indicate success: {(int)status} ({response.ReasonPhrase ?? status.ToString()}).");
        if (status == HttpStatusCode.TooManyRequests || (status == HttpStatusCode.ServiceUnavailable && retryAfter is not null))
        {
            string asked = retryAfter is { } delay
                ? string.Create(CultureInfo.InvariantCulture, $" The server asked to retry after {delay.TotalSeconds:0.###} s.")
                : " The server did not say when to retry.";
            throw new RateLimitedException(message + asked, retryAfter, new HttpRequestException(message, null, status)) { StatusCode = status };
        }

        return response.EnsureSuccessStatusCode();
    }

    /// <summary>The delay a response's <c>Retry-After</c> header asks for (seconds, or a date from now; never negative), if it has one.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessage response, TimeProvider time) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
        { Date: { } date } => date > time.GetUtcNow() ? date - time.GetUtcNow() : TimeSpan.Zero,
        _ => null,
    };
}
