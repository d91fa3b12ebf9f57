using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Incidents;

/// <summary>
/// Writes post-mortems for an incident (its timeline, attached events, recorded times) or for a time range, with MTTA/MTTR
/// from the recorded times and recommendations from rules (the original design's: GPU OOM → gradient checkpointing,
/// more than 5 timeouts → raise timeouts or optimise, high GPU temperature → cooling; and more). Stored for the retention
/// of resolved incidents, readable as <c>postmortem://{id}</c>.
/// </summary>
public sealed partial class PostmortemService(
    IncidentService incidents,
    IIncidentStore store,
    CorrelationService correlation,
    IOptions<IncidentOptions> options,
    TimeProvider time,
    ILogger<PostmortemService> logger)
{
    public const int MaxRangeDays = 31;
    private const int MaxRangeTimeline = 500;

    public async Task<Postmortem> GenerateAsync(string? incidentId, DateTimeOffset? since, DateTimeOffset? until, CancellationToken cancellationToken = default)
    {
        if (incidentId is not null && (since is not null || until is not null))
            throw new ValidationException("incident_id", "Give either 'incident_id' or 'since' and 'until', not both.");
        var now = time.GetUtcNow();
        Postmortem pm;
        if (incidentId is not null)
        {
            var incident = await incidents.GetAsync(incidentId, cancellationToken);
            pm = await ForIncidentAsync(incident, now, cancellationToken);
        }
        else
        {
            if (since is null || until is null) throw new ValidationException("incident_id", "Give 'incident_id', or both 'since' and 'until'.");
            if (since > until) throw new ValidationException("since", "'since' must not be later than 'until'.");
            if (until - since > TimeSpan.FromDays(MaxRangeDays))
                throw new ValidationException("until", $"The range from 'since' to 'until' may span at most {MaxRangeDays} days.");
            pm = await ForRangeAsync(since.Value, until.Value, now, cancellationToken);
        }
        await store.SavePostmortemAsync(pm.Id, CoreJson.Serialize(pm), TimeSpan.FromDays(options.Value.ResolvedRetentionDays), cancellationToken);
        Log.PostmortemGenerated(logger, pm.Id);
        return pm;
    }

    public async Task<Postmortem> GetAsync(string postmortemId, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(postmortemId)) throw ValidationException.Required("id");
        var json = await store.GetPostmortemAsync(postmortemId, cancellationToken) ?? throw new NotFoundException("Post-mortem", postmortemId);
        return CoreJson.Deserialize<Postmortem>(json);
    }

    private async Task<Postmortem> ForIncidentAsync(Incident incident, DateTimeOffset now, CancellationToken ct)
    {
        var end = incident.ResolvedAt ?? now;
        var start = Min(incident.FirstEventAt, incident.CreatedAt);
        var attached = incident.EventIds.ToHashSet(StringComparer.Ordinal);
        var (inRange, _) = await correlation.ReadEventsAsync(start, Max(end, incident.LastEventAt), ct);
        var events = inRange.Where(e => attached.Contains(e.EventId)).OrderBy(e => e.OccurredAt).ToList();
        var (_, graph, _) = await correlation.GetGraphAsync(ct);
        var analysis = CorrelationEngine.Analyze(events, graph, CorrelationSettings.From(correlation.Options));

        var first = events.FirstOrDefault();
        var detection = new PostmortemDetection(incident.FirstEventAt, first?.EventId, incident.CreatedAt,
            Math.Max(0, (incident.CreatedAt - incident.FirstEventAt).TotalSeconds), incident.Source);
        var response = new PostmortemResponse(incident.AcknowledgedAt, incident.AcknowledgedBy, incident.ResolvedAt,
            incident.AcknowledgedAt is { } ack ? (ack - incident.CreatedAt).TotalSeconds : null,
            incident.ResolvedAt is { } res ? (res - incident.CreatedAt).TotalSeconds : null,
            incident.Resolution);
        var breakerOpenings = incident.Timeline.Count(t => t.Type == TimelineTypes.BreakerTransition && t.Message.Contains("opened", StringComparison.Ordinal));
        var retriesExhausted = incident.Timeline.Count(t => t.Type == TimelineTypes.RetryExhausted);
        return Build("pm_" + incident.Id, incident.Id, incident.Title, now, start, end, events, incident.Timeline, analysis,
            incident.RootCause, incident.SuspectedRootCause, detection, response, breakerOpenings, retriesExhausted,
            $"{Status(incident)} incident ({incident.Severity.ToWire()}, opened on {Describe(incident.Source)}) affecting {incident.Components.Count} component(s)");
    }

    private async Task<Postmortem> ForRangeAsync(DateTimeOffset since, DateTimeOffset until, DateTimeOffset now, CancellationToken ct)
    {
        var (read, truncated) = await correlation.ReadEventsAsync(since, until, ct);
        var events = read.OrderBy(e => e.OccurredAt).ToList();
        var (_, graph, _) = await correlation.GetGraphAsync(ct);
        var analysis = CorrelationEngine.Analyze(events, graph, CorrelationSettings.From(correlation.Options));
        var timeline = events.Take(MaxRangeTimeline).Select(e => new TimelineEntry(e.OccurredAt, TimelineTypes.Error,
            $"{e.Severity.ToWire()} {e.ErrorType}{(e.Component is null ? "" : " on " + e.Component)} from {e.Agent}: {IncidentService.Shorten(e.Message, 200)}", [e.EventId])).ToList();
        var first = events.FirstOrDefault();
        var detection = new PostmortemDetection(first?.OccurredAt ?? since, first?.EventId, null, null, null);
        var response = new PostmortemResponse(null, null, null, null, null, null);
        var id = "pm_" + Guid.CreateVersion7(now).ToString("N");
        return Build(id, null, $"Errors from {since:u} to {until:u}", now, since, until, events, timeline, analysis, null, null, detection, response, 0, 0,
            $"Review of {events.Count} errors between {since:u} and {until:u}{(truncated ? " (only the newest were read)" : "")}");
    }

    private Postmortem Build(string id, string? incidentId, string title, DateTimeOffset now, DateTimeOffset since, DateTimeOffset until,
        IReadOnlyList<ErrorEvent> events, IReadOnlyList<TimelineEntry> timeline, CorrelationAnalysis analysis, string? recorded, string? suspected,
        PostmortemDetection detection, PostmortemResponse response, int breakerOpenings, int retriesExhausted, string summaryLead)
    {
        var impact = new PostmortemImpact(
            events.Count,
            events.Select(e => e.Agent).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            events.Where(e => e.TaskId is not null).Select(e => e.TaskId!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            events.Where(e => e.Component is not null).Select(e => e.Component!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            events.GroupBy(e => e.ErrorType, StringComparer.Ordinal).Select(g => new ErrorTypeCount(g.Key, g.Count()))
                .OrderByDescending(c => c.Count).ThenBy(c => c.ErrorType, StringComparer.Ordinal).ToList(),
            events.Select(e => e.GroupId).Distinct(StringComparer.Ordinal).Count());
        var first = events.FirstOrDefault();
        var rootCause = new PostmortemRootCause(recorded, suspected, first?.EventId,
            first is null ? null : $"{first.ErrorType}{(first.Component is null ? "" : " on " + first.Component)} at {first.OccurredAt:O} ({first.Agent})",
            analysis.RootCauses, analysis.Abstain, analysis.Verdict, analysis.Cascade, analysis.CascadeReason);
        var recommendations = Recommend(events, analysis, response, breakerOpenings, retriesExhausted);
        var actions = recommendations.Select(r => new ActionItem(r.Action, ActionType(r.Rule), null, r.Rule)).ToList();
        var (well, wrong) = Assess(detection, response, analysis, breakerOpenings, retriesExhausted, recorded);
        var cause = recorded ?? (analysis.Abstain ? null : analysis.RootCauses.FirstOrDefault()?.Component) ?? suspected;
        var summary = $"{summaryLead}: {impact.TotalErrors} errors of {impact.ErrorCounts.Count} types from {impact.Agents.Count} agents" +
                      $"{(impact.Tasks.Count > 0 ? $" across {impact.Tasks.Count} tasks" : "")}. " +
                      (cause is null ? "No single root cause was identified." : $"Root cause: {cause}.") +
                      (response.TimeToResolveSeconds is { } mttr ? $" Resolved in {Duration(mttr)}." : "");
        var pm = new Postmortem
        {
            Id = id, IncidentId = incidentId, Title = title, GeneratedAt = now, Since = since, Until = until,
            Summary = summary, Impact = impact, Timeline = timeline, RootCause = rootCause, Detection = detection, Response = response,
            WentWell = well, WentWrong = wrong, ActionItems = actions, Recommendations = recommendations, Markdown = "",
        };
        return pm with { Markdown = Render(pm) };
    }

    private List<Recommendation> Recommend(IReadOnlyList<ErrorEvent> events, CorrelationAnalysis analysis, PostmortemResponse response, int breakerOpenings, int retriesExhausted)
    {
        var o = options.Value;
        var list = new List<Recommendation>();
        var oom = events.Count(e => GpuOom().IsMatch(e.ErrorType + " " + e.Message) && (Gpu().IsMatch(e.ErrorType + " " + e.Message + " " + e.Component + " " + e.Kind) || e.Kind == "hardware"));
        if (oom > 0)
            list.Add(new Recommendation("high", "Enable gradient checkpointing in training configuration", $"{oom} GPU out-of-memory errors during the incident", "gpu_oom"));
        var timeouts = events.Count(e => e.Category == ErrorCategory.Timeout || e.ErrorType.Contains("timeout", StringComparison.OrdinalIgnoreCase));
        if (timeouts > o.TimeoutRecommendationThreshold)
            list.Add(new Recommendation("medium", "Increase timeout thresholds or optimize slow operations", $"{timeouts} timeout errors during the incident", "repeated_timeouts"));
        var hot = events.Where(e => Thermal().IsMatch(e.ErrorType + " " + e.Message) || Temperature(e) >= o.GpuTemperatureThreshold).ToList();
        if (hot.Count > 0)
        {
            var temps = hot.Select(Temperature).Where(t => t is not null).Select(t => t!.Value).ToList();
            list.Add(new Recommendation("high", "Improve GPU cooling system",
                temps.Count > 0 ? $"Average GPU temperature {temps.Average():0.#}°C in {hot.Count} thermal events" : $"{hot.Count} GPU thermal events during the incident", "gpu_temperature"));
        }
        if (analysis.Cascade && analysis.RootCauses.FirstOrDefault() is { } top && !analysis.Abstain && top.Explains > 0)
            list.Add(new Recommendation("high", $"Isolate dependents of {top.Component}: circuit breakers, timeouts and fallbacks on calls to it",
                $"Its failure spread to {top.Explains} dependent components ({string.Join(" -> ", top.Path)})", "cascade"));
        if (analysis.Abstain && events.Count > 0)
            list.Add(new Recommendation("medium", "Register service dependencies (register_dependencies) and send trace ids with reports",
                "The coordinator could not single out a cause: " + analysis.Verdict, "no_single_cause"));
        if (breakerOpenings > 0)
            list.Add(new Recommendation("medium", "Review the breaker thresholds and fallbacks of the components whose breakers opened",
                $"{breakerOpenings} breaker openings during the incident", "breaker_opened"));
        if (retriesExhausted > 0)
            list.Add(new Recommendation("medium", "Replay or drop the dead-lettered tasks and check whether their retries were worth it",
                $"{retriesExhausted} tasks exhausted their retries", "retries_exhausted"));
        if (response.TimeToAcknowledgeSeconds is > 300)
            list.Add(new Recommendation("medium", "Route this incident type to an on-call agent or person who acknowledges within 5 minutes",
                $"Acknowledged after {Duration(response.TimeToAcknowledgeSeconds.Value)}", "slow_acknowledgement"));
        return list;
    }

    private static string ActionType(string rule) => rule switch
    {
        "gpu_oom" or "repeated_timeouts" or "retries_exhausted" => "mitigate",
        "no_single_cause" or "slow_acknowledgement" => "process",
        _ => "prevent",
    };

    private static (List<string> Well, List<string> Wrong) Assess(PostmortemDetection d, PostmortemResponse r, CorrelationAnalysis a, int breakerOpenings, int retries, string? recorded)
    {
        var well = new List<string>();
        var wrong = new List<string>();
        if (d.TimeToDetectSeconds is { } ttd)
            (ttd <= 30 ? well : wrong).Add($"Time to detect {Duration(ttd)} (target 30 s).");
        if (r.TimeToAcknowledgeSeconds is { } mtta) (mtta <= 300 ? well : wrong).Add($"Acknowledged after {Duration(mtta)}.");
        else if (r.ResolvedAt is not null) wrong.Add("Resolved without being acknowledged first.");
        if (r.TimeToResolveSeconds is { } mttr) (mttr <= 300 ? well : wrong).Add($"Resolved after {Duration(mttr)} (target 5 min).");
        if (!a.Abstain && a.RootCauses.Count > 0) well.Add($"The coordinator named a likely root cause: {a.RootCauses[0].Component}.");
        else if (a.RootCauses.Count > 0 || recorded is null) wrong.Add("No single root cause could be identified from the events.");
        if (breakerOpenings > 0) well.Add($"{breakerOpenings} circuit breaker opening(s) contained the failure.");
        if (retries > 0) wrong.Add($"{retries} task(s) exhausted their retries.");
        if (a.Cascade) wrong.Add("The failure cascaded: " + a.CascadeReason + ".");
        return (well, wrong);
    }

    private static double? Temperature(ErrorEvent e)
    {
        foreach (var key in new[] { "temperature", "gpu_temperature", "temperature_c" })
            if (e.Tags.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var t)) return t;
        return null;
    }

    private static string Render(Postmortem p)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# Post-mortem: {p.Title}").AppendLine();
        sb.AppendLine($"Id `{p.Id}`{(p.IncidentId is null ? "" : $" · incident `{p.IncidentId}`")} · {p.Since:u} to {p.Until:u} · generated {p.GeneratedAt:u}").AppendLine();
        sb.AppendLine("## Summary").AppendLine().AppendLine(p.Summary).AppendLine();
        sb.AppendLine("## Impact").AppendLine();
        sb.AppendLine($"- Errors: {p.Impact.TotalErrors} in {p.Impact.ErrorGroups} error groups");
        sb.AppendLine($"- Affected agents ({p.Impact.Agents.Count}): {List(p.Impact.Agents)}");
        sb.AppendLine($"- Affected tasks ({p.Impact.Tasks.Count}): {List(p.Impact.Tasks)}");
        sb.AppendLine($"- Affected components ({p.Impact.Components.Count}): {List(p.Impact.Components)}").AppendLine();
        sb.AppendLine("| Error type | Count |").AppendLine("|---|---|");
        foreach (var c in p.Impact.ErrorCounts) sb.AppendLine($"| {Cell(c.ErrorType)} | {c.Count} |");
        sb.AppendLine().AppendLine("## Timeline").AppendLine();
        sb.AppendLine("| Time (UTC) | Type | What happened | Events |").AppendLine("|---|---|---|---|");
        foreach (var t in p.Timeline) sb.AppendLine($"| {t.At:yyyy-MM-dd HH:mm:ss.fff} | {t.Type} | {Cell(t.Message)} | {string.Join(", ", t.EventIds.Select(e => $"`{e}`"))} |");
        sb.AppendLine().AppendLine("## Root cause and trigger").AppendLine();
        if (p.RootCause.Recorded is not null) sb.AppendLine($"- Recorded root cause: {p.RootCause.Recorded}");
        if (p.RootCause.Suspected is not null) sb.AppendLine($"- Suspected when the incident opened: {p.RootCause.Suspected}");
        sb.AppendLine($"- Trigger (first event): {p.RootCause.Trigger ?? "none"}{(p.RootCause.TriggerEventId is null ? "" : $" (`{p.RootCause.TriggerEventId}`)")}");
        sb.AppendLine($"- Correlation: {p.RootCause.Verdict}");
        if (p.RootCause.Cascade) sb.AppendLine($"- Cascade: {p.RootCause.CascadeReason}");
        sb.AppendLine().AppendLine("| Rank | Component | Score | Path | Evidence |").AppendLine("|---|---|---|---|---|");
        var rank = 0;
        foreach (var c in p.RootCause.Candidates)
            sb.AppendLine($"| {++rank} | {Cell(c.Component)} | {c.Score:0.000} | {Cell(string.Join(" → ", c.Path))} | {string.Join(", ", c.Evidence.Take(5).Select(e => $"`{e}`"))} |");
        sb.AppendLine().AppendLine("## Detection").AppendLine();
        sb.AppendLine($"- First event: {p.Detection.FirstEventAt:u}{(p.Detection.FirstEventId is null ? "" : $" (`{p.Detection.FirstEventId}`)")}");
        sb.AppendLine($"- Incident opened: {(p.Detection.OpenedAt is { } o ? o.ToString("u", CultureInfo.InvariantCulture) + $" ({Describe(p.Detection.Source)})" : "no incident")}");
        sb.AppendLine($"- Time to detect: {(p.Detection.TimeToDetectSeconds is { } ttd ? Duration(ttd) : "n/a")}");
        sb.AppendLine().AppendLine("## Response and resolution").AppendLine();
        sb.AppendLine($"- Acknowledged: {(p.Response.AcknowledgedAt is { } a ? $"{a:u} by {p.Response.AcknowledgedBy}" : "not acknowledged")}");
        sb.AppendLine($"- Time to acknowledge (MTTA): {(p.Response.TimeToAcknowledgeSeconds is { } mtta ? Duration(mtta) : "n/a")}");
        sb.AppendLine($"- Resolved: {(p.Response.ResolvedAt is { } r ? r.ToString("u", CultureInfo.InvariantCulture) : "not resolved")}");
        sb.AppendLine($"- Time to resolve (MTTR): {(p.Response.TimeToResolveSeconds is { } mttr ? Duration(mttr) : "n/a")}");
        if (p.Response.Resolution is not null) sb.AppendLine($"- Resolution: {p.Response.Resolution}");
        sb.AppendLine().AppendLine("## What went well").AppendLine();
        foreach (var w in p.WentWell.DefaultIfEmpty("Nothing recorded.")) sb.AppendLine($"- {w}");
        sb.AppendLine().AppendLine("## What went wrong").AppendLine();
        foreach (var w in p.WentWrong.DefaultIfEmpty("Nothing recorded.")) sb.AppendLine($"- {w}");
        sb.AppendLine().AppendLine("## Action items").AppendLine();
        sb.AppendLine("| Item | Type | Owner |").AppendLine("|---|---|---|");
        foreach (var a2 in p.ActionItems) sb.AppendLine($"| {Cell(a2.Item)} | {a2.Type} | {a2.Owner ?? ""} |");
        sb.AppendLine().AppendLine("## Recommendations").AppendLine();
        foreach (var r2 in p.Recommendations.DefaultIfEmpty()) sb.AppendLine(r2 is null ? "- None from the rules." : $"- **{r2.Priority}**: {r2.Action} ({r2.Rationale})");
        return sb.ToString();
    }

    private static string List(IReadOnlyList<string> items) => items.Count == 0 ? "none" : string.Join(", ", items.Take(30)) + (items.Count > 30 ? ", …" : "");
    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
    private static string Status(Incident i) => char.ToUpperInvariant(IncidentService.Wire(i.Status)[0]) + IncidentService.Wire(i.Status)[1..];
    private static string Describe(string? source) => source switch
    {
        IncidentSources.Cascade => "a detected cascade",
        IncidentSources.CriticalEvent => "a critical event",
        IncidentSources.BreakerOpened => "a breaker opening",
        IncidentSources.Manual => "by hand",
        _ => source ?? "-",
    };

    internal static string Duration(double seconds) => seconds < 120
        ? string.Create(CultureInfo.InvariantCulture, $"{seconds:0.#} s")
        : seconds < 7200 ? string.Create(CultureInfo.InvariantCulture, $"{seconds / 60:0.#} min") : string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600:0.#} h");

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    [GeneratedRegex(@"out of memory|\boom\b|outofmemory|gpu_oom", RegexOptions.IgnoreCase)] private static partial Regex GpuOom();
    [GeneratedRegex(@"gpu|cuda|nvidia", RegexOptions.IgnoreCase)] private static partial Regex Gpu();
    [GeneratedRegex(@"thermal|overheat|temperature", RegexOptions.IgnoreCase)] private static partial Regex Thermal();
}
