namespace ResilientQueue.Errors;

/// <summary>What an <see cref="IErrorClassifier"/> concluded about an exception.</summary>
/// <param name="Category">The category.</param>
/// <param name="RetryAfter">A wait the failing service asked for (e.g. an HTTP Retry-After header), if any.</param>
public readonly record struct ErrorClassification(ErrorCategory Category, TimeSpan? RetryAfter = null);
