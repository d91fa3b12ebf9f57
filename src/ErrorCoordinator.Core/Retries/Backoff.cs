namespace ErrorCoordinator.Core.Retries;

/// <summary>Uniform random numbers for jitter. Injectable so tests can fix the seed and check the bounds.</summary>
public interface IRandomSource
{
    /// <summary>A number in [0, 1).</summary>
    double NextDouble();
}

/// <summary>The shared thread-safe generator.</summary>
public sealed class SystemRandomSource : IRandomSource
{
    public double NextDouble() => Random.Shared.NextDouble();
}

/// <summary>A reproducible sequence for a seed.</summary>
public sealed class SeededRandomSource(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);
    private readonly Lock _lock = new();

    public double NextDouble()
    {
        lock (_lock) return _random.NextDouble();
    }
}

/// <summary>Delay before a retry, following the AWS Architecture Blog's "Exponential Backoff And Jitter".</summary>
public static class Backoff
{
    /// <summary>
    /// The delay in ms before retry number <paramref name="retryIndex"/> (0 for the first retry).
    /// Full jitter: <c>uniform(0, min(cap, base·2^n))</c>. Decorrelated: <c>min(cap, uniform(base, prev·3))</c> with prev starting at base.
    /// Exponential: <c>min(cap, base·2^n)</c>. Constant: <c>min(cap, base)</c>.
    /// </summary>
    public static long DelayMs(BackoffKind kind, int retryIndex, long baseMs, long capMs, long prevMs, IRandomSource random)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retryIndex);
        ArgumentOutOfRangeException.ThrowIfNegative(baseMs);
        ArgumentOutOfRangeException.ThrowIfLessThan(capMs, baseMs);
        switch (kind)
        {
            case BackoffKind.Constant:
                return baseMs;
            case BackoffKind.Exponential:
                return Exponential(retryIndex, baseMs, capMs);
            case BackoffKind.ExponentialFullJitter:
                var ceiling = Exponential(retryIndex, baseMs, capMs);
                return Math.Min(ceiling, (long)Math.Floor(random.NextDouble() * (ceiling + 1)));
            case BackoffKind.DecorrelatedJitter:
                var prev = Math.Max(prevMs, baseMs);
                var high = prev * 3.0;
                if (high <= baseMs) return Math.Min(capMs, baseMs);
                var v = baseMs + Math.Floor(random.NextDouble() * (high - baseMs + 1));
                return v >= capMs ? capMs : (long)v;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private static long Exponential(int n, long baseMs, long capMs)
    {
        if (baseMs == 0) return 0;
        // base·2^n without overflow: stop doubling once the cap is reached.
        var d = (double)baseMs * Math.Pow(2, Math.Min(n, 62));
        return d >= capMs ? capMs : (long)d;
    }

    public static bool TryParse(string? value, out BackoffKind kind)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case null or "" or "exponential_full_jitter": kind = BackoffKind.ExponentialFullJitter; return true;
            case "decorrelated_jitter": kind = BackoffKind.DecorrelatedJitter; return true;
            case "exponential": kind = BackoffKind.Exponential; return true;
            case "constant": kind = BackoffKind.Constant; return true;
            default: kind = default; return false;
        }
    }

    public static string ToWire(this BackoffKind kind) => kind switch
    {
        BackoffKind.DecorrelatedJitter => "decorrelated_jitter",
        BackoffKind.Exponential => "exponential",
        BackoffKind.Constant => "constant",
        _ => "exponential_full_jitter",
    };

    public static readonly IReadOnlyList<string> Names = ["exponential_full_jitter", "decorrelated_jitter", "exponential", "constant"];
}
