using System.ComponentModel;
using System.Text.Json.Serialization;
using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Incidents;

namespace ErrorCoordinator.Mcp.Tools;

// Structured outputs of the correlation and incident tools (snake_case on the wire; nullable fields always written).

public sealed record DependencyOutput(
    [property: Description("The component.")] string Component,
    [property: Description("Components it depends on (calls), sorted.")] IReadOnlyList<string> DependsOn,
    [property: Description("When this list last changed.")] DateTimeOffset UpdatedAt)
{
    public static DependencyOutput From(DependencyRegistration r) => new(r.Component, r.DependsOn, r.UpdatedAt);
}

public sealed record RegisterDependenciesOutput(
    [property: Description("The component's dependencies as stored now.")] DependencyOutput Registration,
    [property: Description("False when the same list was already stored (nothing changed).")] bool Changed,
    [property: Description("Cycles the graph now contains, each as a component path ending where it starts. Reported, never fatal.")] IReadOnlyList<IReadOnlyList<string>> Cycles,
    [property: Description("Components in the graph (registered or named as a dependency).")] int Components,
    [property: Description("Dependency edges in the graph.")] int Edges);

public sealed record DependencyGraphOutput(
    [property: Description("Every registered component with its dependencies.")] IReadOnlyList<DependencyOutput> Components,
    [property: Description("Dependency edges in total.")] int Edges,
    [property: Description("Cycles in the graph (component paths ending where they start).")] IReadOnlyList<IReadOnlyList<string>> Cycles);

public sealed record ClusterGroupOutput(
    [property: Description("Error group id.")] string GroupId,
    [property: Description("Error type of the group.")] string ErrorType,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Component of its first event in the cluster.")] string? Component,
    [property: Description("Events of the group in the cluster.")] int Count,
    [property: Description("First event of the group in the cluster.")] DateTimeOffset FirstAt);

public sealed record ClusterOutput(
    [property: Description("Cluster id (cl_ plus its first event id).")] string Id,
    [property: Description("Failing components, in the order they started failing.")] IReadOnlyList<string> Components,
    [property: Description("Error groups in the cluster.")] IReadOnlyList<ClusterGroupOutput> Groups,
    [property: Description("Event ids in time order (at most 100).")] IReadOnlyList<string> EventIds,
    [property: Description("Events in the cluster.")] int EventCount,
    [property: Description("Trace ids seen in the cluster.")] IReadOnlyList<string> TraceIds,
    [property: Description("Distinct error types.")] IReadOnlyList<string> ErrorTypes,
    [property: Description("Reporting agents.")] IReadOnlyList<string> Agents,
    [property: Description("First event.")] DateTimeOffset FirstAt,
    [property: Description("Last event.")] DateTimeOffset LastAt,
    [property: Description("What linked its errors: time (one component's burst), trace_id, dependency.")] IReadOnlyList<string> LinkedBy,
    [property: Description("True when the cluster is a cascade.")] bool Cascade,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Why it is a cascade.")] string? CascadeReason,
    [property: Description("True when it holds enough related errors to name a cause; false reads as noise.")] bool Significant)
{
    public static ClusterOutput From(ErrorCluster c) => new(c.Id, c.Components,
        c.Groups.Select(g => new ClusterGroupOutput(g.GroupId, g.ErrorType, g.Component, g.Count, g.FirstAt)).ToList(),
        c.EventIds, c.EventCount, c.TraceIds, c.ErrorTypes, c.Agents, c.FirstAt, c.LastAt, c.LinkedBy, c.Cascade, c.CascadeReason, c.Significant);
}

public sealed record RootCauseOutput(
    [property: Description("The candidate component.")] string Component,
    [property: Description("Its first error group in the cluster.")] string GroupId,
    [property: Description("0..1; higher is more likely. Share of the cluster it explains, lowered when a dependency failed first or its own errors are few.")] double Score,
    [property: Description("Event ids backing it: its first errors, then the first error of each component it explains.")] IReadOnlyList<string> Evidence,
    [property: Description("Propagation path from the candidate through its dependents; each component started failing no earlier than the one before.")] IReadOnlyList<string> Path,
    [property: Description("The cluster it belongs to.")] string ClusterId,
    [property: Description("Other failing components its failure explains.")] int Explains,
    [property: Description("When it started failing.")] DateTimeOffset FirstFailureAt,
    [property: Description("Why it is ranked so, in words.")] string Reason)
{
    public static RootCauseOutput From(RootCauseCandidate r) => new(r.Component, r.GroupId, r.Score, r.Evidence, r.Path, r.ClusterId, r.Explains, r.FirstFailureAt, r.Reason);
}

public sealed record CorrelateOutput(
    [property: Description("Start of the window.")] DateTimeOffset Since,
    [property: Description("End of the window.")] DateTimeOffset Until,
    [property: Description("Events read.")] int EventsExamined,
    [property: Description("True when the window held more events than the configured maximum; the newest were read.")] bool Truncated,
    [property: Description("Groups of errors that belong together.")] IReadOnlyList<ClusterOutput> Clusters,
    [property: Description("True when any cluster is a cascade.")] bool Cascade,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Why (≥ 3 distinct error types, or failures spreading across dependent components).")] string? CascadeReason,
    [property: Description("Ranked root-cause candidates, most likely first.")] IReadOnlyList<RootCauseOutput> RootCauses,
    [property: Description("True when the evidence does not single out a cause (unrelated noise, or independent failures).")] bool Abstain,
    [property: Description("The conclusion in one sentence.")] string Verdict,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The cluster the top candidate comes from.")] string? PrimaryClusterId,
    [property: Description("Cycles in the dependency graph (reported; the ranking never loops on them).")] IReadOnlyList<IReadOnlyList<string>> GraphCycles)
{
    public static CorrelateOutput From(CorrelationResult r) => new(r.Since, r.Until, r.EventsExamined, r.Truncated,
        r.Analysis.Clusters.Select(ClusterOutput.From).ToList(), r.Analysis.Cascade, r.Analysis.CascadeReason,
        r.Analysis.RootCauses.Select(RootCauseOutput.From).ToList(), r.Analysis.Abstain, r.Analysis.Verdict, r.Analysis.PrimaryClusterId, r.GraphCycles);
}

public sealed record TimelineEntryOutput(
    [property: Description("When it happened.")] DateTimeOffset At,
    [property: Description("incident_opened | error | cascade_detected | breaker_transition | retry_exhausted | acknowledged | resolved")] string Type,
    [property: Description("What happened.")] string Message,
    [property: Description("The events it cites (error, breaker, retry or the incident's own lifecycle events).")] IReadOnlyList<string> EventIds,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Who did it, for acknowledgements and resolutions.")] string? By)
{
    public static TimelineEntryOutput From(TimelineEntry t) => new(t.At, t.Type, t.Message, t.EventIds, t.By);
}

public sealed record IncidentOutput(
    [property: Description("Incident id.")] string Id,
    [property: Description("Title.")] string Title,
    [property: Description("critical | error | warning | info (the highest seen).")] string Severity,
    [property: Description("triggered | acknowledged | resolved")] string Status,
    [property: Description("Why it opened: cascade | critical_event | breaker_opened | manual.")] string Source,
    [property: Description("The correlation key it opened for; related failures attach to it instead of opening another incident.")] string DedupKey,
    [property: Description("Affected components.")] IReadOnlyList<string> Components,
    [property: Description("When it opened.")] DateTimeOffset CreatedAt,
    [property: Description("Earliest event it cites.")] DateTimeOffset FirstEventAt,
    [property: Description("Latest event it cites.")] DateTimeOffset LastEventAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("When it was acknowledged.")] DateTimeOffset? AcknowledgedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Who acknowledged it.")] string? AcknowledgedBy,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("When it was resolved.")] DateTimeOffset? ResolvedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("How it was resolved.")] string? Resolution,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Root cause recorded when resolving.")] string? RootCause,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Most likely root cause according to correlation, when it opened on a cascade.")] string? SuspectedRootCause,
    [property: Description("Events attached (each counted once).")] long EventCount,
    [property: Description("Attached event ids in time order (empty in listings).")] IReadOnlyList<string> EventIds,
    [property: Description("Timeline in time order; every entry cites event ids (empty in listings).")] IReadOnlyList<TimelineEntryOutput> Timeline,
    [property: Description("Timeline entries not kept because the timeline was full.")] long TimelineDropped,
    [property: Description("Last change.")] DateTimeOffset UpdatedAt)
{
    public static IncidentOutput From(Incident i) => new(i.Id, i.Title, i.Severity.ToWire(), Wire(i.Status), i.Source, i.DedupKey, i.Components,
        i.CreatedAt, i.FirstEventAt, i.LastEventAt, i.AcknowledgedAt, i.AcknowledgedBy, i.ResolvedAt, i.Resolution, i.RootCause, i.SuspectedRootCause,
        i.EventCount, i.EventIds, i.Timeline.Select(TimelineEntryOutput.From).ToList(), i.TimelineDropped, i.UpdatedAt);

    public static string Wire(IncidentStatus s) => s switch
    {
        IncidentStatus.Triggered => "triggered",
        IncidentStatus.Acknowledged => "acknowledged",
        _ => "resolved",
    };
}

public sealed record ListIncidentsOutput(
    [property: Description("Incidents, newest first (without timelines; use get_incident).")] IReadOnlyList<IncidentOutput> Incidents,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Pass as cursor for the next page; null when there is none.")] string? NextCursor);

public sealed record AcknowledgeOutput(
    [property: Description("The incident after the call.")] IncidentOutput Incident,
    [property: Description("False when it was already acknowledged (nothing changed).")] bool Changed);

public sealed record PostmortemOutput(
    [property: Description("Post-mortem id; read it again as the resource postmortem://{id}.")] string Id,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The incident it reviews; null for a time range.")] string? IncidentId,
    [property: Description("Title.")] string Title,
    [property: Description("The post-mortem as Markdown, every section included.")] string Markdown,
    [property: Description("The same content as structured JSON: summary, impact, timeline, root_cause, detection, response, went_well, went_wrong, action_items, recommendations.")] Postmortem Document);
