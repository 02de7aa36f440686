namespace ResilientQueue;

/// <summary>The rule for queue names, the same on every backend.</summary>
public static class QueueNames
{
    /// <summary>The longest queue name: 200 characters.</summary>
    public const int MaxLength = 200;

    /// <summary>Whether <paramref name="name"/> is a valid queue name (see <see cref="ThrowIfInvalid"/>).</summary>
    /// <param name="name">The name.</param>
    /// <returns><see langword="true"/> when it is.</returns>
    public static bool IsValid(string? name) =>
        name is { Length: > 0 and <= MaxLength } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '#');

    /// <summary>
    /// Checks a queue name: 1 to <see cref="MaxLength"/> characters, each an ASCII letter or digit or one of <c>- _ . : #</c>
    /// (so a name can never break a Redis hash tag).
    /// </summary>
    /// <param name="name">The name.</param>
    /// <param name="paramName">The argument's name, for the exception.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty, too long or has another character.</exception>
    public static void ThrowIfInvalid(string name, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(name))] string? paramName = null)
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (name.Length == 0)
        {
            throw new ArgumentException("A queue name cannot be empty.", paramName);
        }

        if (name.Length > MaxLength)
        {
            throw new ArgumentException($"A queue name has at most {MaxLength} characters; this one has {name.Length}.", paramName);
        }

        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_' or '.' or ':' or '#'))
            {
                throw new ArgumentException($"Queue name '{name}' has the character '{c}'; only ASCII letters, digits and - _ . : # are allowed.", paramName);
            }
        }
    }
}
