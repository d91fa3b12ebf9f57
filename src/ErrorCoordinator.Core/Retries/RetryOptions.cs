using System.ComponentModel.DataAnnotations;

namespace ErrorCoordinator.Core.Retries;

/// <summary>Every retry-queue default, in one place.</summary>
public static class RetryDefaults
{
    public const int MaxAttempts = 3;
    public const int MaxAttemptsLimit = 100;
    public const long BaseDelayMs = 1000;
    public const long MaxDelayMs = 300_000;
    /// <summary>The longest delay a caller may ask for: one day.</summary>
    public const long MaxDelayLimitMs = 86_400_000;
    public const int LeaseSeconds = 30;
    public const int MaxLeaseSeconds = 3600;
    public const int ClaimMax = 10;
    public const int ClaimMaxLimit = 100;
    public const int MaxPayloadBytes = 64 * 1024;
    public const double BudgetRatio = 0.1;
    public const int BudgetMinRetriesPerMinute = 10;
    public static readonly TimeSpan BudgetWindow = TimeSpan.FromMinutes(1);
    public const int PoisonDistinctWorkers = 3;
    public static readonly TimeSpan DeadLetterMaxAge = TimeSpan.FromDays(30);
    public const int DeadLetterMaxCount = 10_000;
    public const int MaxPendingTasks = 1_000_000;
    public const int HistoryPerTask = 50;
    public const int AuditStreamMaxLength = 100_000;
    public const int ClaimScanLimit = 1000;
    public const int ReapBatch = 1000;
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);
    public const int ReplayMaxPerCall = 100;
    public const int ReplayPerMinute = 1000;
    public const int PurgeMaxPerCall = 10_000;
    public const int BreakerDeferSeconds = 60;
    public static readonly TimeSpan OutcomeCountCacheTtl = TimeSpan.FromSeconds(1);
}

/// <summary>Retry queue configuration. Bound from <c>ErrorCoordinator:Retries</c>, validated at start.</summary>
public sealed class RetryOptions
{
    public const string Section = "ErrorCoordinator:Retries";

    /// <summary>max_attempts when the caller gives none.</summary>
    [Range(0, RetryDefaults.MaxAttemptsLimit)] public int DefaultMaxAttempts { get; set; } = RetryDefaults.MaxAttempts;

    [Range(0, RetryDefaults.MaxDelayLimitMs)] public long DefaultBaseDelayMs { get; set; } = RetryDefaults.BaseDelayMs;

    [Range(1, RetryDefaults.MaxDelayLimitMs)] public long DefaultMaxDelayMs { get; set; } = RetryDefaults.MaxDelayMs;

    [Range(1, RetryDefaults.MaxLeaseSeconds)] public int DefaultLeaseSeconds { get; set; } = RetryDefaults.LeaseSeconds;

    /// <summary>Largest payload accepted, in UTF-8 bytes.</summary>
    [Range(1024, 1024 * 1024)] public int MaxPayloadBytes { get; set; } = RetryDefaults.MaxPayloadBytes;

    /// <summary>Retries enqueued per component in the last minute may be at most this share of the component's outcomes (Google SRE: 10%).</summary>
    [Range(0.0, 1.0)] public double BudgetRatio { get; set; } = RetryDefaults.BudgetRatio;

    /// <summary>Retries per component per minute always allowed, whatever the ratio, so a quiet component can still retry (as Finagle's minimum retries).</summary>
    [Range(0, 1_000_000)] public int BudgetMinRetriesPerMinute { get; set; } = RetryDefaults.BudgetMinRetriesPerMinute;

    /// <summary>A task that failed with the same error signature on this many distinct workers is a poison pill.</summary>
    [Range(2, 100)] public int PoisonDistinctWorkers { get; set; } = RetryDefaults.PoisonDistinctWorkers;

    /// <summary>Dead letters older than this are trimmed (counted in retry_stats).</summary>
    public TimeSpan DeadLetterMaxAge { get; set; } = RetryDefaults.DeadLetterMaxAge;

    /// <summary>The dead-letter queue keeps at most this many entries; the oldest are trimmed (counted in retry_stats).</summary>
    [Range(1, 10_000_000)] public int DeadLetterMaxCount { get; set; } = RetryDefaults.DeadLetterMaxCount;

    /// <summary>Tasks pending or in flight at most; enqueue is refused (queue_full) beyond.</summary>
    [Range(1, 100_000_000)] public int MaxPendingTasks { get; set; } = RetryDefaults.MaxPendingTasks;

    /// <summary>History entries kept per task (oldest dropped first).</summary>
    [Range(5, 1000)] public int HistoryPerTask { get; set; } = RetryDefaults.HistoryPerTask;

    [Range(100, 10_000_000)] public int AuditStreamMaxLength { get; set; } = RetryDefaults.AuditStreamMaxLength;

    /// <summary>A claim filtered by agent or component looks at most this many due tasks.</summary>
    [Range(10, 100_000)] public int ClaimScanLimit { get; set; } = RetryDefaults.ClaimScanLimit;

    /// <summary>Expired leases returned to the queue per claim or sweep, at most.</summary>
    [Range(1, 100_000)] public int ReapBatch { get; set; } = RetryDefaults.ReapBatch;

    /// <summary>How often the background sweep returns expired leases and trims dead letters when nobody claims.</summary>
    public TimeSpan SweepInterval { get; set; } = RetryDefaults.SweepInterval;

    /// <summary>Tasks one replay_dead_letter call moves at most.</summary>
    [Range(1, 10_000)] public int ReplayMaxPerCall { get; set; } = RetryDefaults.ReplayMaxPerCall;

    /// <summary>Dead letters replayed fleet-wide per minute at most.</summary>
    [Range(1, 1_000_000)] public int ReplayPerMinute { get; set; } = RetryDefaults.ReplayPerMinute;

    /// <summary>How long a task is deferred behind an isolated breaker that has no end time.</summary>
    [Range(1, 86_400)] public int BreakerDeferSeconds { get; set; } = RetryDefaults.BreakerDeferSeconds;

    /// <summary>How long a component's outcome count (the budget's denominator) is reused by this process; zero: count on every enqueue.</summary>
    public TimeSpan OutcomeCountCacheTtl { get; set; } = RetryDefaults.OutcomeCountCacheTtl;

    public QueueLimits ToLimits() => new(DeadLetterMaxAge, DeadLetterMaxCount, MaxPendingTasks, HistoryPerTask, AuditStreamMaxLength,
        PoisonDistinctWorkers, ClaimScanLimit, ReapBatch);

    /// <summary>Rules the data annotations cannot express.</summary>
    public bool IsConsistent() =>
        DefaultBaseDelayMs <= DefaultMaxDelayMs && DeadLetterMaxAge > TimeSpan.Zero && SweepInterval > TimeSpan.Zero && OutcomeCountCacheTtl >= TimeSpan.Zero && OutcomeCountCacheTtl <= TimeSpan.FromMinutes(1);
}
