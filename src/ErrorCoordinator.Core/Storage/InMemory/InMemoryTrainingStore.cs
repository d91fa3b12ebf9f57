using ErrorCoordinator.Core.Training;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Storage.InMemory;

/// <summary>Training windows and logs in memory: same semantics as the Redis store; at most <see cref="TrainingOptions.MaxRuns"/> runs.</summary>
public sealed class InMemoryTrainingStore(TimeProvider time, IOptions<TrainingOptions> options) : ITrainingStore
{
    private sealed class Run
    {
        /// <summary>The last steps, newest first; NaN where the step had no finite value.</summary>
        public readonly LinkedList<(double Loss, double GradNorm)> Steps = new();
        public DateTimeOffset ExpiresAt;
    }

    private sealed class ProjectLog
    {
        public readonly LinkedList<TrainingLogEntry> Entries = new();
        public DateTimeOffset ExpiresAt;
    }

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Project, string Run), Run> _runs = new();
    private readonly Dictionary<string, ProjectLog> _logs = new(StringComparer.Ordinal);

    public Task<TrainingWindow> RecordStepAsync(string project, string run, double? loss, double? gradNorm, int window, TimeSpan idleRetention, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_runs.TryGetValue((project, run), out var r) || r.ExpiresAt <= now)
            {
                r = new Run();
                _runs[(project, run)] = r;
                Sweep(now);
            }
            var steps = r.Steps.Take(window).ToArray();
            var before = new TrainingWindow(
                steps.Select(x => x.Loss).Where(x => !double.IsNaN(x)).ToArray(),
                steps.Select(x => x.GradNorm).Where(x => !double.IsNaN(x)).ToArray());
            var l = loss is { } lv && double.IsFinite(lv) ? lv : double.NaN;
            var g = gradNorm is { } gv && double.IsFinite(gv) ? gv : double.NaN;
            if (!double.IsNaN(l) || !double.IsNaN(g))
            {
                r.Steps.AddFirst((l, g));
                while (r.Steps.Count > window) r.Steps.RemoveLast();
            }
            r.ExpiresAt = now + idleRetention;
            return Task.FromResult(before);
        }
    }

    public Task AppendLogAsync(string project, TrainingLogEntry entry, int maxEntries, TimeSpan retention, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_logs.TryGetValue(project, out var log) || log.ExpiresAt <= now) _logs[project] = log = new ProjectLog();
            log.Entries.AddFirst(entry);
            while (log.Entries.Count > maxEntries) log.Entries.RemoveLast();
            log.ExpiresAt = now + retention;
            if (_logs.Count > options.Value.MaxRuns)
                foreach (var stale in _logs.OrderBy(p => p.Value.ExpiresAt).Take(_logs.Count - options.Value.MaxRuns).Select(p => p.Key).ToArray()) _logs.Remove(stale);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<TrainingLogEntry>> ReadLogAsync(string project, int limit, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            IReadOnlyList<TrainingLogEntry> result = _logs.TryGetValue(project, out var log) && log.ExpiresAt > now
                ? log.Entries.Take(limit).ToArray()
                : [];
            return Task.FromResult(result);
        }
    }

    /// <summary>Drops expired runs, then the least recently stepped beyond the cap.</summary>
    private void Sweep(DateTimeOffset now)
    {
        var max = options.Value.MaxRuns;
        if (_runs.Count <= max) return;
        foreach (var key in _runs.Where(p => p.Value.ExpiresAt <= now).Select(p => p.Key).ToArray()) _runs.Remove(key);
        if (_runs.Count <= max) return;
        foreach (var key in _runs.OrderBy(p => p.Value.ExpiresAt).Take(_runs.Count - max).Select(p => p.Key).ToArray()) _runs.Remove(key);
    }
}
