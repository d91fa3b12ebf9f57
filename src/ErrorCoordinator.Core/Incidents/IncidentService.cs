using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Scrubbing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Incidents;

/// <summary>The incidents channel: every incident change is published there (not under events:errors:*).</summary>
public static class IncidentChannels
{
    public static string Incidents(this ChannelNames channels) => channels.Prefix + "events:incidents";
}

/// <summary>
/// Incidents: opened by hand or automatically (critical events, breaker openings, cascades), deduplicated per correlation
/// cluster in the store, with a timeline whose every entry cites event ids, and the states triggered → acknowledged → resolved.
/// </summary>
public sealed class IncidentService(
    IIncidentStore store,
    FailureValidator validator,
    SecretScrubber scrubber,
    IOptions<IncidentOptions> options,
    ChannelNames channels,
    TimeProvider time,
    ILogger<IncidentService> logger)
{
    public const int MaxTitleLength = 300;
    public const int MaxComponents = 50;

    private IncidentLimits Limits => IncidentLimits.From(options.Value);

    public async Task<Incident> OpenAsync(string title, string? severity, IReadOnlyList<string>? components, CancellationToken cancellationToken = default)
    {
        FailureValidator.RequireName("title", title, MaxTitleLength);
        var sev = Severity.Error;
        if (severity is not null && !Taxonomy.TryParseSeverity(severity, out sev))
            throw new ValidationException("severity", $"'severity' must be one of {string.Join(", ", Taxonomy.SeverityNames)}; got '{severity}'.");
        components ??= [];
        if (components.Count > MaxComponents)
            throw new ValidationException("components", $"'components' has {components.Count} items; the limit is {MaxComponents}.");
        for (var i = 0; i < components.Count; i++) FailureValidator.RequireName($"components[{i}]", components[i], validator.Limits.MaxNameLength);
        var comps = components.Select(c => c.Trim()).Distinct(StringComparer.Ordinal).ToList();
        var now = time.GetUtcNow();
        var id = NewIncidentId(now);
        var opened = LifecycleEventId(now);
        var cleanTitle = scrubber.Scrub(title.Trim())!;
        var incident = NewIncident(id, cleanTitle, sev, IncidentSources.Manual, "manual:" + id, now, now);
        var outcome = await store.SignalAsync(new IncidentSignal
        {
            ClaimKeys = comps.Select(ComponentKey).ToList(),
            NewIncident = incident,
            AlwaysOpen = true,
            Events = [new CitedEvent(opened, now)],
            Entry = new TimelineEntry(now, TimelineTypes.Opened, $"Opened by hand: {cleanTitle}", [opened]),
            Components = comps,
            Severity = sev,
            Now = now,
            Channel = channels.Incidents(),
        }, Limits, cancellationToken);
        if (outcome.Result == SignalResult.Capped)
            throw new ValidationException("title", $"The limit of {options.Value.MaxOpenIncidents} open incidents is reached; resolve some before opening another.");
        Log.Opened(logger, id, IncidentSources.Manual, cleanTitle);
        return await GetAsync(id, cancellationToken);
    }

    public async Task<(Incident Incident, bool Changed)> AcknowledgeAsync(string id, string by, CancellationToken cancellationToken = default)
    {
        FailureValidator.RequireName("id", id, validator.Limits.MaxNameLength);
        FailureValidator.RequireName("by", by, validator.Limits.MaxNameLength);
        var now = time.GetUtcNow();
        var evt = LifecycleEventId(now);
        var outcome = await store.TransitionAsync(id, new IncidentTransition
        {
            To = IncidentStatus.Acknowledged,
            Now = now,
            By = by,
            Entry = new TimelineEntry(now, TimelineTypes.Acknowledged, $"Acknowledged by {by}.", [evt], by),
            Channel = channels.Incidents(),
        }, Limits, cancellationToken);
        Check(outcome, id, "acknowledge");
        if (outcome.Result == TransitionResult.Applied) Log.Transitioned(logger, id, "acknowledged", by);
        return (await GetAsync(id, cancellationToken), outcome.Result == TransitionResult.Applied);
    }

    public async Task<Incident> ResolveAsync(string id, string resolution, string? rootCause, string? by = null, CancellationToken cancellationToken = default)
    {
        FailureValidator.RequireName("id", id, validator.Limits.MaxNameLength);
        if (string.IsNullOrWhiteSpace(resolution)) throw ValidationException.Required("resolution");
        FailureValidator.CheckBytes("resolution", resolution, validator.Limits.MaxMessageBytes);
        FailureValidator.CheckText("resolution", resolution);
        FailureValidator.OptionalName("root_cause", rootCause, validator.Limits.MaxNameLength);
        var now = time.GetUtcNow();
        var evt = LifecycleEventId(now);
        var text = scrubber.Scrub(resolution.Trim())!;
        var outcome = await store.TransitionAsync(id, new IncidentTransition
        {
            To = IncidentStatus.Resolved,
            Now = now,
            By = by,
            Resolution = text,
            RootCause = rootCause?.Trim(),
            Entry = new TimelineEntry(now, TimelineTypes.Resolved,
                $"Resolved: {Shorten(text, 300)}{(rootCause is null ? "" : $" Root cause: {rootCause.Trim()}.")}", [evt], by),
            Channel = channels.Incidents(),
        }, Limits, cancellationToken);
        Check(outcome, id, "resolve");
        Log.Transitioned(logger, id, "resolved", by ?? "-");
        return await GetAsync(id, cancellationToken);
    }

    public async Task<Incident> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        FailureValidator.RequireName("id", id, validator.Limits.MaxNameLength);
        return await store.GetAsync(id, cancellationToken) ?? throw new NotFoundException("Incident", id);
    }

    public Task<Page<Incident>> ListAsync(IncidentStatus? status, int limit, string? cursor, CancellationToken cancellationToken = default)
    {
        if (limit is < 1 or > Defaults.MaxPageSize)
            throw new ValidationException("limit", $"'limit' must be between 1 and {Defaults.MaxPageSize}; got {limit}.");
        if (cursor is not null && !IndexCursor.TryDecode(cursor, out _))
            throw new ValidationException("cursor", "'cursor' is not a cursor this server returned; pass next_cursor from a previous page unchanged.");
        return store.ListAsync(new IncidentQuery { Status = status, Limit = limit, Cursor = cursor }, cancellationToken);
    }

    /// <summary>
    /// An error event: a critical one opens (or joins) the incident of its cluster; any other joins an open incident its
    /// component, a dependency neighbour or its trace already belongs to.
    /// </summary>
    public async Task<SignalOutcome> OnErrorAsync(ErrorEvent e, DependencyGraph graph, CancellationToken cancellationToken = default)
    {
        var claim = new List<string>();
        if (e.Component is not null) claim.Add(ComponentKey(e.Component));
        if (e.TraceId is { Length: > 0 }) claim.Add("t:" + e.TraceId);
        if (claim.Count == 0) claim.Add("g:" + e.GroupId);
        var lookup = e.Component is null ? [] : graph.NeighboursOf(e.Component).Select(ComponentKey).ToList();
        var where = e.Component is null ? "" : $" on {e.Component}";
        var critical = e.Severity == Severity.Critical;
        var now = time.GetUtcNow();
        var title = $"Critical {e.ErrorType}{where}";
        var outcome = await store.SignalAsync(new IncidentSignal
        {
            ClaimKeys = claim,
            LookupKeys = lookup,
            NewIncident = critical ? NewIncident(NewIncidentId(now), title, Severity.Critical, IncidentSources.CriticalEvent, claim[0], now, e.OccurredAt) : null,
            Events = [new CitedEvent(e.EventId, e.OccurredAt)],
            Entry = new TimelineEntry(e.OccurredAt, TimelineTypes.Error,
                $"{e.Severity.ToWire()} {e.ErrorType}{where} from {e.Agent}: {Shorten(e.Message, 200)}", []),
            Components = e.Component is null ? [] : [e.Component],
            Severity = e.Severity,
            Now = now,
            Channel = channels.Incidents(),
        }, Limits, cancellationToken);
        Report(outcome, IncidentSources.CriticalEvent, claim[0], title);
        return outcome;
    }

    /// <summary>A breaker transition: an opening opens (or joins) the component's incident; other transitions join an open one.</summary>
    public async Task<SignalOutcome> OnBreakerAsync(string type, string component, string eventId, string? reason, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var opens = type is "circuit_breaker_opened" or "circuit_breaker_reopened";
        var now = time.GetUtcNow();
        var title = $"Circuit breaker opened for {component}";
        var key = ComponentKey(component);
        var outcome = await store.SignalAsync(new IncidentSignal
        {
            ClaimKeys = [key],
            NewIncident = opens ? NewIncident(NewIncidentId(now), title, Severity.Error, IncidentSources.BreakerOpened, key, now, at) : null,
            Events = [new CitedEvent(eventId, at)],
            Entry = new TimelineEntry(at, TimelineTypes.BreakerTransition, $"{type} on {component}{(reason is null ? "" : ": " + Shorten(reason, 200))}", []),
            Components = [component],
            Severity = opens ? Severity.Error : Severity.Warning,
            Now = now,
            Channel = channels.Incidents(),
        }, Limits, cancellationToken);
        Report(outcome, IncidentSources.BreakerOpened, key, title);
        return outcome;
    }

    /// <summary>A task whose retries ran out: joins the open incident of its component (or trace), opens nothing.</summary>
    public Task<SignalOutcome> OnRetryExhaustedAsync(string eventId, string? component, string? taskId, string? agent, int? attempts, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        var keys = new List<string>();
        if (component is not null) keys.Add(ComponentKey(component));
        if (agent is not null) keys.Add(ComponentKey("agent:" + agent));
        return store.SignalAsync(new IncidentSignal
        {
            ClaimKeys = [],
            LookupKeys = keys,
            Events = [new CitedEvent(eventId, at)],
            Entry = new TimelineEntry(at, TimelineTypes.RetryExhausted,
                $"Retries exhausted{(taskId is null ? "" : " for task " + taskId)}{(attempts is null ? "" : $" after {attempts} attempts")}{(agent is null ? "" : " (agent " + agent + ")")}.", []),
            Components = component is null ? [] : [component],
            Severity = Severity.Warning,
            Now = time.GetUtcNow(),
            Channel = channels.Incidents(),
        }, Limits, cancellationToken);
    }

    /// <summary>A detected cascade: opens (or joins) one incident for the whole cluster, citing its events.</summary>
    public async Task<SignalOutcome> OnCascadeAsync(ErrorCluster cluster, IReadOnlyList<CitedEvent> events, RootCauseCandidate? top, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var components = cluster.Components.Where(c => !c.StartsWith("group:", StringComparison.Ordinal)).ToList();
        var claim = components.Select(ComponentKey).Concat(cluster.TraceIds.Select(t => "t:" + t)).ToList();
        if (claim.Count == 0) claim.Add("k:" + cluster.Id);
        var title = top is null
            ? $"Cascade across {components.Count} components"
            : $"Cascade across {components.Count} components, likely from {top.Component}";
        var outcome = await store.SignalAsync(new IncidentSignal
        {
            ClaimKeys = claim,
            NewIncident = NewIncident(NewIncidentId(now), title, Severity.Critical, IncidentSources.Cascade, claim[0], now, cluster.FirstAt),
            Events = events,
            Entry = new TimelineEntry(cluster.FirstAt, TimelineTypes.CascadeDetected,
                $"Cascade detected: {cluster.CascadeReason}.{(top is null ? "" : $" Most likely root cause {top.Component} (score {top.Score:0.00}).")}", []),
            Components = components,
            Severity = Severity.Critical,
            SuspectedRootCause = top?.Component,
            Now = now,
            Channel = channels.Incidents(),
        }, Limits, cancellationToken);
        Report(outcome, IncidentSources.Cascade, claim[0], title);
        return outcome;
    }

    private void Report(SignalOutcome outcome, string source, string key, string title)
    {
        if (outcome.Result == SignalResult.Opened) Log.Opened(logger, outcome.IncidentId!, source, title);
        else if (outcome.Result == SignalResult.Capped) Log.Capped(logger, source, key);
    }

    private static void Check(TransitionOutcome outcome, string id, string verb)
    {
        switch (outcome.Result)
        {
            case TransitionResult.NotFound: throw new NotFoundException("Incident", id);
            case TransitionResult.NotAllowed:
                throw new ValidationException("id", $"Incident '{id}' is {Wire(outcome.Current)}; only a triggered or acknowledged incident can be {(verb == "resolve" ? "resolved" : "acknowledged")}.");
        }
    }

    internal static string Wire(IncidentStatus? s) => s switch
    {
        IncidentStatus.Triggered => "triggered",
        IncidentStatus.Acknowledged => "acknowledged",
        IncidentStatus.Resolved => "resolved",
        _ => "unknown",
    };

    public static string ComponentKey(string component) => "c:" + component;

    private static Incident NewIncident(string id, string title, Severity severity, string source, string dedupKey, DateTimeOffset now, DateTimeOffset firstEvent) => new()
    {
        Id = id,
        Title = title,
        Severity = severity,
        Status = IncidentStatus.Triggered,
        Source = source,
        DedupKey = dedupKey,
        Components = [],
        CreatedAt = now,
        FirstEventAt = firstEvent,
        LastEventAt = firstEvent,
        EventCount = 0,
        EventIds = [],
        Timeline = [],
        UpdatedAt = now,
    };

    private static string NewIncidentId(DateTimeOffset now) => "inc_" + Guid.CreateVersion7(now).ToString("N");

    /// <summary>Ids of the incident's own lifecycle events (opened by hand, acknowledged, resolved), cited by their timeline entries.</summary>
    private static string LifecycleEventId(DateTimeOffset now) => "iev_" + Guid.CreateVersion7(now).ToString("N");

    internal static string Shorten(string s, int max) => s.Length <= max ? s : s[..max] + "…";
}
