using System.Text.Json.Serialization;
using ErrorCoordinator.Core.Correlation;

namespace ErrorCoordinator.Core.Incidents;

/// <summary>A post-mortem, after the Google SRE and PagerDuty templates: structured sections plus the same content as Markdown.</summary>
public sealed record Postmortem
{
    public required string Id { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? IncidentId { get; init; }
    public required string Title { get; init; }
    public required DateTimeOffset GeneratedAt { get; init; }
    public required DateTimeOffset Since { get; init; }
    public required DateTimeOffset Until { get; init; }
    public required string Summary { get; init; }
    public required PostmortemImpact Impact { get; init; }
    public required IReadOnlyList<TimelineEntry> Timeline { get; init; }
    public required PostmortemRootCause RootCause { get; init; }
    public required PostmortemDetection Detection { get; init; }
    public required PostmortemResponse Response { get; init; }
    public required IReadOnlyList<string> WentWell { get; init; }
    public required IReadOnlyList<string> WentWrong { get; init; }
    public required IReadOnlyList<ActionItem> ActionItems { get; init; }
    public required IReadOnlyList<Recommendation> Recommendations { get; init; }
    public required string Markdown { get; init; }
}

public sealed record ErrorTypeCount(string ErrorType, int Count);

public sealed record PostmortemImpact(
    int TotalErrors,
    IReadOnlyList<string> Agents,
    IReadOnlyList<string> Tasks,
    IReadOnlyList<string> Components,
    IReadOnlyList<ErrorTypeCount> ErrorCounts,
    int ErrorGroups);

/// <summary>The first event (the trigger), the ranked candidates with evidence, and the cause recorded at resolution.</summary>
public sealed record PostmortemRootCause(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Recorded,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Suspected,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? TriggerEventId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Trigger,
    IReadOnlyList<RootCauseCandidate> Candidates,
    bool Abstain,
    string Verdict,
    bool Cascade,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? CascadeReason);

public sealed record PostmortemDetection(
    DateTimeOffset FirstEventAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? FirstEventId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? OpenedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? TimeToDetectSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Source);

public sealed record PostmortemResponse(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? AcknowledgedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? AcknowledgedBy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? ResolvedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? TimeToAcknowledgeSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] double? TimeToResolveSeconds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Resolution);

/// <summary>An action item; the owner is left open for the review to fill in.</summary>
public sealed record ActionItem(string Item, string Type, [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Owner, string Rule);

public sealed record Recommendation(string Priority, string Action, string Rationale, string Rule);
