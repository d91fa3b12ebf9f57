using System.ComponentModel.DataAnnotations;

namespace ErrorCoordinator.Core.Breakers;

/// <summary>Circuit breaker configuration. Bound from <c>ErrorCoordinator:Breakers</c>.</summary>
public sealed class BreakerOptions
{
    public const string Section = "ErrorCoordinator:Breakers";

    /// <summary>The policy of every component without its own (configure_breaker).</summary>
    public BreakerPolicy Default { get; set; } = new();

    /// <summary>Agent crash detection: this many crashes of one agent inside <see cref="CrashWindowSeconds"/> open <c>agent:&lt;agent&gt;</c>.</summary>
    [Range(1, 1000)] public int CrashThreshold { get; set; } = 5;

    /// <summary>The window agent crashes are counted in (the sampling period of <c>agent:*</c> breakers without their own policy).</summary>
    [Range(1, 86_400)] public int CrashWindowSeconds { get; set; } = 600;

    /// <summary>
    /// A breaker (state, window, policy and transitions) is kept this long after its last recorded call, transition or
    /// configure_breaker, then forgotten: it reads as closed with the default policy.
    /// </summary>
    public TimeSpan IdleRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The shortest <see cref="IdleRetention"/> accepted.</summary>
    public static readonly TimeSpan MinIdleRetention = TimeSpan.FromHours(1);

    /// <summary>Transitions kept per component (the audit log behind breaker://{component}).</summary>
    [Range(10, 100_000)] public int TransitionsKept { get; set; } = 1000;

    /// <summary>Known components kept in the list (least recently changed are dropped first).</summary>
    [Range(10, 10_000_000)] public int MaxBreakers { get; set; } = 10_000;
}
