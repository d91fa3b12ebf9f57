using System.Diagnostics;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Correlation;

/// <summary>
/// The dependency graph and error correlation: which failures belong together, whether they cascade, and which component
/// most likely started it. Reads events through the error store's queries; owns only the dependency graph.
/// </summary>
public sealed class CorrelationService(
    IDependencyStore dependencies,
    IErrorStore errors,
    FailureValidator validator,
    IOptions<CorrelationOptions> options,
    TimeProvider time,
    ILogger<CorrelationService> logger)
{
    /// <summary>Events fetched per store query while reading a window.</summary>
    internal const int ReadPageSize = 5_000;

    public CorrelationOptions Options => options.Value;

    /// <summary>Replaces <paramref name="component"/>'s dependencies (idempotent) and reports any cycle the graph now has.</summary>
    public async Task<RegisterDependenciesResult> RegisterDependenciesAsync(string component, IReadOnlyList<string>? dependsOn, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var max = validator.Limits.MaxNameLength;
        FailureValidator.RequireName("component", component, max);
        component = component.Trim();
        dependsOn ??= [];
        if (dependsOn.Count > o.MaxDependencies)
            throw new ValidationException("depends_on", $"'depends_on' has {dependsOn.Count} components; the limit is {o.MaxDependencies}.");
        for (var i = 0; i < dependsOn.Count; i++) FailureValidator.RequireName($"depends_on[{i}]", dependsOn[i], max);
        var deps = dependsOn.Select(d => d.Trim()).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        var registration = new DependencyRegistration(component, deps, time.GetUtcNow());
        var status = await dependencies.RegisterAsync(registration, o.MaxComponents, cancellationToken);
        if (status == DependencyWriteStatus.GraphFull)
            throw new ValidationException("component", $"The dependency graph already holds the limit of {o.MaxComponents} components; '{component}' was not added.");
        var all = await dependencies.GetAllAsync(cancellationToken);
        var graph = ToGraph(all);
        var cycles = graph.FindCycles();
        if (status == DependencyWriteStatus.Stored) Log.DependenciesRegistered(logger, component, deps.Count);
        if (cycles.Count > 0) Log.CyclesFound(logger, cycles.Count, string.Join(" -> ", cycles[0]));
        var stored = all.FirstOrDefault(r => r.Component == component) ?? registration;
        return new RegisterDependenciesResult(stored, status == DependencyWriteStatus.Stored, cycles, graph.Components.Count, graph.EdgeCount);
    }

    /// <summary>The whole graph: every registration and the cycles it contains.</summary>
    public async Task<(IReadOnlyList<DependencyRegistration> Registrations, DependencyGraph Graph, IReadOnlyList<IReadOnlyList<string>> Cycles)> GetGraphAsync(CancellationToken cancellationToken = default)
    {
        var all = await dependencies.GetAllAsync(cancellationToken);
        var graph = ToGraph(all);
        return (all, graph, graph.FindCycles());
    }

    /// <summary>Clusters the errors of the window ending at <see cref="CorrelationRequest.At"/> and ranks root causes.</summary>
    public async Task<CorrelationResult> CorrelateAsync(CorrelationRequest request, CancellationToken cancellationToken = default)
    {
        var o = options.Value;
        var window = request.WindowSeconds ?? o.DefaultWindowSeconds;
        if (window < 1 || window > o.MaxWindowSeconds)
            throw new ValidationException("window_seconds", $"'window_seconds' must be between 1 and {o.MaxWindowSeconds}; got {window}.");
        FailureValidator.OptionalName("component", request.Component, validator.Limits.MaxNameLength);
        var now = time.GetUtcNow();
        var until = request.At ?? now;
        if (until > now + validator.Limits.MaxFutureSkew)
            throw new ValidationException("at", $"'at' ({until:O}) is more than {validator.Limits.MaxFutureSkew.TotalHours:0.#} hours in the future.");
        return await CorrelateRangeAsync(until.AddSeconds(-window), until, request.Component, cancellationToken);
    }

    /// <summary>Correlation over an explicit range (post-mortems, the incident opener). No validation beyond the range order.</summary>
    public async Task<CorrelationResult> CorrelateRangeAsync(DateTimeOffset since, DateTimeOffset until, string? component, CancellationToken cancellationToken = default)
    {
        if (since > until) throw new ValidationException("since", "'since' must not be later than 'until'.");
        var sw = Stopwatch.StartNew();
        var (events, truncated) = await ReadEventsAsync(since, until, cancellationToken);
        var (_, graph, cycles) = await GetGraphAsync(cancellationToken);
        var analysis = CorrelationEngine.Analyze(events, graph, CorrelationSettings.From(options.Value), component);
        Log.Correlated(logger, events.Count, analysis.Clusters.Count, sw.ElapsedMilliseconds, analysis.Abstain);
        return new CorrelationResult(since, until, events.Count, truncated, analysis, cycles);
    }

    /// <summary>
    /// The events of a range, at most <see cref="CorrelationOptions.MaxEvents"/> (the newest when there are more). The range is
    /// read as <see cref="CorrelationOptions.ReadSlices"/> disjoint time slices queried concurrently, so a store that pages
    /// (Redis: a round trip per page) answers a large window in a fraction of the sequential time.
    /// </summary>
    public async Task<(IReadOnlyList<ErrorEvent> Events, bool Truncated)> ReadEventsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken = default)
    {
        var max = options.Value.MaxEvents;
        var slices = Math.Max(1, Math.Min(options.Value.ReadSlices, (int)Math.Max(1, (until - since).TotalSeconds)));
        var step = (until - since) / slices;
        var reads = Enumerable.Range(0, slices).Select(i =>
        {
            var from = since + step * i;
            var to = i == slices - 1 ? until : since + step * (i + 1) - TimeSpan.FromTicks(1);
            return ReadSliceAsync(from, to, max, cancellationToken);
        }).ToArray();
        var parts = await Task.WhenAll(reads);
        var events = parts.SelectMany(p => p.Events).DistinctBy(e => e.EventId).ToList();
        var truncated = parts.Any(p => p.Truncated) || events.Count > max;
        if (events.Count > max)
            events = events.OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.EventId, StringComparer.Ordinal).Take(max).ToList();
        return (events, truncated);
    }

    private async Task<(List<ErrorEvent> Events, bool Truncated)> ReadSliceAsync(DateTimeOffset since, DateTimeOffset until, int max, CancellationToken cancellationToken)
    {
        var events = new List<ErrorEvent>();
        string? cursor = null;
        do
        {
            var page = await errors.QueryEventsAsync(new ErrorQuery { Since = since, Until = until, Limit = Math.Min(ReadPageSize, max - events.Count), Cursor = cursor }, cancellationToken);
            events.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null && events.Count < max);
        return (events, cursor is not null);
    }

    private static DependencyGraph ToGraph(IReadOnlyList<DependencyRegistration> all) =>
        new(all.ToDictionary(r => r.Component, r => r.DependsOn, StringComparer.Ordinal));
}
