using System.ComponentModel;
using System.Text.Json.Serialization;
using ErrorCoordinator.Core.Breakers;

namespace ErrorCoordinator.Mcp.Tools;

// Structured outputs of the circuit breaker tools (snake_case on the wire; nullable fields always written).

public sealed record BreakerWindowOutput(
    [property: Description("Calls recorded in the sliding window.")] long Calls,
    [property: Description("Failures in the window (slow successes included).")] long Failures,
    [property: Description("Successes that took at least the policy's slow_call_ms, counted as failures.")] long SlowCalls,
    [property: Description("failures ÷ calls, 0..1.")] double FailureRatio,
    [property: Description("Distinct agents that reported a failure in the window.")] long DistinctReporters,
    [property: Description("Length of the window in seconds (the policy's sampling_seconds).")] int Seconds)
{
    public static BreakerWindowOutput From(BreakerWindow w) => new(w.Calls, w.Failures, w.SlowCalls, w.FailureRatio, w.DistinctReporters, w.Seconds);
}

public sealed record TransitionOutput(
    [property: Description("Event id of the transition, as published on events:errors:circuit_breakers.")] string EventId,
    [property: Description("circuit_breaker_opened | circuit_breaker_half_open | circuit_breaker_closed | circuit_breaker_reopened")] string Type,
    [property: Description("State before.")] string From,
    [property: Description("State after.")] string To,
    [property: Description("Why it changed.")] string Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Agent whose call caused it.")] string? Agent,
    [property: Description("When it changed.")] DateTimeOffset At)
{
    public static TransitionOutput? Of(BreakerTransition? t) => t is null ? null
        : new(t.EventId, t.Type, BreakerEvent.Wire(t.From), BreakerEvent.Wire(t.To), t.Reason, t.Agent, t.At);
}

public sealed record BreakerOutput(
    [property: Description("The component (dependency) the breaker guards.")] string Component,
    [property: Description("closed | open | half_open | isolated")] string State,
    [property: Description("The sliding window's totals.")] BreakerWindowOutput Window,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("When it last opened or was isolated (kept after it closes; null if it never opened).")] DateTimeOffset? OpenedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Open: when probing starts. Isolated: when isolation ends (null: until reset).")] DateTimeOffset? OpenUntil,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Why it is in this state: the trip rule with its figures, the manual reason, or the probe outcome.")] string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Agent that caused the last transition.")] string? ChangedBy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("When it last changed state.")] DateTimeOffset? ChangedAt,
    [property: Description("Current break duration in seconds (doubles after each failed probe, up to max_break_seconds).")] int BreakSeconds,
    [property: Description("Failures in a row.")] long ConsecutiveFailures,
    [property: Description("Half-open: probe permits currently leased.")] int PermitsLeased,
    [property: Description("Half-open: probes that succeeded so far.")] int ProbeSuccesses,
    [property: Description("Probe permits granted fleet-wide while half-open (the policy's half_open_permits).")] int HalfOpenPermits,
    [property: Description("Times it opened or was isolated.")] long Trips)
{
    public static BreakerOutput From(BreakerView v) => new(v.Component, BreakerEvent.Wire(v.State), BreakerWindowOutput.From(v.Window), v.OpenedAt, v.OpenUntil,
        v.Reason, v.ChangedBy, v.ChangedAt, v.BreakSeconds, v.ConsecutiveFailures, v.PermitsLeased, v.ProbeSuccesses, v.HalfOpenPermits, v.Trips);
}

public sealed record CheckBreakerOutput(
    [property: Description("The component checked.")] string Component,
    [property: Description("closed | open | half_open | isolated")] string State,
    [property: Description("True: make the call now. False: do not call; wait retry_after_ms or use a fallback.")] bool Allowed,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Half-open only: your probe permit. Make the call once and pass this token to record_outcome.")] string? Permit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("When the permit's lease ends; after that its slot goes to another caller.")] DateTimeOffset? PermitExpiresAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("When not allowed: milliseconds until a call or probe may be allowed (null: isolated until reset).")] long? RetryAfterMs,
    [property: Description("The sliding window's totals.")] BreakerWindowOutput Window,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("When it last opened.")] DateTimeOffset? OpenedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Why it is in this state.")] string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The transition this check caused (open → half_open after the break, or isolation ended), if any.")] TransitionOutput? Transition,
    [property: Description("The full breaker.")] BreakerOutput Breaker)
{
    public static CheckBreakerOutput From(BreakerCheck c) => new(c.Breaker.Component, BreakerEvent.Wire(c.Breaker.State), c.Allowed, c.Permit, c.PermitExpiresAt,
        c.RetryAfterMs, BreakerWindowOutput.From(c.Breaker.Window), c.Breaker.OpenedAt, c.Breaker.Reason, TransitionOutput.Of(c.Transition), BreakerOutput.From(c.Breaker));
}

public sealed record RecordOutcomeOutput(
    [property: Description("The component.")] string Component,
    [property: Description("State after this outcome: closed | open | half_open | isolated.")] string State,
    [property: Description("True when this outcome changed the state.")] bool Transitioned,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The transition it caused, if any.")] TransitionOutput? Transition,
    [property: Description("True when counted as a failure (a failure, or a success that took at least slow_call_ms).")] bool CountedAsFailure,
    [property: Description("True when a success took at least the policy's slow_call_ms.")] bool Slow,
    [property: Description("none (no permit passed) | accepted (your probe decided) | invalid (unknown, expired or spent permit: counted, decides nothing).")] string Permit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Why nothing changed when it might have, e.g. a trip rule met without enough distinct reporters.")] string? Note,
    [property: Description("The sliding window after this outcome.")] BreakerWindowOutput Window,
    [property: Description("The full breaker.")] BreakerOutput Breaker)
{
    public static RecordOutcomeOutput From(OutcomeResult r) => new(r.Breaker.Component, BreakerEvent.Wire(r.Breaker.State), r.Transition is not null,
        TransitionOutput.Of(r.Transition), r.CountedAsFailure, r.Slow, r.Permit.ToString().ToLowerInvariant(), r.Note,
        BreakerWindowOutput.From(r.Breaker.Window), BreakerOutput.From(r.Breaker));
}

public sealed record BreakerChangeOutput(
    [property: Description("The breaker after the change.")] BreakerOutput Breaker,
    [property: Description("True when the state changed.")] bool Transitioned,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The transition, as published.")] TransitionOutput? Transition)
{
    public static BreakerChangeOutput From((BreakerView Breaker, BreakerTransition? Transition) r) =>
        new(BreakerOutput.From(r.Breaker), r.Transition is not null, TransitionOutput.Of(r.Transition));
}

public sealed record ListBreakersOutput(
    [property: Description("Breakers, most recently changed first.")] IReadOnlyList<BreakerOutput> Breakers,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Pass as cursor for the next page; null on the last page.")] string? NextCursor);

public sealed record PolicyOutput(
    double FailureRatio, int MinimumThroughput, int SamplingSeconds, int BreakSeconds, int MaxBreakSeconds, int HalfOpenPermits,
    int PermitLeaseSeconds, int ConsecutiveFailures, int FailureCount, int MinDistinctReporters, int SlowCallMs)
{
    public static PolicyOutput From(BreakerPolicy p) => new(p.FailureRatio, p.MinimumThroughput, p.SamplingSeconds, p.BreakSeconds, p.MaxBreakSeconds,
        p.HalfOpenPermits, p.PermitLeaseSeconds, p.ConsecutiveFailures, p.FailureCount, p.MinDistinctReporters, p.SlowCallMs);
}

public sealed record ConfigureBreakerOutput(
    [property: Description("The component.")] string Component,
    [property: Description("The effective policy now: stored overrides over the configured defaults (0 means an optional rule is off).")] PolicyOutput Policy);

public sealed record AgentStatusOutput(
    [property: Description("The agent.")] string Agent,
    [property: Description("running | completed | failed")] string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("failed: the agent_crash event recorded.")] string? CrashEventId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("failed: the error group of the crash.")] string? GroupId,
    [property: Description("The agent's breaker (agent:<agent>): it opens after repeated crashes inside the crash window.")] BreakerOutput Breaker,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The transition this status caused, if any.")] TransitionOutput? Transition);
