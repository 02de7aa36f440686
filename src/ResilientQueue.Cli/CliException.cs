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

/// <summary>Ends a command with one line on standard error and an exit code.</summary>
internal sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static CliException Usage(string message) => new(ExitCodes.Usage, message);

    public static CliException Error(string message) => new(ExitCodes.Error, message);
}
