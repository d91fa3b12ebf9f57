namespace ErrorCoordinator.Core.Training;

/// <summary>Per-run rolling state and per-project training logs. Redis (one script per step) or in memory.</summary>
public interface ITrainingStore
{
    /// <summary>
    /// In one atomic step: returns the run's window as it was (the finite losses and grad norms of its last
    /// <paramref name="window"/> steps, newest first), then prepends this step, keeps the last <paramref name="window"/>
    /// steps and keeps the run for <paramref name="idleRetention"/>. A null value (non-finite or absent) is not part of the
    /// window; a step with neither a loss nor a grad norm is not recorded at all.
    /// </summary>
    Task<TrainingWindow> RecordStepAsync(string project, string run, double? loss, double? gradNorm, int window, TimeSpan idleRetention, CancellationToken cancellationToken = default);

    /// <summary>Appends to the project's training log, capped at <paramref name="maxEntries"/>, living <paramref name="retention"/> past the last append.</summary>
    Task AppendLogAsync(string project, TrainingLogEntry entry, int maxEntries, TimeSpan retention, CancellationToken cancellationToken = default);

    /// <summary>The newest <paramref name="limit"/> entries of the project's training log, newest first.</summary>
    Task<IReadOnlyList<TrainingLogEntry>> ReadLogAsync(string project, int limit, CancellationToken cancellationToken = default);
}
