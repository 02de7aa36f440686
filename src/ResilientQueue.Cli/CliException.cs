namespace ResilientQueue.Cli;

/// <summary>The exit codes of <c>resq</c>.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>An error: Redis unreachable, credentials rejected, queue or job not found, an operation failed.</summary>
    public const int Error = 1;

    /// <summary>A usage error (bad argument, option, duration or limit) or a destructive command not confirmed.</summary>
    public const int Usage = 2;
}

/// <summary>
/// Ends a command with one line on standard error and an exit code. <see cref="Exception.InnerException"/> is the
/// underlying error, if any, and <see cref="Details"/> what else explains it (e.g. the client's connection log); both are
/// printed only with <c>RESQ_DEBUG=1</c>.
/// </summary>
internal sealed class CliException(int exitCode, string message, Exception? innerException = null, string? details = null) : Exception(message, innerException)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>More about the cause, for <c>RESQ_DEBUG=1</c>; may hold a password until scrubbed.</summary>
    public string? Details { get; } = details;

    public static CliException Usage(string message, Exception? innerException = null) => new(ExitCodes.Usage, message, innerException);

    public static CliException Error(string message, Exception? innerException = null, string? details = null) => new(ExitCodes.Error, message, innerException, details);
}
