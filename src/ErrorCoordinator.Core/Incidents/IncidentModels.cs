using System.Text.Json.Serialization;
using ErrorCoordinator.Core.Errors;

namespace ErrorCoordinator.Core.Incidents;

/// <summary>An incident's state, as PagerDuty's: triggered → acknowledged → resolved.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<IncidentStatus>))]
public enum IncidentStatus
{
    [JsonStringEnumMemberName("triggered")] Triggered,
    [JsonStringEnumMemberName("acknowledged")] Acknowledged,
    [JsonStringEnumMemberName("resolved")] Resolved,
}

/// <summary>Why an incident opened.</summary>
public static class IncidentSources
{
    public const string Cascade = "cascade";
    public const string CriticalEvent = "critical_event";
    public const string BreakerOpened = "breaker_opened";
    public const string Manual = "manual";
}

/// <summary>Timeline entry types.</summary>
public static class TimelineTypes
{
    public const string Opened = "incident_opened";
    public const string Error = "error";
    public const string CascadeDetected = "cascade_detected";
    public const string BreakerTransition = "breaker_transition";
    public const string RetryExhausted = "retry_exhausted";
    public const string Acknowledged = "acknowledged";
    public const string Resolved = "resolved";
}

/// <summary>One timeline entry. Every entry cites the events it is about (error, breaker, retry or the incident's own lifecycle events).</summary>
public sealed record TimelineEntry(DateTimeOffset At, string Type, string Message, IReadOnlyList<string> EventIds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? By = null);

/// <summary>An incident with its timeline.</summary>
public sealed record Incident
{
    public required string Id { get; init; }
    public required string Title { get; init; }
    public required Severity Severity { get; init; }
    public required IncidentStatus Status { get; init; }
    public required string Source { get; init; }
    /// <summary>The correlation key the incident opened for (e.g. <c>c:payments</c>); related signals attach instead of opening another.</summary>
    public required string DedupKey { get; init; }
    public required IReadOnlyList<string> Components { get; init; }
    /// <summary>When the incident opened (triggered).</summary>
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>The earliest cited event's time: detection time is <see cref="CreatedAt"/> minus this.</summary>
    public required DateTimeOffset FirstEventAt { get; init; }
    public required DateTimeOffset LastEventAt { get; init; }
    public DateTimeOffset? AcknowledgedAt { get; init; }
    public string? AcknowledgedBy { get; init; }
    public DateTimeOffset? ResolvedAt { get; init; }
    public string? Resolution { get; init; }
    /// <summary>The root cause recorded when resolving.</summary>
    public string? RootCause { get; init; }
    /// <summary>The correlation's top candidate when the incident opened on a cascade.</summary>
    public string? SuspectedRootCause { get; init; }
    /// <summary>Events attached (each counted once, whichever process attached it).</summary>
    public required long EventCount { get; init; }
    /// <summary>Attached event ids in time order, at most <see cref="IncidentLimits.MaxEventIds"/>.</summary>
    public required IReadOnlyList<string> EventIds { get; init; }
    /// <summary>Timeline in time order, at most <see cref="IncidentLimits.MaxTimelineEntries"/> (acknowledgement and resolution always kept).</summary>
    public required IReadOnlyList<TimelineEntry> Timeline { get; init; }
    /// <summary>Timeline entries not kept because the timeline was full.</summary>
    public long TimelineDropped { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    public bool IsOpen => Status != IncidentStatus.Resolved;
}

/// <summary>The count caps and TTLs incident stores apply on every write.</summary>
public sealed record IncidentLimits(int MaxTimelineEntries, int MaxEventIds, int MaxOpenIncidents, TimeSpan ResolvedRetention)
{
    /// <summary>Most dedup keys (components, trace ids) one incident holds; later claims are skipped (lookups still match).</summary>
    public const int MaxDedupKeysPerIncident = 1_000;

    public static IncidentLimits From(IncidentOptions o) =>
        new(o.MaxTimelineEntries, o.MaxEventIdsPerIncident, o.MaxOpenIncidents, TimeSpan.FromDays(o.ResolvedRetentionDays));
}

/// <summary>An event cited by a signal, with the time it happened.</summary>
public sealed record CitedEvent(string EventId, DateTimeOffset At);

/// <summary>
/// Something that may open an incident or attach to one, atomically with the dedup check. The store finds the open incident
/// any of <see cref="ClaimKeys"/> or <see cref="LookupKeys"/> maps to (in that order); it attaches there and claims the
/// claim keys that are still free. With none found it opens <see cref="NewIncident"/> when given (claiming every claim
/// key), else does nothing. Events already attached are not counted again and add no timeline entry.
/// </summary>
public sealed record IncidentSignal
{
    public required IReadOnlyList<string> ClaimKeys { get; init; }
    public IReadOnlyList<string> LookupKeys { get; init; } = [];
    /// <summary>The incident to open when nothing matches; null: attach only.</summary>
    public Incident? NewIncident { get; init; }
    /// <summary>Open <see cref="NewIncident"/> even when a key matches (manual incidents); keys already claimed stay with their incident.</summary>
    public bool AlwaysOpen { get; init; }
    public required IReadOnlyList<CitedEvent> Events { get; init; }
    public required TimelineEntry Entry { get; init; }
    public required IReadOnlyList<string> Components { get; init; }
    public required Severity Severity { get; init; }
    public string? SuspectedRootCause { get; init; }
    public required DateTimeOffset Now { get; init; }
    /// <summary>Channel to publish the change on (an <see cref="IncidentChange"/>).</summary>
    public required string Channel { get; init; }
}

/// <summary>What a signal did.</summary>
public enum SignalResult
{
    /// <summary>Nothing matched and the signal may not open one.</summary>
    None,
    Opened,
    Attached,
    /// <summary>Matched an incident that already had every cited event: nothing changed.</summary>
    Duplicate,
    /// <summary>The open-incident cap was reached: nothing was opened.</summary>
    Capped,
}

public sealed record SignalOutcome(SignalResult Result, string? IncidentId);

/// <summary>A requested state change.</summary>
public sealed record IncidentTransition
{
    public required IncidentStatus To { get; init; }
    public required DateTimeOffset Now { get; init; }
    public required TimelineEntry Entry { get; init; }
    public string? By { get; init; }
    public string? Resolution { get; init; }
    public string? RootCause { get; init; }
    public required string Channel { get; init; }
}

/// <summary>What a transition did.</summary>
public enum TransitionResult
{
    Applied,
    /// <summary>Already in the requested state (acknowledging twice): nothing changed.</summary>
    Unchanged,
    /// <summary>The transition is not allowed from the current state (e.g. acknowledging a resolved incident).</summary>
    NotAllowed,
    NotFound,
}

public sealed record TransitionOutcome(TransitionResult Result, IncidentStatus? Current);

/// <summary>Published on the incidents channel after every change.</summary>
public sealed record IncidentChange(string Type, string IncidentId, string Status, DateTimeOffset At);

/// <summary>Filters for listing incidents.</summary>
public sealed record IncidentQuery
{
    public IncidentStatus? Status { get; init; }
    /// <summary>True: triggered and acknowledged only.</summary>
    public bool OpenOnly { get; init; }
    public int Limit { get; init; } = Common.Defaults.DefaultPageSize;
    public string? Cursor { get; init; }
}
