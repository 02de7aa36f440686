using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace ResilientQueue.Errors;

/// <summary>
/// The default <see cref="IErrorClassifier"/>: the user's rules first (<see cref="ErrorClassifierOptions"/>), then:
/// HTTP 401/403 → <see cref="ErrorCategory.Auth"/>; <see cref="RateLimitedException"/> (with its Retry-After) and HTTP
/// 429 → <see cref="ErrorCategory.RateLimited"/>; network errors, timeouts (including HTTP 408 and
/// <see cref="HttpClient.Timeout"/>), Redis connection errors and HTTP 5xx (a 503 too: an
/// <see cref="HttpRequestException"/> does not carry the Retry-After that would make it RateLimited) →
/// <see cref="ErrorCategory.Transient"/>, and so is a full queue the handler enqueues into
/// (<see cref="Backpressure.QueueFullException"/>, <see cref="Backpressure.QueueFullTimeoutException"/>) or a downstream
/// job's result that did not come in time (<see cref="Results.JobResultTimeoutException"/>); JSON, format and validation
/// errors, and a handler's result over the size limit (<see cref="Results.JobResultTooLargeException"/>) → <see cref="ErrorCategory.Validation"/>;
/// database errors → <see cref="ErrorCategory.Database"/>; anything else → <see cref="ErrorCategory.Unknown"/>.
/// An <see cref="AggregateException"/> with one inner exception is classified by that exception.
/// </summary>
/// <remarks>
/// To honour a server's Retry-After, call
/// <see cref="HttpResponseMessageExtensions.EnsureSuccessStatusCodeWithRetryAfter"/> instead of
/// <see cref="HttpResponseMessage.EnsureSuccessStatusCode"/> (a 429, or a 503 with Retry-After, then throws a
/// <see cref="RateLimitedException"/> with the delay), or throw a <see cref="RateLimitedException"/> yourself.
/// </remarks>
public sealed class DefaultErrorClassifier : IErrorClassifier
{
    private readonly Func<Exception, ErrorClassification?>[] _rules;

    /// <summary>Creates a classifier.</summary>
    /// <param name="options">The user's rules, copied; <see langword="null"/> for none.</param>
    public DefaultErrorClassifier(ErrorClassifierOptions? options = null)
    {
        _rules = options?.Rules.ToArray() ?? [];
    }

    /// <inheritdoc />
    public ErrorClassification Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        foreach (Func<Exception, ErrorClassification?> rule in _rules)
        {
            if (rule(exception) is { } decided)
            {
                return decided;
            }
        }

        return Builtin(exception);
    }

    private static ErrorClassification Builtin(Exception exception) => exception switch
    {
        RateLimitedException limited => new(ErrorCategory.RateLimited, limited.RetryAfter),
        HttpRequestException { StatusCode: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden } => new(ErrorCategory.Auth),
        HttpRequestException { StatusCode: HttpStatusCode.TooManyRequests } => new(ErrorCategory.RateLimited),
        HttpRequestException { StatusCode: HttpStatusCode.RequestTimeout } => new(ErrorCategory.Transient),
        HttpRequestException { StatusCode: { } status } when (int)status >= 500 => new(ErrorCategory.Transient),
        HttpRequestException { StatusCode: null } => new(ErrorCategory.Transient),
        SocketException or TimeoutException or IOException => new(ErrorCategory.Transient),
        Backpressure.QueueFullException or Backpressure.QueueFullTimeoutException => new(ErrorCategory.Transient), // a downstream queue full: try again later
        Results.JobResultTimeoutException => new(ErrorCategory.Transient), // a downstream job's result did not come in time
        Results.JobResultTooLargeException => new(ErrorCategory.Validation), // the same input would give the same result again
        OperationCanceledException => new(ErrorCategory.Transient), // not the worker's own token: a timeout inside the handler
        JsonException or FormatException or InvalidDataException or ValidationException => new(ErrorCategory.Validation),
        DbException { IsTransient: true } => new(ErrorCategory.Transient),
        DbException => new(ErrorCategory.Database),
        _ when IsRedisConnectionError(exception) => new(ErrorCategory.Transient),
        _ => new(ErrorCategory.Unknown),
    };

    // The core does not reference StackExchange.Redis; its connection errors are recognised by type name.
    private static bool IsRedisConnectionError(Exception exception)
    {
        for (Type? type = exception.GetType(); type is not null; type = type.BaseType)
        {
            if (type.FullName is "StackExchange.Redis.RedisConnectionException" or "StackExchange.Redis.RedisTimeoutException")
            {
                return true;
            }
        }

        return false;
    }
}
