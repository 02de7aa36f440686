using System.ComponentModel.DataAnnotations;
using System.Data.Common;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using ResilientQueue.Errors;

namespace ResilientQueue.Tests.Errors;

public sealed class DefaultErrorClassifierTests
{
    private static readonly DefaultErrorClassifier Classifier = new();

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    public void Classify_Http401Or403_IsAuth(HttpStatusCode status)
    {
        Classifier.Classify(Http(status)).Should().Be(new ErrorClassification(ErrorCategory.Auth));
    }

    [Fact]
    public void Classify_AFullQueueTheHandlerEnqueuesInto_IsTransient()
    {
        Classifier.Classify(new Backpressure.QueueFullException("downstream", 10, 10, 1)).Category.Should().Be(ErrorCategory.Transient);
        Classifier.Classify(new Backpressure.QueueFullTimeoutException("downstream", TimeSpan.FromSeconds(1), 10, 10, "room for 1 more job")).Category.Should().Be(ErrorCategory.Transient);
    }

    [Fact]
    public void Classify_UnauthorizedAccessException_IsNotAuth_BecauseALocalFilePermissionMustNotStopTheWorker()
    {
        Classifier.Classify(new UnauthorizedAccessException("denied")).Should().Be(new ErrorClassification(ErrorCategory.Unknown));
    }

    [Fact]
    public void Classify_Http429_IsRateLimited_WithoutRetryAfter()
    {
        ErrorClassification classification = Classifier.Classify(Http(HttpStatusCode.TooManyRequests));

        classification.Category.Should().Be(ErrorCategory.RateLimited);
        classification.RetryAfter.Should().BeNull();
    }

    [Fact]
    public void Classify_RateLimitedExceptionWithRetryAfter_IsRateLimited_CarryingTheRetryAfter()
    {
        ErrorClassification classification = Classifier.Classify(new RateLimitedException("slow down", TimeSpan.FromSeconds(30)));

        classification.Should().Be(new ErrorClassification(ErrorCategory.RateLimited, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public void Classify_RateLimitedExceptionWithoutRetryAfter_IsRateLimited_WithoutRetryAfter()
    {
        Classifier.Classify(new RateLimitedException("slow down")).Should().Be(new ErrorClassification(ErrorCategory.RateLimited));
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    public void Classify_Http5xx_IsTransient(HttpStatusCode status)
    {
        Classifier.Classify(Http(status)).Should().Be(new ErrorClassification(ErrorCategory.Transient));
    }

    [Fact]
    public void Classify_HttpRequestExceptionWithoutStatus_IsTransient()
    {
        Classifier.Classify(new HttpRequestException("connection refused")).Should().Be(new ErrorClassification(ErrorCategory.Transient));
    }

    [Fact]
    public void Classify_Http404_IsUnknown()
    {
        Classifier.Classify(Http(HttpStatusCode.NotFound)).Category.Should().Be(ErrorCategory.Unknown);
    }

    public static TheoryData<Exception> TransientExceptions => new()
    {
        new SocketException((int)SocketError.ConnectionRefused),
        new TimeoutException("timed out"),
        new IOException("broken pipe"),
        new TaskCanceledException("a timeout inside the handler"),
    };

    [Theory]
    [MemberData(nameof(TransientExceptions))]
    public void Classify_NetworkAndTimeoutErrors_AreTransient(Exception exception)
    {
        Classifier.Classify(exception).Should().Be(new ErrorClassification(ErrorCategory.Transient));
    }

    [Fact]
    public void Classify_ATypeNamedStackExchangeRedisRedisConnectionException_IsTransient_MatchedByName()
    {
#pragma warning disable CS0436 // the test's stand-in shadows the real type on purpose (see FakeRedisConnectionException.cs)
        var exception = new StackExchange.Redis.RedisConnectionException("No connection is available");
#pragma warning restore CS0436

        exception.GetType().Assembly.Should().BeSameAs(typeof(DefaultErrorClassifierTests).Assembly, "only the type's name can match, not the type");
        exception.GetType().FullName.Should().Be("StackExchange.Redis.RedisConnectionException");
        Classifier.Classify(exception).Should().Be(new ErrorClassification(ErrorCategory.Transient));
    }

    [Fact]
    public void Classify_ATypeDerivedFromRedisConnectionException_IsTransient()
    {
        Classifier.Classify(new StackExchange.Redis.DerivedRedisConnectionException("socket closed"))
            .Should().Be(new ErrorClassification(ErrorCategory.Transient));
    }

    public static TheoryData<Exception> ValidationExceptions => new()
    {
        new JsonException("'n' is an invalid start of a value."),
        new FormatException("not a number"),
        new InvalidDataException("bad payload"),
        new ValidationException("Email is required."),
    };

    [Theory]
    [MemberData(nameof(ValidationExceptions))]
    public void Classify_JsonFormatAndValidationErrors_AreValidation(Exception exception)
    {
        Classifier.Classify(exception).Should().Be(new ErrorClassification(ErrorCategory.Validation));
    }

    [Fact]
    public void Classify_DbExceptionThatIsNotTransient_IsDatabase()
    {
        Classifier.Classify(new FakeDbException("unique constraint violated", isTransient: false)).Should().Be(new ErrorClassification(ErrorCategory.Database));
    }

    [Fact]
    public void Classify_DbExceptionThatIsTransient_IsTransient()
    {
        Classifier.Classify(new FakeDbException("deadlock victim", isTransient: true)).Should().Be(new ErrorClassification(ErrorCategory.Transient));
    }

    public static TheoryData<Exception> UnknownExceptions => new()
    {
        new ArgumentNullException("payload"),
        new InvalidOperationException("unexpected state"),
    };

    [Theory]
    [MemberData(nameof(UnknownExceptions))]
    public void Classify_AnythingElse_IsUnknown(Exception exception)
    {
        Classifier.Classify(exception).Should().Be(new ErrorClassification(ErrorCategory.Unknown));
    }

    [Fact]
    public void Classify_AggregateWithOneInner_IsClassifiedByTheInner()
    {
        Classifier.Classify(new AggregateException(Http(HttpStatusCode.Unauthorized))).Category.Should().Be(ErrorCategory.Auth);
        Classifier.Classify(new AggregateException(new JsonException("bad"))).Category.Should().Be(ErrorCategory.Validation);
        Classifier.Classify(new AggregateException(new RateLimitedException("slow", TimeSpan.FromSeconds(5))))
            .Should().Be(new ErrorClassification(ErrorCategory.RateLimited, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Classify_AggregateWithSeveralInners_IsUnknown()
    {
        Classifier.Classify(new AggregateException(new TimeoutException(), new JsonException())).Category.Should().Be(ErrorCategory.Unknown);
    }

    [Fact]
    public void Classify_UserRuleForAType_BeatsTheBuiltInMapping()
    {
        var options = new ErrorClassifierOptions().Add<TimeoutException>(ErrorCategory.Validation);

        var classifier = new DefaultErrorClassifier(options);

        classifier.Classify(new TimeoutException()).Category.Should().Be(ErrorCategory.Validation);
        classifier.Classify(new IOException()).Category.Should().Be(ErrorCategory.Transient, "other types keep their built-in mapping");
    }

    [Fact]
    public void Classify_UserRuleForABaseType_MatchesDerivedTypes()
    {
        var classifier = new DefaultErrorClassifier(new ErrorClassifierOptions().Add<IOException>(ErrorCategory.Database));

        classifier.Classify(new FileNotFoundException("gone")).Category.Should().Be(ErrorCategory.Database);
    }

    [Fact]
    public void Classify_UserRule_SeesTheInnerExceptionOfASingleAggregate()
    {
        var classifier = new DefaultErrorClassifier(new ErrorClassifierOptions().Add<InvalidOperationException>(ErrorCategory.Auth));

        classifier.Classify(new AggregateException(new InvalidOperationException())).Category.Should().Be(ErrorCategory.Auth);
    }

    [Fact]
    public void Classify_PredicateRules_RunInOrder_FirstNonNullDecides_AndNullPassesOn()
    {
        var calls = new List<string>();
        var options = new ErrorClassifierOptions()
            .Add(e =>
            {
                calls.Add("first");
                return null;
            })
            .Add(e =>
            {
                calls.Add("second");
                return e.Message == "quota" ? new ErrorClassification(ErrorCategory.RateLimited, TimeSpan.FromMinutes(1)) : null;
            })
            .Add(e =>
            {
                calls.Add("third");
                return new ErrorClassification(ErrorCategory.Database);
            });
        var classifier = new DefaultErrorClassifier(options);

        classifier.Classify(new InvalidOperationException("quota")).Should().Be(new ErrorClassification(ErrorCategory.RateLimited, TimeSpan.FromMinutes(1)));
        calls.Should().Equal("first", "second");

        calls.Clear();
        classifier.Classify(new InvalidOperationException("other")).Category.Should().Be(ErrorCategory.Database);
        calls.Should().Equal("first", "second", "third");
    }

    [Fact]
    public void Classify_RulesThatAllReturnNull_FallBackToTheBuiltInMapping()
    {
        var classifier = new DefaultErrorClassifier(new ErrorClassifierOptions().Add(_ => null).Add(_ => null));

        classifier.Classify(Http(HttpStatusCode.Forbidden)).Category.Should().Be(ErrorCategory.Auth);
        classifier.Classify(new InvalidOperationException()).Category.Should().Be(ErrorCategory.Unknown);
    }

    [Fact]
    public void Classify_RuleAddedAfterTheClassifierWasCreated_HasNoEffect()
    {
        var options = new ErrorClassifierOptions();
        var classifier = new DefaultErrorClassifier(options);

        options.Add<InvalidOperationException>(ErrorCategory.Validation);
        options.Add(_ => new ErrorClassification(ErrorCategory.Auth));

        classifier.Classify(new InvalidOperationException()).Category.Should().Be(ErrorCategory.Unknown);
        new DefaultErrorClassifier(options).Classify(new InvalidOperationException()).Category.Should().Be(ErrorCategory.Validation, "a classifier created later sees the rules");
    }

    [Fact]
    public void Classify_Null_ThrowsArgumentNull()
    {
        FluentActions.Invoking(() => Classifier.Classify(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Add_NullRule_ThrowsArgumentNull()
    {
        FluentActions.Invoking(() => new ErrorClassifierOptions().Add(null!)).Should().Throw<ArgumentNullException>();
    }

    private static HttpRequestException Http(HttpStatusCode status) => new($"Response status code does not indicate success: {(int)status}.", null, status);

    private sealed class FakeDbException(string message, bool isTransient) : DbException(message)
    {
        public override bool IsTransient { get; } = isTransient;
    }
}
