namespace ResilientQueue;

/// <summary>Options (of a job, a queue or a store) are invalid; the message names the option and the rule. Nothing was changed.</summary>
public sealed class InvalidOptionsException : ResilientQueueException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="optionName">The option that is invalid, e.g. <c>EnqueueOptions.Delay</c>.</param>
    /// <param name="message">What is wrong with it.</param>
    public InvalidOptionsException(string optionName, string message)
        : base($"{optionName}: {message}")
    {
        OptionName = optionName;
    }

    /// <summary>The option that is invalid.</summary>
    public string OptionName { get; }
}
