using System.Text.Json.Serialization;

namespace ErrorCoordinator.Core.Training;

/// <summary>One training step's metrics as a trainer reports them. Loss and grad norm may be NaN or infinite.</summary>
public sealed record TrainingMetric
{
    public required string Project { get; init; }
    /// <summary>The run within the project; default <c>default</c>.</summary>
    public string? Run { get; init; }
    public required long Step { get; init; }
    public required double Loss { get; init; }
    public double? GradNorm { get; init; }
    public double? LearningRate { get; init; }
    /// <summary>The reporting agent; default <c>trainer</c>.</summary>
    public string? Agent { get; init; }
}

/// <summary>The finite values of a run's last N steps (newest first), as the store held them before this step.</summary>
public sealed record TrainingWindow(IReadOnlyList<double> Losses, IReadOnlyList<double> GradNorms)
{
    public static readonly TrainingWindow Empty = new([], []);
}

/// <summary>What the detector found on one step, before it is recorded.</summary>
public sealed record TrainingFinding(
    string Type,
    string Metric,
    string Reason,
    double Value,
    string Message,
    string RecommendedAction,
    string Advice,
    bool Recoverable,
    double? Baseline,
    double? RobustZ);

/// <summary>An anomaly as recorded: the finding plus the error event and group it became.</summary>
public sealed record TrainingAnomaly(TrainingFinding Finding, string EventId, string GroupId, long GroupCount);

/// <summary>The answer to one step: the anomalies found (empty for a normal step).</summary>
public sealed record TrainingStepResult(string Project, string Run, long Step, IReadOnlyList<TrainingAnomaly> Anomalies);

/// <summary>One entry of a project's training log (the original design's <c>errors:training:&lt;project&gt;:log</c>), newest first.</summary>
public sealed record TrainingLogEntry
{
    public required string Type { get; init; }
    public required string Run { get; init; }
    public required long Step { get; init; }
    public required string Metric { get; init; }
    public required string Reason { get; init; }
    [JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] public required double Value { get; init; }
    [JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] public double? Loss { get; init; }
    [JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] public double? GradNorm { get; init; }
    public double? LearningRate { get; init; }
    public required string RecoveryAction { get; init; }
    public required string EventId { get; init; }
    public required string GroupId { get; init; }
    public required DateTimeOffset Timestamp { get; init; }
}
