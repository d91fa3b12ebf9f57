namespace ErrorCoordinator.Core.Correlation;

/// <summary>What to correlate: the window ending at <see cref="At"/> (default now), optionally only clusters touching <see cref="Component"/>.</summary>
public sealed record CorrelationRequest
{
    public int? WindowSeconds { get; init; }
    public DateTimeOffset? At { get; init; }
    public string? Component { get; init; }
}

/// <summary>The tuning the engine runs with (from <see cref="CorrelationOptions"/>).</summary>
public sealed record CorrelationSettings(TimeSpan LinkGap, TimeSpan ClockSkew, TimeSpan MaxPropagation, int CascadeErrorTypes, int MaxRootCauses,
    int MinClusterEvents = 4, int MinOwnErrors = 3)
{
    public static CorrelationSettings From(CorrelationOptions o) => new(
        TimeSpan.FromSeconds(o.LinkGapSeconds), TimeSpan.FromSeconds(o.ClockSkewSeconds), TimeSpan.FromSeconds(o.MaxPropagationSeconds),
        o.CascadeErrorTypes, o.MaxRootCauses, o.MinClusterErrors, o.MinRepeatedErrors);

    public static CorrelationSettings Default { get; } = From(new CorrelationOptions());
}

/// <summary>One error group's share of a cluster.</summary>
public sealed record ClusterGroup(string GroupId, string ErrorType, string? Component, int Count, DateTimeOffset FirstAt);

/// <summary>Errors that belong together: linked by time, a shared trace id, or a dependency edge between their components.</summary>
public sealed record ErrorCluster
{
    public required string Id { get; init; }
    public required IReadOnlyList<string> Components { get; init; }
    public required IReadOnlyList<ClusterGroup> Groups { get; init; }
    /// <summary>The cluster's events in time order, at most <see cref="CorrelationEngine.MaxEventIdsPerCluster"/>.</summary>
    public required IReadOnlyList<string> EventIds { get; init; }
    public required int EventCount { get; init; }
    public required IReadOnlyList<string> TraceIds { get; init; }
    public required IReadOnlyList<string> ErrorTypes { get; init; }
    public required IReadOnlyList<string> Agents { get; init; }
    public required DateTimeOffset FirstAt { get; init; }
    public required DateTimeOffset LastAt { get; init; }
    /// <summary>When the coordinator received the cluster's latest-arriving event (tells a check whether the cluster grew since the last).</summary>
    public required DateTimeOffset LastReceivedAt { get; init; }
    /// <summary>What linked the cluster's bursts: time (one component), trace_id, dependency.</summary>
    public required IReadOnlyList<string> LinkedBy { get; init; }
    public required bool Cascade { get; init; }
    public string? CascadeReason { get; init; }
    /// <summary>True when the cluster holds enough events to name a cause (otherwise it reads as noise).</summary>
    public required bool Significant { get; init; }
}

/// <summary>A ranked root-cause candidate with its evidence and the propagation path (in temporal order).</summary>
public sealed record RootCauseCandidate
{
    public required string Component { get; init; }
    /// <summary>The candidate's first error group in the cluster.</summary>
    public required string GroupId { get; init; }
    /// <summary>0..1: share of the cluster the candidate explains, weighted by precedence and persistence.</summary>
    public required double Score { get; init; }
    /// <summary>Event ids: the candidate's first errors, then the first error of each component it explains along the path.</summary>
    public required IReadOnlyList<string> Evidence { get; init; }
    /// <summary>Propagation path from the candidate through its dependents; each component's first failure is no earlier than the previous one's.</summary>
    public required IReadOnlyList<string> Path { get; init; }
    public required string ClusterId { get; init; }
    /// <summary>Other failing components of the cluster the candidate's failure explains.</summary>
    public required int Explains { get; init; }
    public required DateTimeOffset FirstFailureAt { get; init; }
    public required string Reason { get; init; }
}

/// <summary>What the engine concludes over a set of events.</summary>
public sealed record CorrelationAnalysis(
    IReadOnlyList<ErrorCluster> Clusters,
    bool Cascade,
    string? CascadeReason,
    IReadOnlyList<RootCauseCandidate> RootCauses,
    bool Abstain,
    string Verdict,
    string? PrimaryClusterId);

/// <summary>The answer to correlate_errors.</summary>
public sealed record CorrelationResult(
    DateTimeOffset Since,
    DateTimeOffset Until,
    int EventsExamined,
    bool Truncated,
    CorrelationAnalysis Analysis,
    IReadOnlyList<IReadOnlyList<string>> GraphCycles);
