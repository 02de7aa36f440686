using ResilientQueue.Errors;

namespace ResilientQueue.Recovery;

/// <summary>What an <see cref="IRecoveryStrategy"/> knows about a failure.</summary>
/// <param name="Exception">The exception the handler threw.</param>
/// <param name="Classification">What the classifier made of it.</param>
/// <param name="Attempt">The attempt that failed, from 1 (attempts are counted at fetch).</param>
/// <param name="MaxAttempts">The job's max attempts.</param>
public readonly record struct RecoveryArguments(Exception Exception, ErrorClassification Classification, int Attempt, int MaxAttempts)
{
    /// <summary>Whether the failed attempt was the job's last.</summary>
    public bool IsLastAttempt => Attempt >= MaxAttempts;
}
