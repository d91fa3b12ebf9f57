using System.Globalization;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Training;

/// <summary>
/// Training-run anomaly detection, called on every step. A normal step is one store round trip (the run's window is read and
/// extended atomically); an anomaly is then recorded as an error event through <see cref="ErrorReportingService"/> (kind
/// training: 30-day retention, published on <c>events:errors:training</c>, grouped with the fleet's other failures) and
/// appended to the project's training log.
/// </summary>
public sealed class TrainingAnomalyService(
    ITrainingStore store,
    ErrorReportingService errors,
    IOptions<TrainingOptions> options,
    IOptions<LimitsOptions> limits,
    TimeProvider time,
    ILogger<TrainingAnomalyService> logger)
{
    public const string DefaultRun = "default";
    public const string DefaultAgent = "trainer";

    private TrainingOptions Options => options.Value;

    public async Task<TrainingStepResult> ReportAsync(TrainingMetric metric, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metric);
        var max = limits.Value.MaxNameLength;
        FailureValidator.RequireName("project", metric.Project, max);
        FailureValidator.OptionalName("run", metric.Run, max);
        FailureValidator.OptionalName("agent", metric.Agent, max);
        if (metric.Step < 0) throw new ValidationException("step", $"'step' must be 0 or more; got {metric.Step}.");
        if (metric.GradNorm is < 0)
            throw new ValidationException("grad_norm", $"'grad_norm' must be 0 or more (a norm), or NaN/Infinity; got {TrainingAnomalyDetector.Format(metric.GradNorm.Value)}.");
        if (metric.LearningRate is { } lr && (!double.IsFinite(lr) || lr < 0))
            throw new ValidationException("learning_rate", $"'learning_rate' must be a finite number, 0 or more; got {TrainingAnomalyDetector.Format(lr)}.");

        var o = Options;
        var run = metric.Run ?? DefaultRun;
        var window = await store.RecordStepAsync(metric.Project, run,
            double.IsFinite(metric.Loss) ? metric.Loss : null,
            metric.GradNorm is { } g && double.IsFinite(g) ? g : null,
            o.Window, o.RunIdleRetention, cancellationToken).ConfigureAwait(false);

        var findings = TrainingAnomalyDetector.Detect(metric.Step, metric.Loss, metric.GradNorm, window, o);
        if (findings.Count == 0) return new TrainingStepResult(metric.Project, run, metric.Step, []);

        var anomalies = new List<TrainingAnomaly>(findings.Count);
        foreach (var f in findings)
        {
            var result = await errors.ReportAsync(ToReport(metric, run, f, max), cancellationToken).ConfigureAwait(false);
            Log.Anomaly(logger, f.Type, metric.Project, run, metric.Step, f.Message);
            anomalies.Add(new TrainingAnomaly(f, result.EventId, result.GroupId, result.GroupCount));
            var entry = new TrainingLogEntry
            {
                Type = f.Type, Run = run, Step = metric.Step, Metric = f.Metric, Reason = f.Reason, Value = f.Value,
                Loss = metric.Loss, GradNorm = metric.GradNorm, LearningRate = metric.LearningRate, RecoveryAction = f.RecommendedAction,
                EventId = result.EventId, GroupId = result.GroupId, Timestamp = time.GetUtcNow(),
            };
            try
            {
                await store.AppendLogAsync(metric.Project, entry, o.LogMaxEntries, o.LogRetention, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The event itself is recorded and published; the project log is a secondary index of it.
                Log.LogAppendFailed(logger, metric.Project, run, metric.Step, result.EventId, ex);
            }
        }
        return new TrainingStepResult(metric.Project, run, metric.Step, anomalies);
    }

    /// <summary>The newest anomalies of a project's training log.</summary>
    public Task<IReadOnlyList<TrainingLogEntry>> ReadLogAsync(string project, int limit = Defaults.DefaultPageSize, CancellationToken cancellationToken = default)
    {
        FailureValidator.RequireName("project", project, limits.Value.MaxNameLength);
        if (limit is < 1 or > Defaults.MaxPageSize)
            throw new ValidationException("limit", $"'limit' must be between 1 and {Defaults.MaxPageSize}; got {limit}.");
        return store.ReadLogAsync(project, limit, cancellationToken);
    }

    private static FailureReport ToReport(TrainingMetric m, string run, TrainingFinding f, int maxName)
    {
        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["run"] = run,
            ["step"] = m.Step.ToString(CultureInfo.InvariantCulture),
            ["metric"] = f.Metric,
            ["reason"] = f.Reason,
            ["value"] = TrainingAnomalyDetector.Format(f.Value),
            ["recovery_action"] = f.RecommendedAction,
            ["advice"] = f.Advice,
        };
        if (m.LearningRate is { } lr) tags["learning_rate"] = lr.ToString("R", CultureInfo.InvariantCulture);
        if (f.Baseline is { } b) tags["window_median"] = TrainingAnomalyDetector.Format(b);
        return new FailureReport
        {
            Agent = m.Agent ?? DefaultAgent,
            ErrorType = f.Type,
            Message = f.Message,
            Project = m.Project,
            TaskId = run,
            Component = Shorten("training:" + m.Project, maxName),
            Severity = "critical",
            Category = f.Type == TrainingAnomalyDetector.NanLoss ? "data" : "application",
            Tags = tags,
        };
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(char.IsHighSurrogate(s[max - 1]) ? max - 1 : max)];
}
