using System.ComponentModel;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Retries;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006 // Parameter names are snake_case: they are the tool's wire names.

namespace ErrorCoordinator.Mcp.Tools;

/// <summary>The fleet's shared retry queue: leased delivery, backoff with jitter, retry budgets and a dead-letter queue.</summary>
[McpServerToolType]
public sealed class RetryTools(RetryService retries)
{
    // Not idempotent as MCP means it: the idempotency key dedupes only while the task is queued; once it has left the
    // queue (or the budget has room again) the same call enqueues again.
    [McpServerTool(Name = "enqueue_retry", Title = "Queue a failed task for retry", UseStructuredContent = true, OutputSchemaType = typeof(EnqueueRetryOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Hand a failed task to the fleet's shared retry queue instead of retrying it yourself. It becomes due after a backoff delay " +
                 "and any worker picks it up with claim_retries. Refused (rejected: budget_exhausted) when the component's retries in the last minute " +
                 "would exceed 10% of its outcomes: then fail the task upward instead. Calling again with the same idempotency_key while the task is " +
                 "queued returns the existing entry (duplicate: true) and adds nothing.")]
    public Task<CallToolResult> EnqueueRetry(
        [Description("Id of the failed task, unique in the queue, e.g. 'build-4711'. At most 200 characters.")] string task_id,
        [Description("The agent that ran the task and failed.")] string agent,
        [Description("Error type or exception class of the failure, e.g. TimeoutError.")] string error_type,
        [Description("The error message (at most 16 KiB; secrets are removed).")] string message,
        [Description("The dependency or subsystem that failed, e.g. 'payments-api'. The retry budget and breaker checks are per component.")] string component,
        [Description("Opaque JSON text the worker needs to run the task again (at most 64 KiB), e.g. {\"order_id\":42}. Returned by claim_retries.")] string? payload = null,
        [Description("Retries allowed, 0 to 100. Default 3. 0 sends the task straight to the dead-letter queue.")] int? max_attempts = null,
        [Description("Base backoff delay in milliseconds, 0 to 86400000. Default 1000.")] long? base_delay_ms = null,
        [Description("Cap of the backoff delay in milliseconds, at least base_delay_ms. Default 300000 (5 minutes).")] long? max_delay_ms = null,
        [Description("exponential_full_jitter (default): uniform(0, min(cap, base*2^n)) | decorrelated_jitter: min(cap, uniform(base, prev*3)) | exponential | constant.")] string? backoff = null,
        [Description("Deduplicates enqueues: the same key while the task is pending or in flight returns the existing entry. Default: task_id.")] string? idempotency_key = null,
        CancellationToken cancellationToken = default)
    {
        var request = new RetryRequest
        {
            TaskId = task_id, Agent = agent, Component = component, ErrorType = error_type, Message = message, Payload = payload,
            MaxAttempts = max_attempts, BaseDelayMs = base_delay_ms, MaxDelayMs = max_delay_ms, Backoff = backoff, IdempotencyKey = idempotency_key,
        };
        return ToolCall.RunAsync(
            async () => EnqueueRetryOutput.From(task_id?.Trim() ?? "", await retries.EnqueueAsync(request, cancellationToken)),
            r => $"{r.TaskId}: {r.Status}. {r.Detail}");
    }

    [McpServerTool(Name = "claim_retries", Title = "Claim due retries", UseStructuredContent = true, OutputSchemaType = typeof(ClaimRetriesOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Lease up to max due tasks from the retry queue to run them. Each comes with a lease token and its delivery count; finish each " +
                 "with complete_retry before lease_seconds run out (or heartbeat with extend_lease), otherwise it goes back to the queue for another worker. " +
                 "Tasks whose component breaker is open are not handed out: they wait for the breaker's retry-after and are counted in 'deferred'.")]
    public Task<CallToolResult> ClaimRetries(
        [Description("Your worker id (agent name plus instance), recorded on the lease and in the task's history.")] string worker,
        [Description("Most tasks to lease, 1 to 100. Default 10.")] int? max = null,
        [Description("Lease length in seconds, 1 to 3600. Default 30.")] int? lease_seconds = null,
        [Description("Only tasks enqueued by this agent.")] string? agent = null,
        [Description("Only tasks of this component.")] string? component = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var r = await retries.ClaimAsync(worker, max, lease_seconds, agent, component, cancellationToken);
                return new ClaimRetriesOutput(r.Tasks.Select(ClaimedTaskOutput.From).ToList(), r.Deferred, r.DeferredComponents, r.Reaped, r.DeadLettered);
            },
            r => (r.Tasks.Count == 0 ? "No due tasks." : $"Leased {ToolCall.Plural(r.Tasks.Count, "task")}:\n" +
                     string.Join("\n", r.Tasks.Select(t => $"- {t.TaskId} attempt {t.Attempt}/{t.MaxAttempts}, delivery {t.DeliveryCount}, lease {t.Lease} until {t.LeaseExpiresAt:u}"))) +
                 (r.Deferred > 0 ? $"\n{r.Deferred} deferred behind open breakers ({string.Join(", ", r.DeferredComponents)})." : ""));

    [McpServerTool(Name = "complete_retry", Title = "Report a retry's outcome", UseStructuredContent = true, OutputSchemaType = typeof(CompleteRetryOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Report the outcome of a task you claimed. succeeded: done. failed: the next attempt is scheduled with backoff, or the task is " +
                 "dead-lettered when its attempts are used up, when the same error failed on 3 distinct workers (poison pill) or when the retry budget is spent. " +
                 "fatal: the task can never succeed; it is dead-lettered at once. A stale or foreign lease is refused.")]
    public Task<CallToolResult> CompleteRetry(
        [Description("The task id from claim_retries.")] string task_id,
        [Description("The lease token from claim_retries.")] string lease,
        [Description("succeeded | failed | fatal")] string outcome,
        [Description("For failed/fatal: the error message of this attempt (at most 16 KiB). Default: the original message.")] string? error = null,
        [Description("For failed: the error type of this attempt. Default: the original error type.")] string? error_type = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () => CompleteRetryOutput.From(await retries.CompleteAsync(task_id, lease, outcome, error, error_type, cancellationToken)),
            r => r.Result switch
            {
                "succeeded" => $"{r.TaskId}: succeeded on attempt {r.Attempt}.",
                "rescheduled" => $"{r.TaskId}: attempt {r.Attempt} scheduled for {r.RetryAt:u}.",
                _ => $"{r.TaskId}: dead-lettered ({r.Reason}: {r.Detail}).",
            });

    [McpServerTool(Name = "extend_lease", Title = "Extend a retry lease", UseStructuredContent = true, OutputSchemaType = typeof(ExtendLeaseOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Heartbeat for a long-running task: moves your lease's deadline to now + seconds so the task is not handed to another worker. " +
                 "Refused when the lease is not the current one or has already expired.")]
    public Task<CallToolResult> ExtendLease(
        [Description("The task id from claim_retries.")] string task_id,
        [Description("The lease token from claim_retries.")] string lease,
        [Description("New lease length from now, in seconds, 1 to 3600.")] int seconds,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var t = await retries.ExtendLeaseAsync(task_id, lease, seconds, cancellationToken);
                return new ExtendLeaseOutput(t.TaskId, t.Lease!, t.LeaseUntil!.Value);
            },
            r => $"{r.TaskId}: lease extended until {r.LeaseExpiresAt:u}.");

    [McpServerTool(Name = "list_dead_letters", Title = "List dead letters", UseStructuredContent = true, OutputSchemaType = typeof(ListDeadLettersOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("List tasks in the dead-letter queue (retries exhausted, poison pills, fatal errors, budget refusals), most recent first, each " +
                 "with its payload and full history of attempts and errors. Paged. Use it for manual intervention, then replay_dead_letter or purge_dead_letters.")]
    public Task<CallToolResult> ListDeadLetters(
        [Description("Only dead letters enqueued by this agent.")] string? agent = null,
        [Description("Only dead letters of this component.")] string? component = null,
        [Description("Page size, 1 to 500. Default 50.")] int limit = Defaults.DefaultPageSize,
        [Description("next_cursor from the previous page.")] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var page = await retries.ListDeadLettersAsync(agent, component, limit, cursor, cancellationToken);
                return new ListDeadLettersOutput(page.Items.Select(DeadLetterOutput.From).ToList(), page.NextCursor);
            },
            r => r.DeadLetters.Count == 0 ? "No dead letters." :
                $"{ToolCall.Plural(r.DeadLetters.Count, "dead letter")}{(r.NextCursor is null ? "" : " (more: pass next_cursor)")}:\n" +
                string.Join("\n", r.DeadLetters.Take(20).Select(d => $"- {d.TaskId} [{d.Component}] {d.Reason}: {d.Detail}")));

    [McpServerTool(Name = "replay_dead_letter", Title = "Replay dead letters", UseStructuredContent = true, OutputSchemaType = typeof(ReplayDeadLetterOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Return dead letters to the retry queue, due now: one by task_id, or every one matching agent and/or component (oldest first, " +
                 "at most limit per call, and rate-limited fleet-wide per minute). dry_run: true lists what would move without moving anything.")]
    public Task<CallToolResult> ReplayDeadLetter(
        [Description("The dead letter to replay. Leave out to replay by agent/component.")] string? task_id = null,
        [Description("Replay dead letters enqueued by this agent.")] string? agent = null,
        [Description("Replay dead letters of this component.")] string? component = null,
        [Description("Start the attempts (and delivery count) again from 1. Default true; false keeps them and allows one more delivery.")] bool reset_attempts = true,
        [Description("Only report what would move. Default false.")] bool dry_run = false,
        [Description("Most dead letters to move in this call, 1 to 100. Default 100.")] int? limit = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var r = await retries.ReplayAsync(task_id, agent, component, reset_attempts, dry_run, limit, cancellationToken);
                return new ReplayDeadLetterOutput(r.TaskIds, r.TaskIds.Count, dry_run, r.RateLimited, r.RateRemaining, r.More);
            },
            r => $"{(r.DryRun ? "Would replay" : "Replayed")} {ToolCall.Plural(r.Count, "dead letter")}" +
                 (r.RateLimited > 0 ? $"; {r.RateLimited} held back by the replay rate" : "") + (r.More ? "; more match, call again." : "."));

    [McpServerTool(Name = "purge_dead_letters", Title = "Purge dead letters", UseStructuredContent = true, OutputSchemaType = typeof(PurgeDeadLettersOutput),
        ReadOnly = false, Idempotent = true, Destructive = true, OpenWorld = false)]
    [Description("Permanently delete dead letters: those dead-lettered before older_than, or the given task_ids. Give exactly one of the two. Cannot be undone.")]
    public Task<CallToolResult> PurgeDeadLetters(
        [Description("Delete dead letters dead-lettered before this ISO-8601 time, e.g. 2026-12-01T00:00:00Z (at most 10,000 per call).")] string? older_than = null,
        [Description("Delete these dead letters (at most 500 ids).")] string[]? task_ids = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var r = await retries.PurgeAsync(ToolCall.Timestamp("older_than", older_than), task_ids, cancellationToken);
                return new PurgeDeadLettersOutput(r.Purged, r.More);
            },
            r => $"Purged {ToolCall.Plural(r.Purged, "dead letter")}{(r.More ? "; more are older, call again." : ".")}");

    [McpServerTool(Name = "retry_stats", Title = "Retry queue statistics", UseStructuredContent = true, OutputSchemaType = typeof(RetryStatsOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Retry queue figures for the whole fleet, one agent or one component: pending, due now, in flight, dead-letter size and trims, " +
                 "success rate of retried tasks, retry amplification (runs per original task) and, for a component, its current retry-budget use.")]
    public Task<CallToolResult> RetryStats(
        [Description("Only tasks enqueued by this agent.")] string? agent = null,
        [Description("Only tasks of this component (adds its retry budget).")] string? component = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () => RetryStatsOutput.From(await retries.StatsAsync(agent, component, cancellationToken)),
            r => $"{r.Pending} pending ({r.DueNow} due now), {r.InFlight} in flight, {r.DeadLetters} dead letters ({r.DeadLettersTrimmed} trimmed). " +
                 $"Success rate {(r.SuccessRate is { } s ? s.ToString("P0", System.Globalization.CultureInfo.InvariantCulture) : "n/a")}, amplification " +
                 $"{(r.RetryAmplification is { } a ? a.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "n/a")}" +
                 (r.Budget is { } b ? $"; budget {b.RetriesLastMinute}/{b.Allowed} retries in the last minute." : "."));
}
