using System.ComponentModel.DataAnnotations;
using ErrorCoordinator.Core.Common;

namespace ErrorCoordinator.Core.Errors;

/// <summary>Input limits for reports. Bound from <c>ErrorCoordinator:Limits</c>.</summary>
public sealed class LimitsOptions
{
    public const string Section = "ErrorCoordinator:Limits";

    [Range(256, 1024 * 1024)] public int MaxMessageBytes { get; set; } = Defaults.MaxMessageBytes;
    [Range(1024, 4 * 1024 * 1024)] public int MaxStackBytes { get; set; } = Defaults.MaxStackBytes;
    [Range(0, 1024)] public int MaxTags { get; set; } = Defaults.MaxTags;
    [Range(16, 4096)] public int MaxTagLength { get; set; } = Defaults.MaxTagLength;
    [Range(16, 4096)] public int MaxNameLength { get; set; } = Defaults.MaxNameLength;
    [Range(1, 10_000)] public int MaxBatchSize { get; set; } = Defaults.MaxBatchSize;
    /// <summary>How far in the future occurred_at may be before it is refused.</summary>
    public TimeSpan MaxFutureSkew { get; set; } = Defaults.MaxFutureSkew;
}

/// <summary>How long events and groups are kept, and how many. Bound from <c>ErrorCoordinator:Retention</c>.</summary>
public sealed class RetentionOptions
{
    public const string Section = "ErrorCoordinator:Retention";

    /// <summary>Retention for events whose kind has no entry in <see cref="Kinds"/> (task and application errors).</summary>
    public TimeSpan Default { get; set; } = Defaults.DefaultEventRetention;

    /// <summary>Retention by event kind (task_failures, training, hardware, agent_crashes, ...).</summary>
    public Dictionary<string, TimeSpan> Kinds { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["training"] = Defaults.TrainingEventRetention,
        ["agent_crashes"] = Defaults.AgentCrashRetention,
    };

    /// <summary>A group is kept this long after its last event.</summary>
    public TimeSpan Groups { get; set; } = Defaults.GroupRetention;

    [Range(100, 10_000_000)] public int MaxEventsPerIndex { get; set; } = Defaults.MaxEventsPerIndex;
    [Range(100, 100_000_000)] public int MaxEventsTotal { get; set; } = Defaults.MaxEventsTotal;
    [Range(10, 10_000_000)] public int MaxGroups { get; set; } = Defaults.MaxGroups;
    [Range(1, 1000)] public int MaxSamplesPerGroup { get; set; } = Defaults.MaxSamplesPerGroup;
    [Range(100, 100_000_000)] public int AuditStreamMaxLength { get; set; } = Defaults.AuditStreamMaxLength;

    public TimeSpan ForKind(string kind) => Kinds.TryGetValue(kind, out var ttl) ? ttl : Default;

    /// <summary>The longest event retention configured: indexes are trimmed beyond it.</summary>
    public TimeSpan Longest => Kinds.Values.Append(Default).Max();
}
