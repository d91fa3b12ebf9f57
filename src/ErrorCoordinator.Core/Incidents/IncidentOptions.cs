using System.ComponentModel.DataAnnotations;

namespace ErrorCoordinator.Core.Incidents;

/// <summary>Incidents and post-mortems. Bound from <c>ErrorCoordinator:Incidents</c>.</summary>
public sealed class IncidentOptions
{
    public const string Section = "ErrorCoordinator:Incidents";

    /// <summary>Open incidents automatically (critical events, breaker openings, cascades). Off: only open_incident opens them.</summary>
    public bool AutoOpen { get; set; } = true;

    /// <summary>How often the opener correlates the recent window looking for a cascade, when new errors arrived.</summary>
    [Range(1, 3_600)] public int CascadeCheckSeconds { get; set; } = 10;

    [Range(10, 100_000)] public int MaxTimelineEntries { get; set; } = 1_000;
    [Range(10, 1_000_000)] public int MaxEventIdsPerIncident { get; set; } = 10_000;
    [Range(1, 1_000_000)] public int MaxOpenIncidents { get; set; } = 1_000;
    /// <summary>Resolved incidents and post-mortems are kept this long.</summary>
    [Range(1, 3_650)] public int ResolvedRetentionDays { get; set; } = 90;

    /// <summary>Signals waiting for the opener; past this the oldest are dropped (and logged).</summary>
    [Range(100, 1_000_000)] public int QueueCapacity { get; set; } = 10_000;

    /// <summary>More than this many timeouts in an incident recommends raising timeouts (the original design's rule).</summary>
    [Range(1, 1_000_000)] public int TimeoutRecommendationThreshold { get; set; } = 5;

    /// <summary>GPU temperature (°C) at or above which a cooling recommendation is made (the original design's 85).</summary>
    [Range(40, 150)] public double GpuTemperatureThreshold { get; set; } = 85;
}
