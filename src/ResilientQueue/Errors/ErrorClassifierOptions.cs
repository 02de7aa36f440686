namespace ResilientQueue.Errors;

/// <summary>
/// Rules that <see cref="DefaultErrorClassifier"/> applies before its built-in ones, in the order they were added;
/// the first rule that matches decides. The classifier copies the rules when it is created.
/// </summary>
public sealed class ErrorClassifierOptions
{
    private readonly List<Func<Exception, ErrorClassification?>> _rules = [];

    /// <summary>The rules, in order.</summary>
    internal IReadOnlyList<Func<Exception, ErrorClassification?>> Rules => _rules;

    /// <summary>Classifies exceptions of type <typeparamref name="TException"/> (and types derived from it) as <paramref name="category"/>.</summary>
    /// <typeparam name="TException">The exception type.</typeparam>
    /// <param name="category">Its category.</param>
    /// <returns>These options, for chaining.</returns>
    public ErrorClassifierOptions Add<TException>(ErrorCategory category)
        where TException : Exception
    {
        _rules.Add(e => e is TException ? new ErrorClassification(category) : null);
        return this;
    }

    /// <summary>Adds a rule: return a classification to decide, or <see langword="null"/> to let later rules decide.</summary>
    /// <param name="rule">The rule; must not throw.</param>
    /// <returns>These options, for chaining.</returns>
    public ErrorClassifierOptions Add(Func<Exception, ErrorClassification?> rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        _rules.Add(rule);
        return this;
    }
}
