namespace ResilientQueue.DeadLetter;

/// <summary>
/// The bounds of a dead-letter store. When an entry arrives, entries beyond <see cref="MaxEntries"/> (oldest first) and
/// entries older than <see cref="MaxAge"/> are removed; every such trim is logged and counted, never silent.
/// </summary>
public sealed class DeadLetterOptions
{
    /// <summary>The most entries kept. Default: 10,000. From 1 to 10,000,000.</summary>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>How long an entry is kept. Default: 14 days. From 1 minute to 365 days.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(14);

    /// <summary>Checks every option and throws for the first that is out of range.</summary>
    /// <exception cref="InvalidOptionsException">An option is out of range; the message names it.</exception>
    public void Validate()
    {
        foreach ((string option, string message) in Problems())
        {
            throw new InvalidOptionsException(option, message);
        }
    }

    /// <summary>Every option out of range, each with what is wrong.</summary>
    internal IEnumerable<(string Option, string Message)> Problems()
    {
        if (MaxEntries is < 1 or > 10_000_000)
        {
            yield return ("DeadLetterOptions.MaxEntries", $"must be from 1 to 10000000, was {MaxEntries}.");
        }

        if (MaxAge < TimeSpan.FromMinutes(1) || MaxAge > TimeSpan.FromDays(365))
        {
            yield return ("DeadLetterOptions.MaxAge", $"must be from 1 minute to 365 days, was {MaxAge}.");
        }
    }
}
