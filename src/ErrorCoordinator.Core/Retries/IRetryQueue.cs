using ErrorCoordinator.Core.Common;

namespace ErrorCoordinator.Core.Retries;

/// <summary>
/// Storage port of the leased retry queue: due times in a sorted set, leased tasks in an in-flight set scored by lease
/// deadline, dead letters capped by age and count. Every state change is one atomic step (one Lua script in Redis);
/// both implementations pass the same contract suite. Events (retry_scheduled, retry_success, retry_exhausted) are
/// published and appended to the audit stream inside the same step.
/// </summary>
public interface IRetryQueue
{
    /// <summary>Adds a task (idempotent on its key) after checking the queue cap and the component's retry budget.</summary>
    Task<EnqueueOutcome> EnqueueAsync(EnqueueCommand command, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns expired leases to the queue (the reaper), then leases up to <see cref="ClaimCommand.Max"/> due tasks in due order
    /// and counts a delivery on each; a task already delivered max_attempts times is dead-lettered instead. The cost does not
    /// depend on how many tasks are not yet due.
    /// </summary>
    Task<ClaimOutcome> ClaimAsync(ClaimCommand command, CancellationToken cancellationToken = default);

    /// <summary>Puts leased tasks back until a later time, undoing their delivery count; a lease that no longer matches is skipped.</summary>
    Task<int> DeferAsync(IReadOnlyList<Deferral> deferrals, DateTimeOffset now, int historyPerTask, CancellationToken cancellationToken = default);

    /// <summary>The task (pending, in flight or dead-lettered) with its history; null when unknown.</summary>
    Task<RetryTask?> GetAsync(string taskId, CancellationToken cancellationToken = default);

    /// <summary>Applies a worker's outcome if its lease is current: success, next attempt (budget checked) or dead letter.</summary>
    Task<CompleteOutcome> CompleteAsync(CompleteCommand command, CancellationToken cancellationToken = default);

    /// <summary>Moves a current lease's deadline to <paramref name="now"/> + <paramref name="extension"/>.</summary>
    Task<ExtendOutcome> ExtendAsync(string taskId, string lease, TimeSpan extension, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Dead letters, newest first, with payload and full history.</summary>
    Task<Page<RetryTask>> ListDeadLettersAsync(DeadLetterQuery query, CancellationToken cancellationToken = default);

    /// <summary>Moves dead letters back to the queue (due now), within the fleet-wide replay rate; a dry run moves nothing and takes no rate.</summary>
    Task<ReplayOutcome> ReplayAsync(ReplayCommand command, CancellationToken cancellationToken = default);

    /// <summary>Deletes dead letters by age or by id.</summary>
    Task<PurgeOutcome> PurgeAsync(PurgeCommand command, CancellationToken cancellationToken = default);

    /// <summary>Counts for everything, one agent or one component.</summary>
    Task<QueueCounts> CountAsync(string? agent, string? component, DateTimeOffset now, TimeSpan budgetWindow, CancellationToken cancellationToken = default);

    /// <summary>Returns expired leases to the queue and trims dead letters, for when nobody claims.</summary>
    Task<SweepOutcome> SweepAsync(DateTimeOffset now, string eventIdBase, QueueLimits limits, RetryChannels channels, CancellationToken cancellationToken = default);

    /// <summary>The most recent queue events (JSON, as published), newest first.</summary>
    Task<IReadOnlyList<string>> ReadAuditAsync(int count, CancellationToken cancellationToken = default);
}
