using System.ComponentModel;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006 // Parameter names are snake_case: they are the tool's wire names.

namespace ErrorCoordinator.Mcp.Tools;

/// <summary>One failure in a report_failures batch.</summary>
public sealed record FailureInput
{
    [Description("Reporting agent or job type, e.g. 'trainer', 'ci:unit-tests'. Required, at most 200 characters.")]
    public string Agent { get; init; } = "";
    [Description("Error type or exception class, e.g. TimeoutError, CUDAError. Required.")]
    public string ErrorType { get; init; } = "";
    [Description("The error message. Required, at most 16 KiB.")]
    public string Message { get; init; } = "";
    [Description("Task or job id the failure belongs to.")] public string? TaskId { get; init; }
    [Description("Project or repository.")] public string? Project { get; init; }
    [Description("The dependency or subsystem that failed, e.g. 'payments-api', 'postgres'.")] public string? Component { get; init; }
    [Description("Stack trace, at most 64 KiB.")] public string? Stack { get; init; }
    [Description("Error code, e.g. ECONNRESET or HTTP 503.")] public string? Code { get; init; }
    [Description("critical | error | warning | info. Overrides classification.")] public string? Severity { get; init; }
    [Description("infrastructure | application | integration | data | timeout | permission | resource_exhaustion | external. Overrides classification.")] public string? Category { get; init; }
    [Description("Distributed trace id (W3C trace id or traceparent) linking related failures.")] public string? TraceId { get; init; }
    [Description("Free-form string tags, at most 32, each key and value at most 256 characters.")] public Dictionary<string, string>? Tags { get; init; }
    [Description("When it happened, ISO-8601 with offset (e.g. 2026-12-04T13:45:00Z). Default: now. At most 1 day in the future.")] public string? OccurredAt { get; init; }

    public FailureReport ToReport() => new()
    {
        Agent = Agent, ErrorType = ErrorType, Message = Message, TaskId = TaskId, Project = Project, Component = Component,
        Stack = Stack, Code = Code, Severity = Severity, Category = Category, TraceId = TraceId, Tags = Tags, OccurredAt = OccurredAt,
    };
}

/// <summary>Failure reporting and error groups.</summary>
[McpServerToolType]
public sealed class ErrorTools(ErrorReportingService errors)
{
    [McpServerTool(Name = "report_failure", Title = "Report a failure", UseStructuredContent = true, OutputSchemaType = typeof(ReportFailureOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Report one failure (an exception, failed task, failed call). It is scrubbed of secrets, classified (severity, category, recoverable), " +
                 "fingerprinted into an error group shared by every agent, stored with retention and published to other agents. " +
                 "Call it whenever a task or a dependency call fails. Returns the group, whether it is new, its count and a one-line recommendation.")]
    public Task<CallToolResult> ReportFailure(
        [Description("Reporting agent or job type, e.g. 'trainer', 'ci:unit-tests'. At most 200 characters.")] string agent,
        [Description("Error type or exception class, e.g. TimeoutError, CUDAError, OutOfMemoryError.")] string error_type,
        [Description("The error message, at most 16 KiB. Secrets are removed before storage.")] string message,
        [Description("Task or job id the failure belongs to.")] string? task_id = null,
        [Description("Project or repository.")] string? project = null,
        [Description("The dependency or subsystem that failed, e.g. 'payments-api', 'postgres', 'gpu_tasks'.")] string? component = null,
        [Description("Stack trace, at most 64 KiB.")] string? stack = null,
        [Description("Error code, e.g. ECONNRESET, 503.")] string? code = null,
        [Description("critical | error | warning | info. Overrides the classification.")] string? severity = null,
        [Description("infrastructure | application | integration | data | timeout | permission | resource_exhaustion | external. Overrides the classification.")] string? category = null,
        [Description("Distributed trace id linking related failures across agents.")] string? trace_id = null,
        [Description("String tags (at most 32; keys and values at most 256 characters), e.g. {\"region\":\"eu-west-1\"}.")] Dictionary<string, string>? tags = null,
        [Description("When it happened, ISO-8601 with offset, e.g. 2026-12-04T13:45:00Z. Default: now. At most 1 day in the future.")] string? occurred_at = null,
        CancellationToken cancellationToken = default)
    {
        var report = new FailureReport
        {
            Agent = agent, ErrorType = error_type, Message = message, TaskId = task_id, Project = project, Component = component,
            Stack = stack, Code = code, Severity = severity, Category = category, TraceId = trace_id, Tags = tags, OccurredAt = occurred_at,
        };
        return ToolCall.RunAsync(
            async () => ReportFailureOutput.From(await errors.ReportAsync(report, cancellationToken)),
            r => $"{(r.IsNewGroup ? "New group" : "Group")} {r.GroupId} ({ToolCall.Plural(r.GroupCount, "event")}, {r.GroupStatus}): {r.Signature}\n" +
                 $"Event {r.EventId}: {r.Severity}, {r.Category}, {(r.Recoverable ? "recoverable" : "not recoverable")}.\n{r.Recommendation}");
    }

    [McpServerTool(Name = "report_failures", Title = "Report a batch of failures", UseStructuredContent = true, OutputSchemaType = typeof(ReportFailuresOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Report up to 500 failures at once, e.g. every failing test of a CI job. Each item is validated on its own: an invalid item gets " +
                 "its own error (naming the field and the limit) and does not sink the batch. Returns one result per item, in order.")]
    public Task<CallToolResult> ReportFailures(
        [Description("The failures, 1 to 500 items; each has the fields of report_failure (agent, error_type, message required).")] FailureInput[] failures,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var results = await errors.ReportBatchAsync((failures ?? []).Select(f => f?.ToReport()!).ToList(), cancellationToken);
                var items = results.Select(r => new BatchItemOutput(r.Index, r.Result is not null,
                    r.Result is null ? null : ReportFailureOutput.From(r.Result), r.Error, r.Field)).ToList();
                var ok = items.Count(i => i.Ok);
                return new ReportFailuresOutput(ok, items.Count - ok, items.Where(i => i.Ok).Select(i => i.Result!.GroupId).Distinct().Count(), items);
            },
            r => $"Recorded {r.Accepted} of {r.Accepted + r.Rejected} failures into {ToolCall.Plural(r.Groups, "group")}" +
                 (r.Rejected > 0 ? $"; {r.Rejected} refused (see results[].error)." : "."));

    [McpServerTool(Name = "query_errors", Title = "Query error events", UseStructuredContent = true, OutputSchemaType = typeof(QueryErrorsOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("List stored error events, newest first, filtered by time range, agent, component, group, severity, category or task. " +
                 "Paged: pass next_cursor back as cursor for the next page. Use it to see what failed recently or for one task.")]
    public Task<CallToolResult> QueryErrors(
        [Description("Only events at or after this ISO-8601 time.")] string? since = null,
        [Description("Only events at or before this ISO-8601 time.")] string? until = null,
        [Description("Only events from this agent.")] string? agent = null,
        [Description("Only events for this component.")] string? component = null,
        [Description("Only events of this error group.")] string? group_id = null,
        [Description("Only this severity: critical | error | warning | info.")] string? severity = null,
        [Description("Only this category: infrastructure | application | integration | data | timeout | permission | resource_exhaustion | external.")] string? category = null,
        [Description("Only events of this task.")] string? task_id = null,
        [Description("Page size, 1 to 500. Default 50.")] int limit = Defaults.DefaultPageSize,
        [Description("next_cursor from the previous page.")] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var query = new ErrorQuery
                {
                    Since = ToolCall.Timestamp("since", since),
                    Until = ToolCall.Timestamp("until", until),
                    Agent = agent, Component = component, GroupId = group_id, TaskId = task_id,
                    Severity = severity is null ? null : ToolCall.ParseEnum<Severity>("severity", severity, Taxonomy.TryParseSeverity, Taxonomy.SeverityNames),
                    Category = category is null ? null : ToolCall.ParseEnum<ErrorCategory>("category", category, Taxonomy.TryParseCategory, Taxonomy.CategoryNames),
                    Limit = limit, Cursor = cursor,
                };
                var page = await errors.QueryAsync(query, cancellationToken);
                return new QueryErrorsOutput(page.Items.Select(EventOutput.From).ToList(), page.NextCursor);
            },
            r => r.Events.Count == 0 ? "No matching events." :
                $"{ToolCall.Plural(r.Events.Count, "event")}, newest first{(r.NextCursor is null ? "" : " (more: pass next_cursor)")}:\n" +
                string.Join("\n", r.Events.Take(20).Select(e => $"- {e.OccurredAt:u} {e.Agent} {e.Severity} {e.Signature} [{e.GroupId}]")));

    [McpServerTool(Name = "list_error_groups", Title = "List error groups", UseStructuredContent = true, OutputSchemaType = typeof(ListGroupsOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("List error groups (failures with the same fingerprint across all agents) with counts, first/last seen, distinct agents and a sample. " +
                 "Ignored groups are left out unless status=ignored is asked for. Paged. Use it to see the biggest or newest problems.")]
    public Task<CallToolResult> ListErrorGroups(
        [Description("Only groups in this status: unresolved | resolved | ignored | regressed. Default: all but ignored.")] string? status = null,
        [Description("Only groups an agent has reported into.")] string? agent = null,
        [Description("Only groups seen on this component.")] string? component = null,
        [Description("Order: count | last_seen | first_seen (all descending). Default last_seen.")] string sort = "last_seen",
        [Description("Page size, 1 to 500. Default 50.")] int limit = Defaults.DefaultPageSize,
        [Description("next_cursor from the previous page.")] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var query = new GroupQuery
                {
                    Status = status is null ? null : ToolCall.ParseEnum<GroupStatus>("status", status, Taxonomy.TryParseStatus, Taxonomy.StatusNames),
                    Agent = agent, Component = component,
                    Sort = ToolCall.ParseEnum<GroupSort>("sort", sort, Taxonomy.TryParseSort, Taxonomy.SortNames),
                    Limit = limit, Cursor = cursor,
                };
                var page = await errors.ListGroupsAsync(query, cancellationToken);
                return new ListGroupsOutput(page.Items.Select(GroupOutput.From).ToList(), page.NextCursor);
            },
            r => r.Groups.Count == 0 ? "No matching groups." :
                $"{ToolCall.Plural(r.Groups.Count, "group")}{(r.NextCursor is null ? "" : " (more: pass next_cursor)")}:\n" +
                string.Join("\n", r.Groups.Take(20).Select(g => $"- {g.Id} ×{g.Count} {g.Status}, {ToolCall.Plural(g.DistinctAgents, "agent")}, last {g.LastSeen:u}: {g.Signature}")));

    [McpServerTool(Name = "get_error_group", Title = "Get an error group", UseStructuredContent = true, OutputSchemaType = typeof(GroupDetailOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Get one error group: its signature, counts, agents and status, its most recent events, and an hourly count histogram for the last 24 hours.")]
    public Task<CallToolResult> GetErrorGroup(
        [Description("The group id, e.g. from report_failure or list_error_groups.")] string group_id,
        [Description("How many recent events to include, 0 to 100. Default 10.")] int samples = 10,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var d = await errors.GetGroupAsync(group_id, samples, cancellationToken);
                return new GroupDetailOutput(GroupOutput.From(d.Group), d.RecentEvents.Select(EventOutput.From).ToList(),
                    d.Histogram.Select(h => new HourOutput(h.Hour, h.Count)).ToList());
            },
            r => $"{r.Group.Id} ({r.Group.Status}) ×{r.Group.Count} from {ToolCall.Plural(r.Group.DistinctAgents, "agent")}, " +
                 $"first {r.Group.FirstSeen:u}, last {r.Group.LastSeen:u}: {r.Group.Signature}\n" +
                 $"Last 24h: {r.Histogram.Sum(h => h.Count)} events. Sample: {r.Group.SampleMessage}");

    [McpServerTool(Name = "update_error_group", Title = "Resolve, ignore or reopen an error group", UseStructuredContent = true, OutputSchemaType = typeof(UpdateGroupOutput),
        ReadOnly = false, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Set an error group's status: resolved (fixed; a new event marks it regressed), ignored (still counted, hidden from default listings) " +
                 "or unresolved (reopen). An optional note records why.")]
    public Task<CallToolResult> UpdateErrorGroup(
        [Description("The group id.")] string group_id,
        [Description("resolved | ignored | unresolved")] string status,
        [Description("Why, e.g. 'fixed in #1234'. At most 16 KiB.")] string? note = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var s = ToolCall.ParseEnum<GroupStatus>("status", status, Taxonomy.TryParseStatus, ["resolved", "ignored", "unresolved"]);
                return new UpdateGroupOutput(GroupOutput.From(await errors.UpdateGroupAsync(group_id, s, note, cancellationToken)));
            },
            r => $"{r.Group.Id} is now {r.Group.Status}.");
}
