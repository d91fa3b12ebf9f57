using System.ComponentModel.DataAnnotations;

namespace ErrorCoordinator.Core.Correlation;

/// <summary>Correlation and root-cause settings. Bound from <c>ErrorCoordinator:Correlation</c>.</summary>
public sealed class CorrelationOptions
{
    public const string Section = "ErrorCoordinator:Correlation";

    /// <summary>Window correlate_errors looks back over when none is given (the original design's 5 minutes).</summary>
    [Range(1, 86_400)] public int DefaultWindowSeconds { get; set; } = 300;

    /// <summary>Longest window a caller may ask for.</summary>
    [Range(1, 604_800)] public int MaxWindowSeconds { get; set; } = 86_400;

    /// <summary>Events of one component closer than this belong to one burst; bursts of dependent components closer than this are linked.</summary>
    [Range(1, 3_600)] public int LinkGapSeconds { get; set; } = 60;

    /// <summary>Clock skew tolerated between reporters when deciding what failed first.</summary>
    [Range(0, 300)] public int ClockSkewSeconds { get; set; } = 3;

    /// <summary>A dependent failing later than this after its dependency is not counted as caused by it.</summary>
    [Range(1, 3_600)] public int MaxPropagationSeconds { get; set; } = 120;

    /// <summary>At most this many events are read per correlation (newest first); the answer says when it was cut.</summary>
    [Range(100, 1_000_000)] public int MaxEvents { get; set; } = 50_000;

    /// <summary>
    /// A window is read as this many time slices queried concurrently. 1 (a sequential scan) measured best on a small, busy
    /// machine; more helps when the store's round trips, not the CPU, bound the read.
    /// </summary>
    [Range(1, 64)] public int ReadSlices { get; set; } = 1;

    /// <summary>Distinct error types in one cluster that make it a cascade (the original design's rule).</summary>
    [Range(2, 100)] public int CascadeErrorTypes { get; set; } = 3;

    /// <summary>Errors a cluster's top candidate must account for (its own plus those it explains) to name a cause; fewer read as noise.</summary>
    [Range(2, 10_000)] public int MinClusterErrors { get; set; } = 4;

    /// <summary>Errors of one group a candidate needs to read as a persistent fault rather than a stray error.</summary>
    [Range(1, 1_000)] public int MinRepeatedErrors { get; set; } = 3;

    /// <summary>Most components the graph may hold, and most dependencies one component may list.</summary>
    [Range(1, 1_000_000)] public int MaxComponents { get; set; } = 10_000;
    [Range(1, 10_000)] public int MaxDependencies { get; set; } = 100;

    /// <summary>Ranked candidates returned.</summary>
    [Range(1, 50)] public int MaxRootCauses { get; set; } = 5;
}
