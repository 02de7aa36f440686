namespace ResilientQueue.Errors;

/// <summary>An error as stored on a job: the exception's type name, its message and its category.</summary>
public readonly record struct JobError
{
    /// <summary>The longest message kept, in characters; longer messages are cut and end with an ellipsis.</summary>
    public const int MaxMessageLength = 2048;

    /// <summary>Creates an error.</summary>
    /// <param name="typeName">The short type name of the exception, e.g. <c>HttpRequestException</c>.</param>
    /// <param name="message">The message; cut to <see cref="MaxMessageLength"/> characters.</param>
    /// <param name="category">The category it was classified as.</param>
    public JobError(string typeName, string message, ErrorCategory category)
    {
        ArgumentException.ThrowIfNullOrEmpty(typeName);
        ArgumentNullException.ThrowIfNull(message);
        TypeName = typeName;
        Message = message.Length <= MaxMessageLength ? message : string.Concat(message.AsSpan(0, MaxMessageLength - 1), "…");
        Category = category;
    }

    /// <summary>The short type name of the exception.</summary>
    public string TypeName { get; }

    /// <summary>The exception's message.</summary>
    public string Message { get; }

    /// <summary>The category the error was classified as.</summary>
    public ErrorCategory Category { get; }

    /// <summary>Creates the error of an exception.</summary>
    /// <param name="exception">The exception.</param>
    /// <param name="category">Its category.</param>
    /// <returns>The error, whose <see cref="ToString"/> reads <c>TypeName: message</c>.</returns>
    public static JobError FromException(Exception exception, ErrorCategory category)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new JobError(exception.GetType().Name, exception.Message, category);
    }

    /// <summary>The error as stored on a job: <c>TypeName: message</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{TypeName}: {Message}";
}
