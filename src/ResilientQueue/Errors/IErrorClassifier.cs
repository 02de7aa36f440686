namespace ResilientQueue.Errors;

/// <summary>Decides what kind of failure an exception thrown by a job handler is.</summary>
public interface IErrorClassifier
{
    /// <summary>Classifies an exception. Must not throw, and should be fast: it runs on every failure.</summary>
    /// <param name="exception">The exception the handler threw.</param>
    /// <returns>The category, and a wait the failing service asked for, if any.</returns>
    ErrorClassification Classify(Exception exception);
}
