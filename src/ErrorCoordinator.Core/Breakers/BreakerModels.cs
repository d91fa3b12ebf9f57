using System.Text.Json.Serialization;

namespace ErrorCoordinator.Core.Breakers;

/// <summary>
/// A circuit breaker's state. <c>Isolated</c> is a manual trip: it stays until reset or until its duration ends,
/// whatever the outcomes say.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<BreakerState>))]
public enum BreakerState
{
    [JsonStringEnumMemberName("closed")] Closed,
    [JsonStringEnumMemberName("open")] Open,
    [JsonStringEnumMemberName("half_open")] HalfOpen,
    [JsonStringEnumMemberName("isolated")] Isolated,
}

/// <summary>The transition event types, published on <c>events:errors:circuit_breakers</c> as in the original design.</summary>
public static class BreakerEventTypes
{
    public const string Opened = "circuit_breaker_opened";
    public const string HalfOpen = "circuit_breaker_half_open";
    public const string Closed = "circuit_breaker_closed";
    public const string Reopened = "circuit_breaker_reopened";
}

/// <summary>
/// A component's breaker policy. Every field has a default from configuration (<c>ErrorCoordinator:Breakers:Default</c>);
/// <c>configure_breaker</c> stores per-component overrides. Zero turns an optional rule off.
/// </summary>
public sealed record BreakerPolicy
{
    /// <summary>Open when failures ÷ calls in the window reaches this (0..1], with at least <see cref="MinimumThroughput"/> calls.</summary>
    public double FailureRatio { get; init; } = 0.5;
    /// <summary>Calls the window needs before the failure ratio counts.</summary>
    public int MinimumThroughput { get; init; } = 10;
    /// <summary>Length of the sliding window (10 time buckets).</summary>
    public int SamplingSeconds { get; init; } = 30;
    /// <summary>First break duration: how long the breaker stays open before half-open probes.</summary>
    public int BreakSeconds { get; init; } = 30;
    /// <summary>Cap of the break duration, which doubles on every failed probe.</summary>
    public int MaxBreakSeconds { get; init; } = 300;
    /// <summary>Probe permits granted fleet-wide while half-open; that many permit successes close the breaker.</summary>
    public int HalfOpenPermits { get; init; } = 1;
    /// <summary>How long a probe permit is held before its slot is freed for another caller.</summary>
    public int PermitLeaseSeconds { get; init; } = 30;
    /// <summary>Open on this many failures in a row, whatever the ratio. 0: off.</summary>
    public int ConsecutiveFailures { get; init; }
    /// <summary>Open when the window holds this many failures, whatever the ratio. 0: off.</summary>
    public int FailureCount { get; init; }
    /// <summary>Failures must come from at least this many distinct agents in the window before the breaker opens.</summary>
    public int MinDistinctReporters { get; init; } = 1;
    /// <summary>A success taking at least this many milliseconds counts as a failure (as resilience4j's slow calls). 0: off.</summary>
    public int SlowCallMs { get; init; }
}

/// <summary>A partial policy for <c>configure_breaker</c>: null keeps the stored (or default) value.</summary>
public sealed record BreakerPolicyUpdate
{
    public double? FailureRatio { get; init; }
    public int? MinimumThroughput { get; init; }
    public int? SamplingSeconds { get; init; }
    public int? BreakSeconds { get; init; }
    public int? MaxBreakSeconds { get; init; }
    public int? HalfOpenPermits { get; init; }
    public int? PermitLeaseSeconds { get; init; }
    public int? ConsecutiveFailures { get; init; }
    public int? FailureCount { get; init; }
    public int? MinDistinctReporters { get; init; }
    public int? SlowCallMs { get; init; }
    /// <summary>Drop every stored override first, so unspecified fields return to the defaults.</summary>
    public bool ResetToDefaults { get; init; }
}

/// <summary>The sliding window's totals over the policy's sampling period; distinct reporters is 0 when the window holds no failure.</summary>
public sealed record BreakerWindow(long Calls, long Failures, long SlowCalls, double FailureRatio, long DistinctReporters, int Seconds)
{
    public static BreakerWindow Empty(int seconds) => new(0, 0, 0, 0, 0, seconds);
}

/// <summary>A breaker as stored, with lazily due transitions (open → half_open, isolation ended) applied for display.</summary>
public sealed record BreakerView
{
    public required string Component { get; init; }
    public required BreakerState State { get; init; }
    public required BreakerWindow Window { get; init; }
    /// <summary>When the breaker last opened (or was isolated); kept after it closes; null when it never opened.</summary>
    public DateTimeOffset? OpenedAt { get; init; }
    /// <summary>Open: when probes start. Isolated: when isolation ends (null: until reset).</summary>
    public DateTimeOffset? OpenUntil { get; init; }
    /// <summary>Why it is in this state (the trip rule and its figures, the manual reason, the probe outcome).</summary>
    public string? Reason { get; init; }
    /// <summary>The agent whose call caused the last transition, when known.</summary>
    public string? ChangedBy { get; init; }
    public DateTimeOffset? ChangedAt { get; init; }
    /// <summary>The current break duration (doubles on every failed probe, up to the policy's maximum).</summary>
    public int BreakSeconds { get; init; }
    public long ConsecutiveFailures { get; init; }
    /// <summary>Half-open only: permits currently leased, successes so far, and the total allowed.</summary>
    public int PermitsLeased { get; init; }
    public int ProbeSuccesses { get; init; }
    public int HalfOpenPermits { get; init; }
    /// <summary>Opens since the breaker was created.</summary>
    public long Trips { get; init; }

    /// <summary>Whether a plain call (no probe permit) would be let through now.</summary>
    public bool AllowsCalls => State == BreakerState.Closed;

    /// <summary>Milliseconds until a call could be let through (open: until probes; half-open: until a lease can free; isolated with an end).</summary>
    public long? RetryAfterMs(DateTimeOffset now) => State switch
    {
        BreakerState.Closed => null,
        BreakerState.Open or BreakerState.Isolated when OpenUntil is { } until => Math.Max(0, (long)(until - now).TotalMilliseconds),
        _ => null,
    };
}

/// <summary>A transition caused by a call, as published (<see cref="BreakerEventTypes"/>).</summary>
public sealed record BreakerTransition(string EventId, string Type, BreakerState From, BreakerState To, string Reason, string? Agent, DateTimeOffset At);

/// <summary>The answer to <c>check_breaker</c>.</summary>
public sealed record BreakerCheck(BreakerView Breaker, bool Allowed, string? Permit, DateTimeOffset? PermitExpiresAt, long? RetryAfterMs, BreakerTransition? Transition);

/// <summary>One call's outcome for <c>record_outcome</c>.</summary>
public sealed record BreakerOutcome
{
    public required string Component { get; init; }
    public required bool Success { get; init; }
    public string? Permit { get; init; }
    public long? DurationMs { get; init; }
    public string? ErrorType { get; init; }
    public string? Agent { get; init; }
}

/// <summary>How a permit passed to <c>record_outcome</c> was treated.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PermitStatus>))]
public enum PermitStatus
{
    /// <summary>No permit was passed.</summary>
    [JsonStringEnumMemberName("none")] None,
    /// <summary>A valid permit of the current half-open period: the outcome decides the probe.</summary>
    [JsonStringEnumMemberName("accepted")] Accepted,
    /// <summary>The permit is unknown, expired or from an earlier period: the outcome is counted but cannot close the breaker.</summary>
    [JsonStringEnumMemberName("invalid")] Invalid,
}

/// <summary>The answer to <c>record_outcome</c>.</summary>
public sealed record OutcomeResult(BreakerView Breaker, bool CountedAsFailure, bool Slow, PermitStatus Permit, BreakerTransition? Transition, string? Note);
