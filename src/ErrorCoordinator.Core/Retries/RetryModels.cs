using System.Text.Json.Serialization;

namespace ErrorCoordinator.Core.Retries;

/// <summary>How the delay before the next attempt grows (AWS Architecture Blog, "Exponential Backoff And Jitter").</summary>
[JsonConverter(typeof(JsonStringEnumConverter<BackoffKind>))]
public enum BackoffKind
{
    /// <summary><c>uniform(0, min(cap, base·2^n))</c>.</summary>
    [JsonStringEnumMemberName("exponential_full_jitter")] ExponentialFullJitter,
    /// <summary><c>min(cap, uniform(base, prev·3))</c>.</summary>
    [JsonStringEnumMemberName("decorrelated_jitter")] DecorrelatedJitter,
    /// <summary><c>min(cap, base·2^n)</c>, no jitter.</summary>
    [JsonStringEnumMemberName("exponential")] Exponential,
    /// <summary>Always <c>base</c>.</summary>
    [JsonStringEnumMemberName("constant")] Constant,
}

/// <summary>What a worker reports for a claimed task.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RetryOutcome>))]
public enum RetryOutcome
{
    [JsonStringEnumMemberName("succeeded")] Succeeded,
    /// <summary>Schedules the next attempt, or dead-letters the task when its attempts are used up.</summary>
    [JsonStringEnumMemberName("failed")] Failed,
    /// <summary>A poison pill: dead-lettered at once, never retried.</summary>
    [JsonStringEnumMemberName("fatal")] Fatal,
}

/// <summary>Where a task is: waiting for its retry time, leased by a worker, or in the dead-letter queue.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RetryTaskState>))]
public enum RetryTaskState
{
    [JsonStringEnumMemberName("pending")] Pending,
    [JsonStringEnumMemberName("in_flight")] InFlight,
    [JsonStringEnumMemberName("dead_lettered")] DeadLettered,
}

/// <summary>Event types published on <c>events:errors:&lt;type&gt;</c>, as in the original design.</summary>
public static class RetryEventTypes
{
    public const string Scheduled = "retry_scheduled";
    public const string Success = "retry_success";
    public const string Exhausted = "retry_exhausted";
}

/// <summary>The machine-readable reasons a task is dead-lettered (each entry also carries a human sentence).</summary>
public static class DeadLetterReasons
{
    public const string AttemptsExhausted = "attempts_exhausted";
    public const string DeliveriesExceeded = "deliveries_exceeded";
    public const string PoisonPill = "poison_pill";
    public const string Fatal = "fatal";
    public const string BudgetExhausted = "budget_exhausted";
}

/// <summary>One line of a task's history: enqueued, claimed, failed, lease_expired, deferred, replayed, dead_lettered ...</summary>
public sealed record RetryHistoryEntry
{
    public required DateTimeOffset At { get; init; }
    public required string Event { get; init; }
    public int Attempt { get; init; }
    public int Delivery { get; init; }
    public string? Worker { get; init; }
    public string? ErrorType { get; init; }
    public string? Error { get; init; }
    public string? Signature { get; init; }
    public DateTimeOffset? RetryAt { get; init; }
    public string? Note { get; init; }
}

/// <summary>A task in the retry queue or in the dead-letter queue.</summary>
public sealed record RetryTask
{
    public required string TaskId { get; init; }
    public required string Agent { get; init; }
    public required string Component { get; init; }
    /// <summary>The caller's opaque payload (JSON text), returned to the worker that claims the task.</summary>
    public string? Payload { get; init; }
    public required string ErrorType { get; init; }
    public required string Message { get; init; }
    /// <summary>Seed signature (error type + normalized message) of the original failure.</summary>
    public required string Signature { get; init; }
    public required int MaxAttempts { get; init; }
    public required long BaseDelayMs { get; init; }
    public required long MaxDelayMs { get; init; }
    public required BackoffKind Backoff { get; init; }
    public required string IdempotencyKey { get; init; }
    /// <summary>The retry attempt the task is waiting for or running (1 = first retry).</summary>
    public required int Attempt { get; init; }
    /// <summary>How many times the task was handed to a worker.</summary>
    public int Deliveries { get; init; }
    /// <summary>The last backoff delay (decorrelated jitter grows from it).</summary>
    public long PrevDelayMs { get; init; }
    public required RetryTaskState State { get; init; }
    public string? Lease { get; init; }
    public string? Worker { get; init; }
    public DateTimeOffset? LeaseUntil { get; init; }
    public required DateTimeOffset EnqueuedAt { get; init; }
    /// <summary>When the task is (or was) due.</summary>
    public required DateTimeOffset RetryAt { get; init; }
    public DateTimeOffset? DeadLetteredAt { get; init; }
    /// <summary>One of <see cref="DeadLetterReasons"/>.</summary>
    public string? DeadReason { get; init; }
    public string? DeadDetail { get; init; }
    /// <summary>Error signature -> distinct workers it failed on (the poison-pill rule).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> FailureWorkers { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
    public IReadOnlyList<RetryHistoryEntry> History { get; init; } = [];
}

/// <summary>Caps every queue operation works within. All come from <see cref="RetryOptions"/>.</summary>
public sealed record QueueLimits(
    TimeSpan DeadLetterMaxAge,
    int DeadLetterMaxCount,
    int MaxPendingTasks,
    int HistoryPerTask,
    int AuditStreamMaxLength,
    int PoisonDistinctWorkers,
    int ClaimScanLimit,
    int ReapBatch);

/// <summary>The channels the queue publishes on.</summary>
public sealed record RetryChannels(string Scheduled, string Success, string Exhausted);

/// <summary>
/// The fleet-wide retry budget for one component: retries enqueued in the window may not exceed
/// <c>max(Floor, floor(Ratio · Outcomes))</c>, where <see cref="Outcomes"/> was counted (breaker outcomes plus error reports) by the caller.
/// </summary>
public sealed record BudgetCheck(long Outcomes, double Ratio, int Floor, TimeSpan Window)
{
    public long Allowed => Math.Max(Floor, (long)Math.Floor(Ratio * Outcomes + 1e-9));
}

/// <summary>The budget as the queue saw it: retries in the window (this one included when it was admitted) against what is allowed.</summary>
public sealed record BudgetUse(long Retries, long Outcomes, long Allowed, double Ratio, double Limit);

/// <summary>A new task to queue (built and validated by <see cref="RetryService"/>).</summary>
public sealed record EnqueueCommand(RetryTask Task, BudgetCheck Budget, DateTimeOffset Now, string EventId, QueueLimits Limits, RetryChannels Channels);

public enum EnqueueStatus
{
    Scheduled,
    /// <summary>The idempotency key maps to a task still pending or in flight: that task is returned, nothing added.</summary>
    Duplicate,
    /// <summary>max_attempts was 0: straight to the dead-letter queue.</summary>
    DeadLettered,
    BudgetExhausted,
    QueueFull,
    /// <summary>The task id is pending or in flight under another idempotency key.</summary>
    AlreadyQueued,
    /// <summary>The task id is in the dead-letter queue.</summary>
    InDeadLetter,
}

public sealed record EnqueueOutcome(EnqueueStatus Status, RetryTask? Task, BudgetUse? Budget);

public sealed record ClaimCommand(string Worker, int Max, TimeSpan Lease, string? Agent, string? Component, DateTimeOffset Now, string LeaseSeed, string EventIdBase, QueueLimits Limits, RetryChannels Channels);

/// <summary>Tasks handed out (each with its lease), expired leases returned to the queue first, and tasks dead-lettered on the way.</summary>
public sealed record ClaimOutcome(IReadOnlyList<RetryTask> Tasks, int Reaped, int DeadLettered);

/// <summary>Returns a claimed task to the queue until <see cref="Until"/> without counting the delivery (an open breaker).</summary>
public sealed record Deferral(string TaskId, string Lease, DateTimeOffset Until, string Note);

public sealed record CompleteCommand(
    string TaskId,
    string Lease,
    RetryOutcome Outcome,
    string? ErrorType,
    string? Error,
    string? Signature,
    int ExpectedAttempt,
    string? Component,
    long NextDelayMs,
    BudgetCheck? Budget,
    DateTimeOffset Now,
    string EventId,
    QueueLimits Limits,
    RetryChannels Channels);

public enum LeaseStatus
{
    Ok,
    /// <summary>No such task in the queue (never enqueued, completed, dead-lettered or purged).</summary>
    Missing,
    /// <summary>The task is not leased with this token (another worker's lease, or an earlier one of this task).</summary>
    Foreign,
    /// <summary>The lease ran out; the task was or will be handed to another worker.</summary>
    Expired,
    /// <summary>The task changed since it was read (another attempt); read and try again.</summary>
    Changed,
}

public enum CompletionResult { Succeeded, Rescheduled, DeadLettered }

public sealed record CompleteOutcome(LeaseStatus Status, CompletionResult? Result, RetryTask? Task, BudgetUse? Budget);

public sealed record ExtendOutcome(LeaseStatus Status, RetryTask? Task);

public sealed record DeadLetterQuery(string? Agent, string? Component, int Limit, string? Cursor);

public sealed record ReplayCommand(
    string? TaskId,
    string? Agent,
    string? Component,
    bool ResetAttempts,
    bool DryRun,
    int Max,
    int RatePerMinute,
    DateTimeOffset Now,
    string EventIdBase,
    QueueLimits Limits,
    RetryChannels Channels);

/// <summary>Tasks returned to the queue (or that would be, for a dry run); <see cref="RateLimited"/> matched but were held back by the replay rate.</summary>
public sealed record ReplayOutcome(IReadOnlyList<string> TaskIds, int RateLimited, long RateRemaining, bool More);

public sealed record PurgeCommand(DateTimeOffset? OlderThan, IReadOnlyList<string>? TaskIds, int Max, DateTimeOffset Now);

public sealed record PurgeOutcome(int Purged, bool More);

/// <summary>Queue figures for one scope (everything, one agent, one component).</summary>
public sealed record QueueCounts
{
    public long Pending { get; init; }
    public long DueNow { get; init; }
    /// <summary>False when a filtered due count stopped at the scan limit.</summary>
    public bool DueNowExact { get; init; } = true;
    public long InFlight { get; init; }
    public long DeadLetters { get; init; }
    /// <summary>Dead letters dropped by the age and count caps.</summary>
    public long DeadLettersTrimmed { get; init; }
    /// <summary>Tasks ever enqueued (original tasks).</summary>
    public long Tasks { get; init; }
    /// <summary>Times a task was handed to a worker.</summary>
    public long Deliveries { get; init; }
    public long Succeeded { get; init; }
    public long DeadLettered { get; init; }
    /// <summary>Retries enqueued for the component in the budget window (only with a component).</summary>
    public long RecentRetries { get; init; }
}

public sealed record SweepOutcome(int Requeued, int DeadLettered, int Trimmed);
