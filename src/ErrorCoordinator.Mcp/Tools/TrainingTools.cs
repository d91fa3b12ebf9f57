using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using ErrorCoordinator.Core.Common;
using Microsoft.Extensions.AI;
using System.Text.Json.Serialization;
using ErrorCoordinator.Core.Training;
using ErrorCoordinator.Mcp.Hosting;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006 // Parameter names are snake_case: they are the tool's wire names.

namespace ErrorCoordinator.Mcp.Tools;

public sealed record TrainingAnomalyOutput(
    [property: Description("nan_loss_detected (NaN or infinite loss) or gradient_explosion (loss above the ceiling, non-finite gradient norm, or a spike).")] string Type,
    [property: Description("Always critical.")] string Severity,
    [property: Description("loss or grad_norm: the metric that fired.")] string Metric,
    [property: Description("non_finite | ceiling | spike")] string Reason,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals), Description("The metric's value: a number, or \"NaN\", \"Infinity\", \"-Infinity\".")] double Value,
    [property: Description("One-line description with the figures.")] string Message,
    [property: Description("stop_training (NaN/Inf loss) or reduce_learning_rate (explosion).")] string RecommendedAction,
    [property: Description("What to check or change.")] string Advice,
    [property: Description("False for NaN/Inf loss (restart from a checkpoint after fixing the cause), true for an explosion.")] bool Recoverable,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Spike only: the median of the last N steps.")] double? WindowMedian,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Spike only: the robust z-score, 0.6745 (value - median) / MAD.")] double? RobustZ,
    [property: Description("The error event recorded for it (kind training, kept 30 days, published on events:errors:training).")] string EventId,
    [property: Description("The error group it joined, shared with every agent.")] string GroupId,
    [property: Description("Events in the group so far.")] long GroupCount)
{
    public static TrainingAnomalyOutput From(TrainingAnomaly a)
    {
        var f = a.Finding;
        return new TrainingAnomalyOutput(f.Type, "critical", f.Metric, f.Reason, f.Value, f.Message, f.RecommendedAction, f.Advice, f.Recoverable,
            f.Baseline, f.RobustZ is { } z ? Math.Round(z, 2) : null, a.EventId, a.GroupId, a.GroupCount);
    }
}

public sealed record ReportTrainingMetricOutput(
    [property: Description("The anomalies this step raised; empty for a normal step.")] IReadOnlyList<TrainingAnomalyOutput> Anomalies);

/// <summary>Training-run anomaly detection.</summary>
[McpServerToolType]
public sealed class TrainingTools(TrainingAnomalyService training)
{
    /// <summary>
    /// The tool, registered with a schema transform: loss and grad_norm are <see cref="MetricValue"/>s, whose input schema is
    /// "a number, or one of the strings NaN, Infinity, -Infinity" (JSON numbers cannot be NaN). Anything else reaches the
    /// method and is refused naming the field, instead of failing in argument binding with a generic error.
    /// </summary>
    public static IEnumerable<McpServerTool> Create() =>
    [
        McpServerTool.Create(typeof(TrainingTools).GetMethod(nameof(ReportTrainingMetric))!,
            context => ActivatorUtilities.CreateInstance<TrainingTools>(context.Services!),
            new McpServerToolCreateOptions
            {
                SerializerOptions = McpJson.Options,
                SchemaCreateOptions = new AIJsonSchemaCreateOptions { TransformSchemaNode = MetricValue.TransformSchema },
            }),
    ];

    [McpServerTool(Name = "report_training_metric", Title = "Report a training step's metrics", UseStructuredContent = true, OutputSchemaType = typeof(ReportTrainingMetricOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Report one training step's loss (and optionally gradient norm and learning rate); call it every step or every few steps. " +
                 "A normal step answers an empty anomalies list (one fast store round trip). A NaN or infinite loss raises a critical " +
                 "nan_loss_detected (recommended action stop_training: check data quality and model architecture); a loss above the ceiling " +
                 "(default 100), a non-finite gradient norm, or a sudden spike of loss or gradient norm against the run's last 50 steps " +
                 "(robust z-score, so a normal early fall is never flagged) raises a critical gradient_explosion (recommended action reduce_learning_rate). " +
                 "Each anomaly is recorded as an error event shared with every agent and kept 30 days in the project's training log.")]
    public Task<CallToolResult> ReportTrainingMetric(
        [Description("Project or model the run belongs to, e.g. 'llama-ft'. At most 200 characters.")] string project,
        [Description("Training step number, 0 or more.")] long step,
        [Description("The step's loss: a JSON number, or one of the strings \"NaN\", \"Infinity\", \"-Infinity\" (JSON has no NaN).")] MetricValue loss,
        [Description("The run within the project (one rolling window per run), e.g. 'run-42'. Default: 'default'.")] string? run = null,
        [Description("The step's global gradient norm (before clipping): a number 0 or more, or \"NaN\", \"Infinity\". Optional.")] MetricValue? grad_norm = null,
        [Description("The step's learning rate, for the record. Optional.")] double? learning_rate = null,
        [Description("Reporting agent, default 'trainer'.")] string? agent = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
        {
            var r = await training.ReportAsync(new TrainingMetric
            {
                Project = project, Run = run, Step = step, Loss = loss.Require("loss"), GradNorm = grad_norm?.Require("grad_norm"),
                LearningRate = learning_rate, Agent = agent,
            }, cancellationToken);
            return new ReportTrainingMetricOutput(r.Anomalies.Select(TrainingAnomalyOutput.From).ToArray());
        }, r => r.Anomalies.Count == 0
            ? $"Step {step}: no anomaly."
            : string.Join("\n", r.Anomalies.Select(a => $"CRITICAL {a.Type} ({a.Reason}): {a.Message} Recommended action: {a.RecommendedAction} ({a.Advice}). Event {a.EventId}, group {a.GroupId}.")));
}

/// <summary>
/// A floating-point metric as JSON can carry it: a number, or one of the strings "NaN", "Infinity", "-Infinity".
/// Any other JSON value is kept as <see cref="Invalid"/> so the tool can refuse it naming the field.
/// </summary>
[JsonConverter(typeof(MetricValueConverter))]
public readonly record struct MetricValue(double Value, string? Invalid = null)
{
    private static readonly string[] Literals = ["NaN", "Infinity", "-Infinity"];

    /// <summary>The value, or a <see cref="ValidationException"/> on <paramref name="field"/> when the JSON was not a metric.</summary>
    public double Require(string field) => Invalid is null ? Value
        : throw new ValidationException(field, $"'{field}' must be a JSON number or one of the strings \"NaN\", \"Infinity\", \"-Infinity\"; got {Invalid}.");

    public static bool TryParseLiteral(string s, out double value)
    {
        value = s switch { "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, "-Infinity" => double.NegativeInfinity, _ => 0 };
        return Array.IndexOf(Literals, s) >= 0;
    }

    /// <summary>Input schema of a metric parameter: number, or one of the named literals (description and default kept).</summary>
    public static JsonNode TransformSchema(AIJsonSchemaCreateContext context, JsonNode schema)
    {
        var type = context.TypeInfo.Type;
        if (type != typeof(MetricValue) && type != typeof(MetricValue?)) return schema;
        var result = new JsonObject
        {
            ["anyOf"] = new JsonArray(
                new JsonObject { ["type"] = "number" },
                new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("NaN", "Infinity", "-Infinity") }),
        };
        if (schema is JsonObject o)
        {
            foreach (var key in new[] { "description", "default" })
                if (o.TryGetPropertyValue(key, out var v)) result[key] = v?.DeepClone();
        }
        return result;
    }
}

/// <summary>Reads a <see cref="MetricValue"/>; never fails, so a bad value is refused by the tool with the field's name.</summary>
public sealed class MetricValueConverter : JsonConverter<MetricValue>
{
    public override MetricValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var d)) return new MetricValue(d);
        if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } s && MetricValue.TryParseLiteral(s, out var literal)) return new MetricValue(literal);
        using var doc = JsonDocument.ParseValue(ref reader);
        var raw = doc.RootElement.GetRawText();
        return new MetricValue(double.NaN, raw.Length <= 64 ? raw : raw[..64] + "…");
    }

    public override void Write(Utf8JsonWriter writer, MetricValue value, JsonSerializerOptions options)
    {
        if (double.IsFinite(value.Value)) writer.WriteNumberValue(value.Value);
        else writer.WriteStringValue(Core.Training.TrainingAnomalyDetector.Format(value.Value));
    }
}
