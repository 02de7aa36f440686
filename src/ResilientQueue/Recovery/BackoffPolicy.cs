namespace ResilientQueue.Recovery;

/// <summary>
/// Capped exponential backoff with jitter: the n-th retry waits <c>min(BaseDelay × Multiplier^(n-1), MaxDelay)</c>, less a
/// random part of up to <see cref="JitterRatio"/> of it, so retries of many jobs spread out instead of arriving together.
/// Immutable and thread-safe.
/// </summary>
public sealed class BackoffPolicy
{
    /// <summary>Creates a policy.</summary>
    /// <param name="baseDelay">The wait before the first retry; more than zero.</param>
    /// <param name="maxDelay">The cap; at least <paramref name="baseDelay"/>.</param>
    /// <param name="multiplier">The growth per retry; at least 1.</param>
    /// <param name="jitterRatio">The largest fraction of a delay that jitter removes, from 0 (none) to 1.</param>
    /// <exception cref="InvalidOptionsException">An argument is out of range.</exception>
    public BackoffPolicy(TimeSpan baseDelay, TimeSpan maxDelay, double multiplier = 2.0, double jitterRatio = 0.2)
    {
        if (baseDelay <= TimeSpan.Zero)
        {
            throw new InvalidOptionsException("BackoffPolicy.BaseDelay", $"must be more than zero, was {baseDelay}.");
        }

        if (maxDelay < baseDelay)
        {
            throw new InvalidOptionsException("BackoffPolicy.MaxDelay", $"must be at least BaseDelay ({baseDelay}), was {maxDelay}.");
        }

        if (!(multiplier >= 1.0) || double.IsInfinity(multiplier))
        {
            throw new InvalidOptionsException("BackoffPolicy.Multiplier", $"must be a finite number of at least 1, was {multiplier}.");
        }

        if (!(jitterRatio >= 0.0 && jitterRatio <= 1.0))
        {
            throw new InvalidOptionsException("BackoffPolicy.JitterRatio", $"must be between 0 and 1, was {jitterRatio}.");
        }

        BaseDelay = baseDelay;
        MaxDelay = maxDelay;
        Multiplier = multiplier;
        JitterRatio = jitterRatio;
    }

    /// <summary>The default: 1 s doubling to a 5-minute cap, with 20 % jitter.</summary>
    public static BackoffPolicy Default { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));

    /// <summary>1, 2, 4, 8, 16 seconds, then 16 s for every later retry, without jitter.</summary>
    public static BackoffPolicy OneToSixteenSeconds { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(16), multiplier: 2.0, jitterRatio: 0.0);

    /// <summary>The wait before the first retry.</summary>
    public TimeSpan BaseDelay { get; }

    /// <summary>The longest wait.</summary>
    public TimeSpan MaxDelay { get; }

    /// <summary>The growth per retry.</summary>
    public double Multiplier { get; }

    /// <summary>The largest fraction of a delay that jitter removes.</summary>
    public double JitterRatio { get; }

    /// <summary>The wait before retry number <paramref name="retry"/>, with random jitter.</summary>
    /// <param name="retry">The retry, from 1 (the retry after the first failed attempt).</param>
    /// <returns>The wait; between <c>(1 - JitterRatio)</c> and 1 times the capped delay.</returns>
    public TimeSpan GetDelay(int retry) => GetDelay(retry, JitterRatio == 0 ? 0 : Random.Shared.NextDouble());

    /// <summary>The wait before retry number <paramref name="retry"/>, with the jitter given by <paramref name="jitterSample"/>.</summary>
    /// <param name="retry">The retry, from 1.</param>
    /// <param name="jitterSample">A number in [0, 1): 0 gives the full capped delay, values towards 1 remove up to <see cref="JitterRatio"/> of it.</param>
    /// <returns>The wait.</returns>
    public TimeSpan GetDelay(int retry, double jitterSample)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        if (!(jitterSample >= 0.0 && jitterSample < 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(jitterSample), jitterSample, "The jitter sample must be in [0, 1).");
        }

        double uncapped = BaseDelay.Ticks * Math.Pow(Multiplier, retry - 1);
        double capped = Math.Min(uncapped, MaxDelay.Ticks);
        double jittered = capped * (1.0 - (JitterRatio * jitterSample));
        return TimeSpan.FromTicks((long)jittered);
    }
}
