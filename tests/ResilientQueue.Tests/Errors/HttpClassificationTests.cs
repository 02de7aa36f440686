using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Time.Testing;
using ResilientQueue.Errors;
using ResilientQueue.Recovery;

namespace ResilientQueue.Tests.Errors;

/// <summary>
/// HTTP failures from the handler's side: what <see cref="HttpResponseMessageExtensions.EnsureSuccessStatusCodeWithRetryAfter"/>
/// throws for each answer, how <see cref="DefaultErrorClassifier"/> classifies it, and what the default recovery strategy
/// then decides (docs/errors.md and docs/worker.md list the same cases).
/// </summary>
public sealed class HttpClassificationTests
{
    private static readonly DefaultErrorClassifier Classifier = new();
    private static readonly BackoffPolicy Backoff = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), jitterRatio: 0);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData(HttpStatusCode.OK)]
    [InlineData(HttpStatusCode.NoContent)]
    public void EnsureSuccessStatusCodeWithRetryAfter_Success_ReturnsTheResponse(HttpStatusCode status)
    {
        using var response = new HttpResponseMessage(status);

        response.EnsureSuccessStatusCodeWithRetryAfter(_time).Should().BeSameAs(response);
    }

    [Fact]
    public void EnsureSuccessStatusCodeWithRetryAfter_429WithRetryAfterSeconds_ThrowsRateLimitedWithTheDelayAndStatus()
    {
        using var response = Response(HttpStatusCode.TooManyRequests, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(2)));

        RateLimitedException limited = Throws<RateLimitedException>(response);

        limited.RetryAfter.Should().Be(TimeSpan.FromSeconds(2));
        limited.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        limited.Message.Should().Be("Response status code does not indicate success: 429 (Too Many Requests). The server asked to retry after 2 s.");
        limited.InnerException.Should().BeOfType<HttpRequestException>().Which.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        Classifier.Classify(limited).Should().Be(new ErrorClassification(ErrorCategory.RateLimited, TimeSpan.FromSeconds(2)));
        Decide(limited).Should().Be(RecoveryDecision.Pause(TimeSpan.FromSeconds(2)), "the server's delay is honoured");
        Decide(limited).SpendsAttempt.Should().BeFalse();
    }

    [Fact]
    public void EnsureSuccessStatusCodeWithRetryAfter_429WithRetryAfterDate_DelayIsUntilThatDateOnTheGivenClock()
    {
        using var response = Response(HttpStatusCode.TooManyRequests, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(_time.GetUtcNow().AddSeconds(30)));

        Throws<RateLimitedException>(response).RetryAfter.Should().Be(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void EnsureSuccessStatusCodeWithRetryAfter_429WithRetryAfterDateInThePast_DelayIsZero_AndTheWorkerPausesForTheBackoff()
    {
        using var response = Response(HttpStatusCode.TooManyRequests, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(_time.GetUtcNow().AddSeconds(-5)));

        RateLimitedException limited = Throws<RateLimitedException>(response);

        limited.RetryAfter.Should().Be(TimeSpan.Zero);
        Decide(limited).Should().Be(RecoveryDecision.Pause(TimeSpan.FromSeconds(1)), "a zero delay is no delay: the backoff's first step");
    }

    [Fact]
    public void EnsureSuccessStatusCodeWithRetryAfter_429WithoutRetryAfter_ThrowsRateLimitedWithoutDelay_AndTheWorkerPausesForTheBackoff()
    {
        using var response = Response(HttpStatusCode.TooManyRequests);

        RateLimitedException limited = Throws<RateLimitedException>(response);

        limited.RetryAfter.Should().BeNull();
        limited.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        limited.Message.Should().EndWith("The server did not say when to retry.");
        Classifier.Classify(limited).Should().Be(new ErrorClassification(ErrorCategory.RateLimited));
        Decide(limited, attempt: 2).Should().Be(RecoveryDecision.Pause(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void EnsureSuccessStatusCodeWithRetryAfter_503WithRetryAfter_ThrowsRateLimitedWithTheDelay()
    {
        using var response = Response(HttpStatusCode.ServiceUnavailable, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7)));

        RateLimitedException limited = Throws<RateLimitedException>(response);

        limited.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        Classifier.Classify(limited).Should().Be(new ErrorClassification(ErrorCategory.RateLimited, TimeSpan.FromSeconds(7)));
        Decide(limited).Should().Be(RecoveryDecision.Pause(TimeSpan.FromSeconds(7)));
    }

    [Fact]
    public void EnsureSuccessStatusCodeWithRetryAfter_Plain503_ThrowsHttpRequestException_Transient_SpendingAnAttempt()
    {
        using var response = Response(HttpStatusCode.ServiceUnavailable);

        HttpRequestException failed = Throws<HttpRequestException>(response);

        failed.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        Classifier.Classify(failed).Should().Be(new ErrorClassification(ErrorCategory.Transient));
        Decide(failed).Should().Be(RecoveryDecision.Retry(TimeSpan.FromSeconds(1)));
        Decide(failed).SpendsAttempt.Should().BeTrue();
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError, ErrorCategory.Transient)]
    [InlineData(HttpStatusCode.BadGateway, ErrorCategory.Transient)]
    [InlineData(HttpStatusCode.GatewayTimeout, ErrorCategory.Transient)]
    [InlineData(HttpStatusCode.RequestTimeout, ErrorCategory.Transient)]
    [InlineData(HttpStatusCode.Unauthorized, ErrorCategory.Auth)]
    [InlineData(HttpStatusCode.Forbidden, ErrorCategory.Auth)]
    [InlineData(HttpStatusCode.NotFound, ErrorCategory.Unknown)]
    [InlineData(HttpStatusCode.BadRequest, ErrorCategory.Unknown)]
    public void EnsureSuccessStatusCodeWithRetryAfter_OtherFailures_ThrowWhatEnsureSuccessStatusCodeThrows(HttpStatusCode status, ErrorCategory category)
    {
        using var response = Response(status);

        HttpRequestException failed = Throws<HttpRequestException>(response);

        failed.StatusCode.Should().Be(status);
        Classifier.Classify(failed).Category.Should().Be(category);
    }

    [Fact]
    public void EnsureSuccessStatusCodeWithRetryAfter_500WithRetryAfter_IsStillTransient()
    {
        using var response = Response(HttpStatusCode.InternalServerError, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(3)));

        Classifier.Classify(Throws<HttpRequestException>(response)).Should().Be(new ErrorClassification(ErrorCategory.Transient));
    }

    [Fact]
    public void EnsureSuccessStatusCodeWithRetryAfter_Null_ThrowsArgumentNull()
    {
        FluentActions.Invoking(() => HttpResponseMessageExtensions.EnsureSuccessStatusCodeWithRetryAfter(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void EnsureSuccessStatusCodeWithRetryAfter_WithoutAClock_UsesTheSystemClock()
    {
        using var response = Response(HttpStatusCode.TooManyRequests, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddHours(1)));

        RateLimitedException limited = FluentActions.Invoking(() => response.EnsureSuccessStatusCodeWithRetryAfter()).Should().Throw<RateLimitedException>().Which;

        limited.RetryAfter.Should().BeCloseTo(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void Classify_HttpRequestExceptionFromEnsureSuccessStatusCode_429_IsRateLimitedWithoutDelay_503_IsTransient()
    {
        using var tooMany = Response(HttpStatusCode.TooManyRequests, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(2)));
        using var unavailable = Response(HttpStatusCode.ServiceUnavailable, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(2)));

        // EnsureSuccessStatusCode drops the headers: the status code is all the classifier can see.
        Classifier.Classify(Catch(() => tooMany.EnsureSuccessStatusCode())).Should().Be(new ErrorClassification(ErrorCategory.RateLimited));
        Classifier.Classify(Catch(() => unavailable.EnsureSuccessStatusCode())).Should().Be(new ErrorClassification(ErrorCategory.Transient));
    }

    [Fact]
    public void Classify_HttpClientTimeout_IsTransient()
    {
        // HttpClient.Timeout surfaces as a TaskCanceledException whose inner exception is a TimeoutException.
        var timeout = new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 0.15 seconds elapsing.", new TimeoutException("The operation was canceled."));

        Classifier.Classify(timeout).Should().Be(new ErrorClassification(ErrorCategory.Transient));
        Decide(timeout).SpendsAttempt.Should().BeTrue();
    }

    [Fact]
    public void Classify_HttpRequestExceptionWithoutStatus_ConnectionRefused_IsTransient()
    {
        var refused = new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (127.0.0.1:1)");

        Classifier.Classify(refused).Should().Be(new ErrorClassification(ErrorCategory.Transient));
    }

    [Fact]
    public void Classify_UserRule_StillComesFirst_ForARateLimitedException()
    {
        var classifier = new DefaultErrorClassifier(new ErrorClassifierOptions().Add(e => e is RateLimitedException { StatusCode: HttpStatusCode.ServiceUnavailable } ? new ErrorClassification(ErrorCategory.Transient) : null));
        using var response = Response(HttpStatusCode.ServiceUnavailable, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(7)));

        classifier.Classify(Throws<RateLimitedException>(response)).Category.Should().Be(ErrorCategory.Transient);
    }

    private static HttpResponseMessage Response(HttpStatusCode status, Action<HttpResponseMessage>? configure = null)
    {
        var response = new HttpResponseMessage(status);
        configure?.Invoke(response);
        return response;
    }

    private static Exception Catch(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            return ex;
        }

        throw new InvalidOperationException("Nothing was thrown.");
    }

    private static RecoveryDecision Decide(Exception exception, int attempt = 1) =>
        new DefaultRecoveryStrategy(Backoff).Decide(new RecoveryArguments(exception, Classifier.Classify(exception), attempt, MaxAttempts: 5));

    private TException Throws<TException>(HttpResponseMessage response)
        where TException : Exception
    {
        Exception thrown = Catch(() => response.EnsureSuccessStatusCodeWithRetryAfter(_time));
        return thrown.Should().BeOfType<TException>().Subject;
    }
}
