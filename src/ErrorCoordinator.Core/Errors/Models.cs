namespace ErrorCoordinator.Core.Errors;

/// <summary>A failure as a caller reports it, before validation, scrubbing and classification.</summary>
public sealed record FailureReport
{
    public required string Agent { get; init; }
    public required string ErrorType { get; init; }
    public required string Message { get; init; }
    public string? TaskId { get; init; }
    public string? Project { get; init; }
    public string? Component { get; init; }
    public string? Stack { get; init; }
    public string? Code { get; init; }
    /// <summary>critical|error|warning|info; overrides classification when given.</summary>
    public string? Severity { get; init; }
    /// <summary>One of the taxonomy categories; overrides classification when given.</summary>
    public string? Category { get; init; }
    public string? TraceId { get; init; }
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    /// <summary>ISO-8601 with an offset (or Z). Defaults to the time the report is received.</summary>
    public string? OccurredAt { get; init; }
}

/// <summary>A stored, scrubbed, classified failure. This is what is persisted and published.</summary>
public sealed record ErrorEvent
{
    public required string EventId { get; init; }
    public required string GroupId { get; init; }
    public required string Signature { get; init; }
    /// <summary>The stream the event belongs to: task_failures, training, hardware, agent_crashes, ...</summary>
    public required string Kind { get; init; }
    public required string Agent { get; init; }
    public required string ErrorType { get; init; }
    public required string Message { get; init; }
    public string? Stack { get; init; }
    public string? Code { get; init; }
    public string? TaskId { get; init; }
    public string? Project { get; init; }
    public string? Component { get; init; }
    public string? TraceId { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public required Severity Severity { get; init; }
    public required ErrorCategory Category { get; init; }
    public required bool Recoverable { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    /// <summary>When retention removes the event (occurred_at plus the retention of its kind).</summary>
    public required DateTimeOffset ExpiresAt { get; init; }
}

/// <summary>What the caller learns from one report.</summary>
public sealed record ReportResult(
    string EventId,
    string GroupId,
    string Signature,
    Severity Severity,
    ErrorCategory Category,
    bool Recoverable,
    bool IsNewGroup,
    long GroupCount,
    GroupStatus GroupStatus,
    string Recommendation);

/// <summary>One item's outcome in a batch: either a result or an error naming the field.</summary>
public sealed record BatchItemResult(int Index, ReportResult? Result, string? Error, string? Field);

/// <summary>An agent and how many events it contributed to a group.</summary>
public sealed record AgentCount(string Agent, long Count);

/// <summary>An error group: every event whose fingerprint is the same.</summary>
public sealed record ErrorGroup
{
    public required string Id { get; init; }
    public required string Signature { get; init; }
    public required string ErrorType { get; init; }
    public required long Count { get; init; }
    public required DateTimeOffset FirstSeen { get; init; }
    public required DateTimeOffset LastSeen { get; init; }
    public required long DistinctAgents { get; init; }
    public required IReadOnlyList<AgentCount> TopAgents { get; init; }
    public required GroupStatus Status { get; init; }
    public required string SampleMessage { get; init; }
    public string? Component { get; init; }
    public required Severity Severity { get; init; }
    public required ErrorCategory Category { get; init; }
    public string? Note { get; init; }
    public DateTimeOffset? StatusChangedAt { get; init; }
    public DateTimeOffset? RegressedAt { get; init; }
}

/// <summary>One hour's count in a group's histogram.</summary>
public sealed record HourlyCount(DateTimeOffset Hour, long Count);

/// <summary>A group with its recent events and its last-24-hours histogram.</summary>
public sealed record ErrorGroupDetail(ErrorGroup Group, IReadOnlyList<ErrorEvent> RecentEvents, IReadOnlyList<HourlyCount> Histogram);

/// <summary>Filters for listing events; all optional, combined with AND.</summary>
public sealed record ErrorQuery
{
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public string? Agent { get; init; }
    public string? Component { get; init; }
    public string? GroupId { get; init; }
    public Severity? Severity { get; init; }
    public ErrorCategory? Category { get; init; }
    public string? TaskId { get; init; }
    public int Limit { get; init; } = Common.Defaults.DefaultPageSize;
    public string? Cursor { get; init; }
}

/// <summary>Filters for listing groups. With no status, ignored groups are left out.</summary>
public sealed record GroupQuery
{
    public GroupStatus? Status { get; init; }
    public string? Agent { get; init; }
    public string? Component { get; init; }
    public GroupSort Sort { get; init; } = GroupSort.LastSeen;
    public int Limit { get; init; } = Common.Defaults.DefaultPageSize;
    public string? Cursor { get; init; }
}

/// <summary>What the store needs, beyond the event itself, to record a report atomically.</summary>
public sealed record RecordOptions(TimeSpan GroupTtl, string Channel, RetentionLimits Limits)
{
    /// <summary>
    /// The template assignment to apply with the report (bucket compare-and-set): when the bucket's version is not
    /// the expected one the store records nothing and answers <see cref="RecordOutcome.Conflict"/>. The bucket lives
    /// as long as <see cref="GroupTtl"/> past its last use. Null: no template state involved.
    /// </summary>
    public Signatures.TemplateDecision? Template { get; init; }
}

/// <summary>The count caps and time horizon stores trim to on every write.</summary>
public sealed record RetentionLimits(int MaxEventsPerIndex, int MaxEventsTotal, int MaxGroups, int MaxSamplesPerGroup, int AuditStreamMaxLength, TimeSpan LongestEventRetention)
{
    public static RetentionLimits From(RetentionOptions o) =>
        new(o.MaxEventsPerIndex, o.MaxEventsTotal, o.MaxGroups, o.MaxSamplesPerGroup, o.AuditStreamMaxLength, o.Longest);
}

/// <summary>What the store answers after recording a report.</summary>
public sealed record RecordOutcome(bool IsNewGroup, long GroupCount, GroupStatus Status)
{
    /// <summary>Set when <see cref="RecordOptions.Template"/> conflicted: nothing was written; the bucket as the store holds it.</summary>
    public Signatures.TemplateBucketSnapshot? Conflict { get; init; }

    /// <summary>Clusters the store evicted from the bucket to make room for a created one; null when none.</summary>
    public IReadOnlyList<string>? EvictedTemplates { get; init; }

    /// <summary>The answer when the template assignment conflicted.</summary>
    public static RecordOutcome Conflicted(Signatures.TemplateBucketSnapshot bucket) => new(false, 0, GroupStatus.Unresolved) { Conflict = bucket };
}

/// <summary>Helpers shared by both stores so they shape data identically.</summary>
public static class ErrorShapes
{
    public const int MaxSampleChars = 1024;

    /// <summary>A group's sample message: the event message cut to 1,024 characters.</summary>
    public static string Sample(string message) => message.Length <= MaxSampleChars ? message : message[..MaxSampleChars] + "…";

    /// <summary>The start of the UTC hour containing <paramref name="t"/>, in Unix milliseconds.</summary>
    public static long HourBucket(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 3_600_000 * 3_600_000;

    /// <summary>True when the event passes every filter of the query (the time range included).</summary>
    public static bool Matches(this ErrorQuery q, ErrorEvent e) =>
        (q.Since is null || e.OccurredAt >= q.Since) &&
        (q.Until is null || e.OccurredAt <= q.Until) &&
        (q.Agent is null || e.Agent == q.Agent) &&
        (q.Component is null || e.Component == q.Component) &&
        (q.GroupId is null || e.GroupId == q.GroupId) &&
        (q.Severity is null || e.Severity == q.Severity) &&
        (q.Category is null || e.Category == q.Category) &&
        (q.TaskId is null || e.TaskId == q.TaskId);

    /// <summary>A 24-hour (or <paramref name="hours"/>) histogram ending with the hour containing <paramref name="now"/>, oldest first.</summary>
    public static IReadOnlyList<HourlyCount> Histogram(DateTimeOffset now, int hours, Func<long, long> countForHour)
    {
        var current = HourBucket(now);
        var result = new HourlyCount[hours];
        for (var i = 0; i < hours; i++)
        {
            var bucket = current - (hours - 1 - i) * 3_600_000L;
            result[i] = new HourlyCount(DateTimeOffset.FromUnixTimeMilliseconds(bucket), countForHour(bucket));
        }
        return result;
    }
}
