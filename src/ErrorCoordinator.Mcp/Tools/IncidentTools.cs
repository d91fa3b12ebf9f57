using System.ComponentModel;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Incidents;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006 // Parameter names are snake_case: they are the tool's wire names.

namespace ErrorCoordinator.Mcp.Tools;

/// <summary>Incidents (triggered → acknowledged → resolved) and post-mortems.</summary>
[McpServerToolType]
public sealed class IncidentTools(IncidentService incidents, PostmortemService postmortems)
{
    private static readonly string[] Statuses = ["triggered", "acknowledged", "resolved"];

    [McpServerTool(Name = "list_incidents", Title = "List incidents", UseStructuredContent = true, OutputSchemaType = typeof(ListIncidentsOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("List incidents newest first, optionally only one status. Incidents open automatically on a detected cascade, a critical error or a " +
                 "breaker opening, or by hand with open_incident. Paged: pass next_cursor back as cursor. Use get_incident for the timeline.")]
    public Task<CallToolResult> ListIncidents(
        [Description("Only this status: triggered | acknowledged | resolved. Default: all.")] string? status = null,
        [Description("Page size, 1 to 500. Default 50.")] int limit = Defaults.DefaultPageSize,
        [Description("next_cursor from the previous page.")] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                IncidentStatus? s = status is null ? null : ToolCall.ParseEnum<IncidentStatus>("status", status, TryParseStatus, Statuses);
                var page = await incidents.ListAsync(s, limit, cursor, cancellationToken);
                return new ListIncidentsOutput(page.Items.Select(IncidentOutput.From).ToList(), page.NextCursor);
            },
            r => r.Incidents.Count == 0 ? "No matching incidents." :
                $"{ToolCall.Plural(r.Incidents.Count, "incident")}{(r.NextCursor is null ? "" : " (more: pass next_cursor)")}:\n" +
                string.Join("\n", r.Incidents.Take(20).Select(i => $"- {i.Id} {i.Status} {i.Severity} ({i.Source}, {ToolCall.Plural(i.EventCount, "event")}): {i.Title}")));

    [McpServerTool(Name = "get_incident", Title = "Get an incident", UseStructuredContent = true, OutputSchemaType = typeof(IncidentOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("One incident with its status, times, components, attached event ids and its timeline, where every entry cites event ids " +
                 "(errors, breaker transitions, exhausted retries, acknowledgement, resolution).")]
    public Task<CallToolResult> GetIncident(
        [Description("The incident id, e.g. from list_incidents.")] string id,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () => IncidentOutput.From(await incidents.GetAsync(id, cancellationToken)),
            r => $"{r.Id} {r.Status} {r.Severity}: {r.Title} ({ToolCall.Plural(r.EventCount, "event")}, components {string.Join(", ", r.Components)}).\n" +
                 string.Join("\n", r.Timeline.TakeLast(10).Select(t => $"- {t.At:u} {t.Type}: {t.Message}")));

    [McpServerTool(Name = "acknowledge_incident", Title = "Acknowledge an incident", UseStructuredContent = true, OutputSchemaType = typeof(AcknowledgeOutput),
        ReadOnly = false, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Say you are working on an incident (triggered → acknowledged). Acknowledging again changes nothing; a resolved incident cannot be acknowledged. " +
                 "Recorded with who and when (time to acknowledge counts from the opening).")]
    public Task<CallToolResult> AcknowledgeIncident(
        [Description("The incident id.")] string id,
        [Description("Who acknowledges: an agent or person name, at most 200 characters.")] string by,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var (incident, changed) = await incidents.AcknowledgeAsync(id, by, cancellationToken);
                return new AcknowledgeOutput(IncidentOutput.From(incident), changed);
            },
            r => r.Changed ? $"{r.Incident.Id} acknowledged by {r.Incident.AcknowledgedBy}." : $"{r.Incident.Id} was already acknowledged by {r.Incident.AcknowledgedBy}.");

    [McpServerTool(Name = "resolve_incident", Title = "Resolve an incident", UseStructuredContent = true, OutputSchemaType = typeof(IncidentOutput),
        ReadOnly = false, Idempotent = false, Destructive = true, OpenWorld = false)]
    [Description("Close an incident (triggered or acknowledged → resolved) with what fixed it and, when known, the root cause. This cannot be undone: " +
                 "the incident stops absorbing related failures, and the next failure of the same components opens a new incident. " +
                 "Then call generate_postmortem.")]
    public Task<CallToolResult> ResolveIncident(
        [Description("The incident id.")] string id,
        [Description("What was done to resolve it, at most 16 KiB.")] string resolution,
        [Description("The root cause, e.g. the component or change that caused it (at most 200 characters).")] string? root_cause = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () => IncidentOutput.From(await incidents.ResolveAsync(id, resolution, root_cause, null, cancellationToken)),
            r => $"{r.Id} resolved{(r.RootCause is null ? "" : $" (root cause: {r.RootCause})")}. Generate the review with generate_postmortem.");

    [McpServerTool(Name = "open_incident", Title = "Open an incident by hand", UseStructuredContent = true, OutputSchemaType = typeof(IncidentOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Open an incident yourself, e.g. for a problem users report that no error shows. Later failures of the listed components attach " +
                 "to it unless another open incident already holds them. Every call opens a new incident.")]
    public Task<CallToolResult> OpenIncident(
        [Description("A short title, at most 300 characters.")] string title,
        [Description("critical | error | warning | info.")] string severity,
        [Description("Affected components, at most 50.")] string[] components,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () => IncidentOutput.From(await incidents.OpenAsync(title, severity, components ?? [], cancellationToken)),
            r => $"Opened {r.Id} ({r.Severity}): {r.Title}.");

    [McpServerTool(Name = "generate_postmortem", Title = "Generate a post-mortem", UseStructuredContent = true, OutputSchemaType = typeof(PostmortemOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Write a post-mortem (Google SRE / PagerDuty style) as Markdown and structured JSON: summary; impact (agents, tasks, components, error counts " +
                 "by type); timeline citing event ids; root cause and trigger with the ranked candidates and evidence; detection (time to detect); " +
                 "response (time to acknowledge and to resolve); what went well and wrong; action items; rule-based recommendations. " +
                 "Give incident_id, or since and until for a time range. It is stored (an incident's replaces its previous one) and readable as postmortem://{id}.")]
    public Task<CallToolResult> GeneratePostmortem(
        [Description("The incident to review.")] string? incident_id = null,
        [Description("Instead of an incident: start of the range, ISO-8601 with offset.")] string? since = null,
        [Description("Instead of an incident: end of the range, ISO-8601 with offset; at most 31 days after since.")] string? until = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var pm = await postmortems.GenerateAsync(incident_id, ToolCall.Timestamp("since", since), ToolCall.Timestamp("until", until), cancellationToken);
                return new PostmortemOutput(pm.Id, pm.IncidentId, pm.Title, pm.Markdown, pm);
            },
            r => $"Post-mortem {r.Id} (resource postmortem://{r.Id}):\n{r.Document.Summary}");

    private static bool TryParseStatus(string? value, out IncidentStatus status)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "triggered": status = IncidentStatus.Triggered; return true;
            case "acknowledged": status = IncidentStatus.Acknowledged; return true;
            case "resolved": status = IncidentStatus.Resolved; return true;
            default: status = default; return false;
        }
    }
}
