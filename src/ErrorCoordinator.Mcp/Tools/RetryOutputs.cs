using System.ComponentModel;
using System.Text.Json.Serialization;
using ErrorCoordinator.Core.Retries;

namespace ErrorCoordinator.Mcp.Tools;

// Structured outputs of the retry-queue tools (snake_case on the wire; nullable properties always written).

public sealed record BudgetOutput(
    [property: Description("Retries enqueued for the component in the last minute.")] long RetriesLastMinute,
    [property: Description("The component's outcomes in the last minute: record_outcome calls plus error reports.")] long OutcomesLastMinute,
    [property: Description("Retries allowed in the last minute: max(minimum per minute, limit x outcomes).")] long Allowed,
    [property: Description("retries_last_minute / outcomes_last_minute (0 with no outcomes).")] double RetryRatio,
    [property: Description("The configured share of outcomes that may be retries, e.g. 0.1.")] double Limit)
{
    public static BudgetOutput? From(BudgetUse? b) => b is null ? null : new(b.Retries, b.Outcomes, b.Allowed, b.Ratio, b.Limit);
}

public sealed record EnqueueRetryOutput(
    string TaskId,
    [property: Description("scheduled | duplicate | dead_lettered | rejected")] string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The retry attempt scheduled (1 = first retry).")] int? Attempt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("When the task becomes due for claim_retries.")] DateTimeOffset? RetryAt,
    [property: Description("True when the idempotency key was already queued: the existing entry is returned and nothing was added.")] bool Duplicate,
    [property: Description("True when the task went straight to the dead-letter queue (attempts exhausted).")] bool DeadLettered,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Why it was dead-lettered, e.g. attempts_exhausted.")] string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("budget_exhausted or queue_full when the retry was refused; null when taken.")] string? Rejected,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The component's retry budget as checked.")] BudgetOutput? Budget,
    [property: Description("One sentence on what happened and what to do.")] string Detail)
{
    public static EnqueueRetryOutput From(string taskId, EnqueueResult r) => new(
        taskId,
        r.Rejected is not null ? "rejected" : r.Status switch
        {
            EnqueueStatus.Duplicate => "duplicate",
            EnqueueStatus.DeadLettered => "dead_lettered",
            _ => "scheduled",
        },
        r.Rejected is null ? r.Task?.Attempt : null,
        r.Rejected is null && !r.DeadLettered ? r.Task?.RetryAt : null,
        r.Duplicate, r.DeadLettered, r.DeadLettered ? DeadLetterReasons.AttemptsExhausted : null, r.Rejected, BudgetOutput.From(r.Budget), r.Detail);
}

public sealed record ClaimedTaskOutput(
    string TaskId,
    [property: Description("Pass to complete_retry and extend_lease. Only the current lease is accepted.")] string Lease,
    [property: Description("The lease runs out at this time unless extended; the task is then handed to another worker.")] DateTimeOffset LeaseExpiresAt,
    [property: Description("How many times the task has been handed to a worker, this time included.")] int DeliveryCount,
    [property: Description("The retry attempt this delivery runs (1 = first retry).")] int Attempt,
    int MaxAttempts,
    string Agent,
    string Component,
    string ErrorType,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The payload given to enqueue_retry (JSON text).")] string? Payload)
{
    public static ClaimedTaskOutput From(RetryTask t) => new(t.TaskId, t.Lease!, t.LeaseUntil!.Value, t.Deliveries, t.Attempt, t.MaxAttempts, t.Agent,
        t.Component, t.ErrorType, t.Message, t.Payload);
}

public sealed record ClaimRetriesOutput(
    [property: Description("Due tasks now leased to you, oldest due first.")] IReadOnlyList<ClaimedTaskOutput> Tasks,
    [property: Description("Due tasks not handed out because their component's breaker is open; they wait for its retry-after.")] int Deferred,
    [property: Description("The components whose open breakers deferred tasks.")] IReadOnlyList<string> DeferredComponents,
    [property: Description("Expired leases returned to the queue by this call.")] int LeasesReclaimed,
    [property: Description("Tasks dead-lettered by this call (delivered max_attempts times).")] int DeadLettered);

public sealed record HistoryEntryOutput(
    DateTimeOffset At,
    [property: Description("enqueued | failed | fatal | lease_expired | deferred | replayed | dead_lettered; each delivery appears once, by its outcome, with its worker and delivery number")] string Event,
    int Attempt,
    int Delivery,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Worker,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? ErrorType,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Signature,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? RetryAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Note)
{
    public static HistoryEntryOutput From(RetryHistoryEntry e) => new(e.At, e.Event, e.Attempt, e.Delivery, e.Worker, e.ErrorType, e.Error, e.Signature, e.RetryAt, e.Note);
}

public sealed record CompleteRetryOutput(
    string TaskId,
    [property: Description("succeeded | rescheduled | dead_lettered")] string Result,
    [property: Description("The attempt now scheduled (rescheduled) or the one that finished.")] int Attempt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("When the next attempt is due (rescheduled only).")] DateTimeOffset? RetryAt,
    bool DeadLettered,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("attempts_exhausted | poison_pill | fatal | budget_exhausted | deliveries_exceeded")] string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Detail,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The component's retry budget as checked (failed only).")] BudgetOutput? Budget)
{
    public static CompleteRetryOutput From(CompleteResult r) => new(r.Task.TaskId,
        r.Result switch { CompletionResult.Succeeded => "succeeded", CompletionResult.Rescheduled => "rescheduled", _ => "dead_lettered" },
        r.Task.Attempt, r.Result == CompletionResult.Rescheduled ? r.Task.RetryAt : null, r.Result == CompletionResult.DeadLettered,
        r.Task.DeadReason, r.Task.DeadDetail, BudgetOutput.From(r.Budget));
}

public sealed record ExtendLeaseOutput(string TaskId, string Lease, [property: Description("The new lease deadline.")] DateTimeOffset LeaseExpiresAt);

public sealed record DeadLetterOutput(
    string TaskId,
    string Agent,
    string Component,
    string ErrorType,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Payload,
    [property: Description("The attempt that ran last.")] int Attempt,
    int Deliveries,
    int MaxAttempts,
    DateTimeOffset EnqueuedAt,
    DateTimeOffset DeadLetteredAt,
    [property: Description("attempts_exhausted | poison_pill | fatal | budget_exhausted | deliveries_exceeded")] string Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Detail,
    [property: Description("Every attempt and error, oldest first (the most recent entries when the history is long).")] IReadOnlyList<HistoryEntryOutput> History)
{
    public static DeadLetterOutput From(RetryTask t) => new(t.TaskId, t.Agent, t.Component, t.ErrorType, t.Message, t.Payload, t.Attempt, t.Deliveries,
        t.MaxAttempts, t.EnqueuedAt, t.DeadLetteredAt ?? t.RetryAt, t.DeadReason ?? "", t.DeadDetail, t.History.Select(HistoryEntryOutput.From).ToList());
}

public sealed record ListDeadLettersOutput(
    [property: Description("Dead letters, most recently dead-lettered first.")] IReadOnlyList<DeadLetterOutput> DeadLetters,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Pass as cursor to get the next page; null when there is none.")] string? NextCursor);

public sealed record ReplayDeadLetterOutput(
    [property: Description("Tasks returned to the queue (due now), or that would be for a dry run.")] IReadOnlyList<string> TaskIds,
    int Count,
    bool DryRun,
    [property: Description("Matching dead letters held back by the fleet-wide replay rate; call again later.")] int RateLimited,
    [property: Description("Replays left in the current minute.")] long RateRemaining,
    [property: Description("True when more dead letters may match: call again.")] bool More);

public sealed record PurgeDeadLettersOutput(int Purged, [property: Description("True when more entries are older than older_than: call again.")] bool More);

public sealed record RetryStatsOutput(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Agent,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Component,
    [property: Description("Tasks waiting for their retry time or for a worker.")] long Pending,
    [property: Description("Pending tasks whose retry time has come.")] long DueNow,
    [property: Description("False when a filtered due_now count stopped at its scan limit (10,000).")] bool DueNowExact,
    [property: Description("Tasks leased to a worker.")] long InFlight,
    long DeadLetters,
    [property: Description("Dead letters dropped by the age (30 days) and count (10,000) caps.")] long DeadLettersTrimmed,
    [property: Description("Original tasks enqueued.")] long Tasks,
    [property: Description("Times a task was handed to a worker.")] long Deliveries,
    long Succeeded,
    long DeadLettered,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("succeeded / (succeeded + dead_lettered); null before any finished.")] double? SuccessRate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("(original runs + retry deliveries) / original tasks; 1.0 means no retry ran yet.")] double? RetryAmplification,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("The component's retry budget right now (only with component).")] BudgetOutput? Budget)
{
    public static RetryStatsOutput From(RetryStats s) => new(s.Agent, s.Component, s.Counts.Pending, s.Counts.DueNow, s.Counts.DueNowExact, s.Counts.InFlight,
        s.Counts.DeadLetters, s.Counts.DeadLettersTrimmed, s.Counts.Tasks, s.Counts.Deliveries, s.Counts.Succeeded, s.Counts.DeadLettered,
        s.SuccessRate, s.Amplification, BudgetOutput.From(s.Budget));
}
