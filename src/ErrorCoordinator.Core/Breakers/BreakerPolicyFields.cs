using System.Globalization;

namespace ErrorCoordinator.Core.Breakers;

/// <summary>
/// The stored form of a policy override: snake_case field -> invariant number, the same names in the Redis policy hash,
/// the configure_breaker parameters and the Lua scripts.
/// </summary>
public static class BreakerPolicyFields
{
    public static readonly IReadOnlyList<string> Names =
    [
        "failure_ratio", "minimum_throughput", "sampling_seconds", "break_seconds", "max_break_seconds", "half_open_permits",
        "permit_lease_seconds", "consecutive_failures", "failure_count", "min_distinct_reporters", "slow_call_ms",
    ];

    /// <summary>The policy's values in <see cref="Names"/> order, as the scripts read their defaults.</summary>
    public static IReadOnlyList<string> Values(BreakerPolicy p) =>
    [
        F(p.FailureRatio), I(p.MinimumThroughput), I(p.SamplingSeconds), I(p.BreakSeconds), I(p.MaxBreakSeconds), I(p.HalfOpenPermits),
        I(p.PermitLeaseSeconds), I(p.ConsecutiveFailures), I(p.FailureCount), I(p.MinDistinctReporters), I(p.SlowCallMs),
    ];

    /// <summary>The fields an update sets.</summary>
    public static IEnumerable<(string Field, string Value)> ToFields(BreakerPolicyUpdate u)
    {
        if (u.FailureRatio is { } a) yield return ("failure_ratio", F(a));
        if (u.MinimumThroughput is { } b) yield return ("minimum_throughput", I(b));
        if (u.SamplingSeconds is { } c) yield return ("sampling_seconds", I(c));
        if (u.BreakSeconds is { } d) yield return ("break_seconds", I(d));
        if (u.MaxBreakSeconds is { } e) yield return ("max_break_seconds", I(e));
        if (u.HalfOpenPermits is { } f) yield return ("half_open_permits", I(f));
        if (u.PermitLeaseSeconds is { } g) yield return ("permit_lease_seconds", I(g));
        if (u.ConsecutiveFailures is { } h) yield return ("consecutive_failures", I(h));
        if (u.FailureCount is { } i) yield return ("failure_count", I(i));
        if (u.MinDistinctReporters is { } j) yield return ("min_distinct_reporters", I(j));
        if (u.SlowCallMs is { } k) yield return ("slow_call_ms", I(k));
    }

    /// <summary>Stored overrides over <paramref name="defaults"/>; unknown or unreadable fields are ignored.</summary>
    public static BreakerPolicy Merge(BreakerPolicy defaults, IReadOnlyDictionary<string, string> stored)
    {
        if (stored.Count == 0) return defaults;
        int Int(string name, int fallback) => stored.TryGetValue(name, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : fallback;
        return new BreakerPolicy
        {
            FailureRatio = stored.TryGetValue("failure_ratio", out var r) && double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) ? ratio : defaults.FailureRatio,
            MinimumThroughput = Int("minimum_throughput", defaults.MinimumThroughput),
            SamplingSeconds = Int("sampling_seconds", defaults.SamplingSeconds),
            BreakSeconds = Int("break_seconds", defaults.BreakSeconds),
            MaxBreakSeconds = Int("max_break_seconds", defaults.MaxBreakSeconds),
            HalfOpenPermits = Int("half_open_permits", defaults.HalfOpenPermits),
            PermitLeaseSeconds = Int("permit_lease_seconds", defaults.PermitLeaseSeconds),
            ConsecutiveFailures = Int("consecutive_failures", defaults.ConsecutiveFailures),
            FailureCount = Int("failure_count", defaults.FailureCount),
            MinDistinctReporters = Int("min_distinct_reporters", defaults.MinDistinctReporters),
            SlowCallMs = Int("slow_call_ms", defaults.SlowCallMs),
        };
    }

    private static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
