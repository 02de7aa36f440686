namespace ResilientQueue.Recovery;

/// <summary>Decides what happens to a job whose handler failed, from the error's classification and the job's attempts.</summary>
public interface IRecoveryStrategy
{
    /// <summary>Decides. Must not throw. The queue enforces max attempts whatever is decided: a retry that spends the last attempt dead-letters the job.</summary>
    /// <param name="arguments">The failure.</param>
    /// <returns>The decision.</returns>
    RecoveryDecision Decide(in RecoveryArguments arguments);
}
