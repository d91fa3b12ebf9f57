using System.ComponentModel;
using System.Text.Json.Serialization;
using ErrorCoordinator.Core.Errors;

namespace ErrorCoordinator.Mcp.Tools;

// Structured outputs of the failure-reporting tools. Property names become snake_case on the wire.
// Nullable properties are always written (JsonIgnoreCondition.Never) so strict clients that treat
// every listed property as required accept the result.

public sealed record ReportFailureOutput(
    [property: Description("Id of the stored event.")] string EventId,
    [property: Description("Id of the error group the event joined; stable across processes.")] string GroupId,
    [property: Description("The normalized signature: error type plus message template with <*> placeholders.")] string Signature,
    [property: Description("critical | error | warning | info")] string Severity,
    [property: Description("infrastructure | application | integration | data | timeout | permission | resource_exhaustion | external")] string Category,
    [property: Description("True when retrying can succeed (transient failure).")] bool Recoverable,
    [property: Description("True when this event created the group.")] bool IsNewGroup,
    [property: Description("Events in the group so far, this one included.")] long GroupCount,
    [property: Description("Group status after this event: unresolved | resolved | ignored | regressed.")] string GroupStatus,
    [property: Description("One-line next step for the reporting agent.")] string Recommendation)
{
    public static ReportFailureOutput From(ReportResult r) => new(r.EventId, r.GroupId, r.Signature, r.Severity.ToWire(),
        r.Category.ToWire(), r.Recoverable, r.IsNewGroup, r.GroupCount, r.GroupStatus.ToWire(), r.Recommendation);
}

public sealed record BatchItemOutput(
    [property: Description("Position of the item in the submitted batch (0-based).")] int Index,
    [property: Description("True when the item was recorded.")] bool Ok,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The report result, when ok.")] ReportFailureOutput? Result,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Why the item was refused, naming the field and the limit.")] string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The refused field, e.g. failures[3].message.")] string? Field);

public sealed record ReportFailuresOutput(
    [property: Description("Items recorded.")] int Accepted,
    [property: Description("Items refused; each has its own error.")] int Rejected,
    [property: Description("Distinct groups the accepted items joined.")] int Groups,
    [property: Description("One entry per submitted item, in order.")] IReadOnlyList<BatchItemOutput> Results);

public sealed record EventOutput(
    string EventId,
    string GroupId,
    string Signature,
    string Kind,
    string Agent,
    string ErrorType,
    string Message,
    string Severity,
    string Category,
    bool Recoverable,
    DateTimeOffset OccurredAt,
    DateTimeOffset ReceivedAt,
    DateTimeOffset ExpiresAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? TaskId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Project,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Component,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? TraceId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Stack,
    IReadOnlyDictionary<string, string> Tags)
{
    public static EventOutput From(ErrorEvent e) => new(e.EventId, e.GroupId, e.Signature, e.Kind, e.Agent, e.ErrorType, e.Message,
        e.Severity.ToWire(), e.Category.ToWire(), e.Recoverable, e.OccurredAt, e.ReceivedAt, e.ExpiresAt,
        e.TaskId, e.Project, e.Component, e.Code, e.TraceId, e.Stack, e.Tags);
}

public sealed record QueryErrorsOutput(
    [property: Description("Matching events, newest first.")] IReadOnlyList<EventOutput> Events,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Pass as cursor to get the next page; null when there is none.")] string? NextCursor);

public sealed record AgentCountOutput(string Agent, long Count);

public sealed record GroupOutput(
    string Id,
    [property: Description("Error type plus message template with <*> placeholders.")] string Signature,
    string ErrorType,
    long Count,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    long DistinctAgents,
    IReadOnlyList<AgentCountOutput> TopAgents,
    [property: Description("unresolved | resolved | ignored | regressed")] string Status,
    string SampleMessage,
    string Severity,
    string Category,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Component,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Note,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? StatusChangedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? RegressedAt)
{
    public static GroupOutput From(ErrorGroup g) => new(g.Id, g.Signature, g.ErrorType, g.Count, g.FirstSeen, g.LastSeen, g.DistinctAgents,
        g.TopAgents.Select(a => new AgentCountOutput(a.Agent, a.Count)).ToList(), g.Status.ToWire(), g.SampleMessage,
        g.Severity.ToWire(), g.Category.ToWire(), g.Component, g.Note, g.StatusChangedAt, g.RegressedAt);
}

public sealed record ListGroupsOutput(
    IReadOnlyList<GroupOutput> Groups,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Pass as cursor to get the next page; null when there is none.")] string? NextCursor);

public sealed record HourOutput(DateTimeOffset Hour, long Count);

public sealed record GroupDetailOutput(
    GroupOutput Group,
    [property: Description("The group's most recent events, newest first.")] IReadOnlyList<EventOutput> RecentEvents,
    [property: Description("Events per hour for the last 24 hours, oldest first.")] IReadOnlyList<HourOutput> Histogram);

public sealed record UpdateGroupOutput(GroupOutput Group);
