namespace ResilientQueue;

/// <summary>
/// The base of every exception this library defines: queue conditions (<see cref="Backpressure.QueueFullException"/>,
/// <see cref="Leases.LeaseLostException"/>, <see cref="JobNotFoundException"/>, ...) and options or payloads it refuses
/// (<see cref="InvalidOptionsException"/>, <see cref="PayloadTooLargeException"/>). Bad arguments (a <see langword="null"/>,
/// a count out of range) are the standard <see cref="ArgumentException"/> family.
/// </summary>
public abstract class ResilientQueueException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What happened.</param>
    protected ResilientQueueException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">What happened.</param>
    /// <param name="innerException">The cause.</param>
    protected ResilientQueueException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
