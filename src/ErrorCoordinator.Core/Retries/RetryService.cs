using System.Security.Cryptography;
using System.Text.Json;
using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Scrubbing;
using ErrorCoordinator.Core.Signatures;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Retries;

/// <summary>What an agent hands to the retry queue with <c>enqueue_retry</c>.</summary>
public sealed record RetryRequest
{
    public required string TaskId { get; init; }
    public required string Agent { get; init; }
    public required string Component { get; init; }
    public required string ErrorType { get; init; }
    public required string Message { get; init; }
    public string? Payload { get; init; }
    public int? MaxAttempts { get; init; }
    public long? BaseDelayMs { get; init; }
    public long? MaxDelayMs { get; init; }
    public string? Backoff { get; init; }
    public string? IdempotencyKey { get; init; }
}

public sealed record EnqueueResult(EnqueueStatus Status, RetryTask? Task, BudgetUse? Budget, string Detail)
{
    public bool Duplicate => Status == EnqueueStatus.Duplicate;
    public bool DeadLettered => Status == EnqueueStatus.DeadLettered;
    /// <summary><c>budget_exhausted</c> or <c>queue_full</c> when the retry was refused; null when it was taken.</summary>
    public string? Rejected => Status switch
    {
        EnqueueStatus.BudgetExhausted => "budget_exhausted",
        EnqueueStatus.QueueFull => "queue_full",
        _ => null,
    };
}

public sealed record ClaimResult(IReadOnlyList<RetryTask> Tasks, int Deferred, IReadOnlyList<string> DeferredComponents, int Reaped, int DeadLettered);

public sealed record CompleteResult(CompletionResult Result, RetryTask Task, BudgetUse? Budget);

public sealed record RetryStats(
    string? Agent,
    string? Component,
    QueueCounts Counts,
    double? SuccessRate,
    double? Amplification,
    BudgetUse? Budget);

/// <summary>
/// The leased retry queue's rules: validation (every message names the field and the limit), backoff with jitter,
/// the fleet-wide retry budget per component (outcomes counted through <see cref="BreakerService"/> and the error store,
/// checked atomically with the enqueue), poison pills, breaker deferral on claim, replay and purge of dead letters.
/// </summary>
public sealed class RetryService(
    IRetryQueue queue,
    BreakerService breakers,
    ErrorReportingService errors,
    SecretScrubber scrubber,
    ChannelNames channels,
    IOptions<RetryOptions> options,
    IOptions<LimitsOptions> limits,
    IRandomSource random,
    TimeProvider time,
    ILogger<RetryService> logger)
{
    /// <summary>Error reports counted per budget check at most (pages of the event index); beyond, the count stops.</summary>
    public const int MaxCountedErrorReports = 2000;
    public const int MaxPurgeIds = 500;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long Count, DateTimeOffset At)> _outcomes = new(StringComparer.Ordinal);

    private RetryOptions Options => options.Value;
    private int MaxName => limits.Value.MaxNameLength;

    public RetryChannels Channels => new(channels.Errors(RetryEventTypes.Scheduled), channels.Errors(RetryEventTypes.Success), channels.Errors(RetryEventTypes.Exhausted));

    /// <summary>The seed signature of a failure: error type + message with numbers and UUIDs as placeholders.</summary>
    public static string Signature(string errorType, string message) =>
        GroupIds.FromParts("seed", errorType, SeedSignatureEngine.Normalize(message));

    public async Task<EnqueueResult> EnqueueAsync(RetryRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var taskId = Name("task_id", request.TaskId);
        var agent = Name("agent", request.Agent);
        var component = Name("component", request.Component);
        var errorType = Name("error_type", request.ErrorType);
        if (string.IsNullOrWhiteSpace(request.Message)) throw ValidationException.Required("message");
        FailureValidator.CheckBytes("message", request.Message, limits.Value.MaxMessageBytes);
        FailureValidator.CheckText("message", request.Message);
        var payload = request.Payload;
        if (payload is not null)
        {
            FailureValidator.CheckBytes("payload", payload, Options.MaxPayloadBytes);
            if (!IsJson(payload))
                throw new ValidationException("payload", "'payload' must be a JSON text (an object, array, string or number as JSON), e.g. {\"order_id\":42}.");
        }
        var maxAttempts = request.MaxAttempts ?? Options.DefaultMaxAttempts;
        if (maxAttempts is < 0 or > RetryDefaults.MaxAttemptsLimit)
            throw new ValidationException("max_attempts", $"'max_attempts' must be between 0 and {RetryDefaults.MaxAttemptsLimit}; got {maxAttempts}.");
        var baseDelay = request.BaseDelayMs ?? Options.DefaultBaseDelayMs;
        if (baseDelay is < 0 or > RetryDefaults.MaxDelayLimitMs)
            throw new ValidationException("base_delay_ms", $"'base_delay_ms' must be between 0 and {RetryDefaults.MaxDelayLimitMs} (one day); got {baseDelay}.");
        var maxDelay = request.MaxDelayMs ?? Math.Max(Options.DefaultMaxDelayMs, baseDelay);
        if (maxDelay is < 1 or > RetryDefaults.MaxDelayLimitMs)
            throw new ValidationException("max_delay_ms", $"'max_delay_ms' must be between 1 and {RetryDefaults.MaxDelayLimitMs} (one day); got {maxDelay}.");
        if (maxDelay < baseDelay)
            throw new ValidationException("max_delay_ms", $"'max_delay_ms' ({maxDelay}) must be at least 'base_delay_ms' ({baseDelay}).");
        if (!Backoff.TryParse(request.Backoff, out var backoff))
            throw new ValidationException("backoff", $"'backoff' must be one of {string.Join(", ", Backoff.Names)}; got '{request.Backoff}'.");
        var key = request.IdempotencyKey is null ? taskId : Name("idempotency_key", request.IdempotencyKey);

        var message = scrubber.Scrub(request.Message)!;
        var now = time.GetUtcNow();
        var outcomes = await CountOutcomesAsync(component, now, cancellationToken);
        var delay = Backoff.DelayMs(backoff, 0, baseDelay, maxDelay, 0, random);
        var task = new RetryTask
        {
            TaskId = taskId, Agent = agent, Component = component, Payload = payload, ErrorType = errorType, Message = message,
            Signature = Signature(errorType, message), MaxAttempts = maxAttempts, BaseDelayMs = baseDelay, MaxDelayMs = maxDelay,
            Backoff = backoff, IdempotencyKey = key, Attempt = 1, PrevDelayMs = delay, State = RetryTaskState.Pending,
            EnqueuedAt = now, RetryAt = now.AddMilliseconds(delay),
            FailureWorkers = new Dictionary<string, IReadOnlyList<string>> { [Signature(errorType, message)] = [agent] },
        };
        var outcome = await queue.EnqueueAsync(new EnqueueCommand(task, Budget(outcomes), now, NewEventId(now), Options.ToLimits(), Channels), cancellationToken);
        switch (outcome.Status)
        {
            case EnqueueStatus.AlreadyQueued:
                throw new ValidationException("task_id", $"Task '{taskId}' is already in the retry queue ({outcome.Task?.State.ToString().ToLowerInvariant()}) under another idempotency key; " +
                    "wait for it, or report a claimed task's outcome with complete_retry.");
            case EnqueueStatus.InDeadLetter:
                throw new ValidationException("task_id", $"Task '{taskId}' is in the dead-letter queue; return it with replay_dead_letter or remove it with purge_dead_letters first.");
            case EnqueueStatus.BudgetExhausted:
                Log.BudgetExhausted(logger, component, outcome.Budget?.Retries ?? 0, outcome.Budget?.Allowed ?? 0);
                break;
            case EnqueueStatus.DeadLettered:
                Log.DeadLettered(logger, taskId, DeadLetterReasons.AttemptsExhausted);
                break;
        }
        return new EnqueueResult(outcome.Status, outcome.Task, outcome.Budget, Describe(outcome, component, Options.BudgetMinRetriesPerMinute));
    }

    public async Task<ClaimResult> ClaimAsync(string worker, int? max = null, int? leaseSeconds = null, string? agent = null, string? component = null, CancellationToken cancellationToken = default)
    {
        worker = Name("worker", worker);
        var n = max ?? RetryDefaults.ClaimMax;
        if (n is < 1 or > RetryDefaults.ClaimMaxLimit)
            throw new ValidationException("max", $"'max' must be between 1 and {RetryDefaults.ClaimMaxLimit}; got {n}.");
        var lease = LeaseSeconds("lease_seconds", leaseSeconds ?? Options.DefaultLeaseSeconds);
        agent = OptionalName("agent", agent);
        component = OptionalName("component", component);

        var now = time.GetUtcNow();
        var handed = new List<RetryTask>(n);
        var views = new Dictionary<string, BreakerView>(StringComparer.Ordinal);
        var blocked = new List<string>();
        int deferred = 0, reaped = 0, dead = 0;
        // A task whose component breaker is open (or isolated) is not handed out: it waits for the breaker's retry-after.
        // When a round deferred tasks, claim again for the free slots (at most three rounds), so tasks behind an open
        // breaker do not hide due tasks of other components.
        for (var round = 0; round < 3 && handed.Count < n; round++)
        {
            var claim = await queue.ClaimAsync(new ClaimCommand(worker, n - handed.Count, TimeSpan.FromSeconds(lease), agent, component, now,
                Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), NewEventId(now), Options.ToLimits(), Channels), cancellationToken);
            reaped += claim.Reaped;
            dead += claim.DeadLettered;
            if (claim.Tasks.Count == 0) break;

            var unknown = claim.Tasks.Select(t => t.Component).Distinct(StringComparer.Ordinal).Where(c => !views.ContainsKey(c)).ToList();
            foreach (var view in await Task.WhenAll(unknown.Select(c => breakers.GetAsync(c, cancellationToken)))) views[view.Component] = view;

            var deferrals = new List<Deferral>();
            foreach (var t in claim.Tasks)
            {
                var breaker = views[t.Component];
                if (breaker.State is not (BreakerState.Open or BreakerState.Isolated))
                {
                    handed.Add(t);
                    continue;
                }
                if (!blocked.Contains(t.Component)) blocked.Add(t.Component);
                var until = breaker.RetryAfterMs(now) is { } ms ? now.AddMilliseconds(Math.Max(ms, 1)) : now.AddSeconds(Options.BreakerDeferSeconds);
                deferrals.Add(new Deferral(t.TaskId, t.Lease!, until, $"breaker {t.Component} is {breaker.State.ToString().ToLowerInvariant()}"));
            }
            if (deferrals.Count == 0) break;
            deferred += await queue.DeferAsync(deferrals, now, Options.HistoryPerTask, cancellationToken);
        }
        Log.Claimed(logger, worker, handed.Count, deferred, reaped);
        return new ClaimResult(handed, deferred, blocked, reaped, dead);
    }

    public async Task<CompleteResult> CompleteAsync(string taskId, string lease, string outcome, string? error = null, string? errorType = null, CancellationToken cancellationToken = default)
    {
        taskId = Name("task_id", taskId);
        lease = Lease(lease);
        var parsed = outcome?.Trim().ToLowerInvariant() switch
        {
            "succeeded" => RetryOutcome.Succeeded,
            "failed" => RetryOutcome.Failed,
            "fatal" => RetryOutcome.Fatal,
            _ => throw new ValidationException("outcome", $"'outcome' must be one of succeeded, failed, fatal; got '{outcome}'."),
        };
        if (error is not null)
        {
            FailureValidator.CheckBytes("error", error, limits.Value.MaxMessageBytes);
            FailureValidator.CheckText("error", error);
            error = scrubber.Scrub(error);
        }
        errorType = OptionalName("error_type", errorType);

        for (var tries = 0; ; tries++)
        {
            var now = time.GetUtcNow();
            CompleteCommand command;
            if (parsed == RetryOutcome.Failed)
            {
                // The next delay, the signature and the budget depend on the task: read it, then let the store apply
                // the outcome only if the task is still at the attempt that was read (and the lease is still current).
                var task = await queue.GetAsync(taskId, cancellationToken) ?? throw Missing(taskId);
                if (task.Lease != lease) throw Refused(taskId, task, LeaseStatus.Foreign);
                var type = errorType ?? task.ErrorType;
                var text = string.IsNullOrWhiteSpace(error) ? task.Message : error;
                var delay = Backoff.DelayMs(task.Backoff, task.Attempt, task.BaseDelayMs, task.MaxDelayMs, task.PrevDelayMs, random);
                var outcomes = await CountOutcomesAsync(task.Component, now, cancellationToken);
                command = new CompleteCommand(taskId, lease, parsed, type, text, Signature(type, text), task.Attempt, task.Component, delay, Budget(outcomes),
                    now, NewEventId(now), Options.ToLimits(), Channels);
            }
            else
            {
                command = new CompleteCommand(taskId, lease, parsed, errorType, error, null, -1, null, 0, null, now, NewEventId(now), Options.ToLimits(), Channels);
            }

            var result = await queue.CompleteAsync(command, cancellationToken);
            switch (result.Status)
            {
                case LeaseStatus.Ok:
                    if (result.Result == CompletionResult.DeadLettered) Log.DeadLettered(logger, taskId, result.Task!.DeadReason ?? "");
                    return new CompleteResult(result.Result!.Value, result.Task!, result.Budget);
                case LeaseStatus.Changed when tries < 3:
                    continue;
                case LeaseStatus.Missing:
                    throw Missing(taskId);
                default:
                    throw Refused(taskId, result.Task, result.Status);
            }
        }
    }

    public async Task<RetryTask> ExtendLeaseAsync(string taskId, string lease, int seconds, CancellationToken cancellationToken = default)
    {
        taskId = Name("task_id", taskId);
        lease = Lease(lease);
        LeaseSeconds("seconds", seconds);
        var result = await queue.ExtendAsync(taskId, lease, TimeSpan.FromSeconds(seconds), time.GetUtcNow(), cancellationToken);
        return result.Status switch
        {
            LeaseStatus.Ok => result.Task!,
            LeaseStatus.Missing => throw Missing(taskId),
            _ => throw Refused(taskId, result.Task, result.Status),
        };
    }

    public Task<Page<RetryTask>> ListDeadLettersAsync(string? agent = null, string? component = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default)
    {
        var n = PageSize(limit);
        if (cursor is not null && !IndexCursor.TryDecode(cursor, out _))
            throw new ValidationException("cursor", "'cursor' is not a cursor this server returned; pass next_cursor from the previous page.");
        return queue.ListDeadLettersAsync(new DeadLetterQuery(OptionalName("agent", agent), OptionalName("component", component), n, cursor), cancellationToken);
    }

    public async Task<ReplayOutcome> ReplayAsync(string? taskId = null, string? agent = null, string? component = null, bool resetAttempts = true, bool dryRun = false, int? limit = null, CancellationToken cancellationToken = default)
    {
        taskId = OptionalName("task_id", taskId);
        agent = OptionalName("agent", agent);
        component = OptionalName("component", component);
        if (taskId is not null && (agent is not null || component is not null))
            throw new ValidationException("task_id", "Give either 'task_id' or a filter ('agent' and/or 'component'), not both.");
        if (taskId is null && agent is null && component is null)
            throw new ValidationException("task_id", "Give 'task_id' to replay one dead letter, or 'agent' and/or 'component' to replay matching ones.");
        var n = limit ?? Options.ReplayMaxPerCall;
        if (n < 1 || n > Options.ReplayMaxPerCall)
            throw new ValidationException("limit", $"'limit' must be between 1 and {Options.ReplayMaxPerCall}; got {n}.");
        var now = time.GetUtcNow();
        var result = await queue.ReplayAsync(new ReplayCommand(taskId, agent, component, resetAttempts, dryRun, n, Options.ReplayPerMinute, now,
            NewEventId(now), Options.ToLimits(), Channels), cancellationToken);
        if (taskId is not null && result.TaskIds.Count == 0 && result.RateLimited == 0)
            throw new NotFoundException("Dead letter", taskId);
        Log.Replayed(logger, result.TaskIds.Count, dryRun);
        return result;
    }

    public async Task<PurgeOutcome> PurgeAsync(DateTimeOffset? olderThan = null, IReadOnlyList<string>? taskIds = null, CancellationToken cancellationToken = default)
    {
        if (olderThan is null == (taskIds is null or { Count: 0 }))
            throw new ValidationException("older_than", "Give exactly one of 'older_than' (dead letters dead-lettered before that time) or 'task_ids'.");
        List<string>? ids = null;
        if (taskIds is { Count: > 0 })
        {
            if (taskIds.Count > MaxPurgeIds)
                throw new ValidationException("task_ids", $"'task_ids' has {taskIds.Count} entries; the limit is {MaxPurgeIds}.");
            ids = taskIds.Select((t, i) => Name($"task_ids[{i}]", t)).Distinct(StringComparer.Ordinal).ToList();
        }
        var result = await queue.PurgeAsync(new PurgeCommand(olderThan, ids, RetryDefaults.PurgeMaxPerCall, time.GetUtcNow()), cancellationToken);
        Log.Purged(logger, result.Purged);
        return result;
    }

    public async Task<RetryStats> StatsAsync(string? agent = null, string? component = null, CancellationToken cancellationToken = default)
    {
        agent = OptionalName("agent", agent);
        component = OptionalName("component", component);
        if (agent is not null && component is not null)
            throw new ValidationException("agent", "Give 'agent' or 'component' (or neither, for the whole queue), not both.");
        var now = time.GetUtcNow();
        var counts = await queue.CountAsync(agent, component, now, RetryDefaults.BudgetWindow, cancellationToken);
        var finished = counts.Succeeded + counts.DeadLettered;
        BudgetUse? budget = null;
        if (component is not null)
        {
            var outcomes = await CountOutcomesAsync(component, now, cancellationToken);
            var check = Budget(outcomes);
            budget = new BudgetUse(counts.RecentRetries, outcomes, check.Allowed, outcomes == 0 ? 0 : (double)counts.RecentRetries / outcomes, check.Ratio);
        }
        return new RetryStats(agent, component, counts,
            finished == 0 ? null : (double)counts.Succeeded / finished,
            counts.Tasks == 0 ? null : (double)(counts.Tasks + counts.Deliveries) / counts.Tasks,
            budget);
    }

    /// <summary>For the background sweep: returns expired leases and trims dead letters.</summary>
    public async Task<SweepOutcome> SweepAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var result = await queue.SweepAsync(now, NewEventId(now), Options.ToLimits(), Channels, cancellationToken);
        if (result.Requeued + result.DeadLettered + result.Trimmed > 0) Log.Swept(logger, result.Requeued, result.DeadLettered, result.Trimmed);
        return result;
    }

    /// <summary>One sweep for the background service: a failure (store unreachable) is logged and the next interval tries again.</summary>
    public async Task<SweepOutcome?> TrySweepAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await SweepAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.SweepFailed(logger, ex);
            return null;
        }
    }

    /// <summary>The component's outcomes in the last minute: breaker calls plus error reports (capped at <see cref="MaxCountedErrorReports"/>).</summary>
    public async Task<long> CountOutcomesAsync(string component, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        // The count is an input to the budget (the retries themselves are counted atomically in the store): reusing it for
        // OutcomeCountCacheTtl keeps a retry storm from re-reading the component's recent error reports on every enqueue.
        var ttl = Options.OutcomeCountCacheTtl;
        if (ttl > TimeSpan.Zero && _outcomes.TryGetValue(component, out var cached) && now - cached.At < ttl && now >= cached.At) return cached.Count;
        var count = await CountOutcomesUncachedAsync(component, now, cancellationToken);
        if (ttl > TimeSpan.Zero)
        {
            if (_outcomes.Count >= MaxCachedComponents) _outcomes.Clear();
            _outcomes[component] = (count, now);
        }
        return count;
    }

    /// <summary>Components whose outcome counts are cached at most (the cache is dropped when full).</summary>
    public const int MaxCachedComponents = 10_000;

    private async Task<long> CountOutcomesUncachedAsync(string component, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var calls = await breakers.CountRecentCallsAsync(component, cancellationToken);
        long reports = 0;
        string? cursor = null;
        do
        {
            var page = await errors.QueryAsync(new ErrorQuery { Component = component, Since = now - RetryDefaults.BudgetWindow, Limit = Defaults.MaxPageSize, Cursor = cursor }, cancellationToken);
            reports += page.Items.Count;
            cursor = page.NextCursor;
        } while (cursor is not null && reports < MaxCountedErrorReports);
        return calls + reports;
    }

    private BudgetCheck Budget(long outcomes) => new(outcomes, Options.BudgetRatio, Options.BudgetMinRetriesPerMinute, RetryDefaults.BudgetWindow);

    private static string Describe(EnqueueOutcome o, string component, int floor) => o.Status switch
    {
        EnqueueStatus.Scheduled => $"Attempt {o.Task!.Attempt} scheduled for {o.Task.RetryAt:O}.",
        EnqueueStatus.Duplicate => $"Already queued under this idempotency key: attempt {o.Task!.Attempt}, {o.Task.State.ToString().ToLowerInvariant()}, due {o.Task.RetryAt:O}. Nothing was added.",
        EnqueueStatus.DeadLettered => "max_attempts is 0: the task went straight to the dead-letter queue (attempts exhausted).",
        EnqueueStatus.BudgetExhausted => $"Retry budget of {component} exhausted: {o.Budget!.Retries} retries in the last minute; {o.Budget.Outcomes} outcomes in the last minute " +
                                         $"allow at most {o.Budget.Allowed} ({o.Budget.Limit.ToString("P0", System.Globalization.CultureInfo.InvariantCulture)} of outcomes, at least {floor} per minute). " +
                                         "Do not retry now: fail the task upward, or try again later.",
        EnqueueStatus.QueueFull => "The retry queue is full; the task was not queued.",
        _ => o.Status.ToString(),
    };

    private static NotFoundException Missing(string taskId) => new("Retry task", taskId);

    private static ValidationException Refused(string taskId, RetryTask? task, LeaseStatus status) => status switch
    {
        LeaseStatus.Expired => new ValidationException("lease", $"The lease on task '{taskId}' expired at {task?.LeaseUntil:O}; the task goes back to the queue for another worker. Do not complete it."),
        LeaseStatus.Changed => new ValidationException("lease", $"Task '{taskId}' changed while the outcome was applied; claim it again."),
        _ => new ValidationException("lease", $"'lease' is not the current lease of task '{taskId}' (stale or another worker's); the task is {task?.State.ToString().ToLowerInvariant() ?? "not leased"}. Only the worker holding the current lease may complete or extend it."),
    };

    private static bool IsJson(string text)
    {
        try
        {
            using var _ = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private string Name(string field, string? value)
    {
        FailureValidator.RequireName(field, value, MaxName);
        var v = value!.Trim();
        CheckControl(field, v);
        return v;
    }

    private string? OptionalName(string field, string? value) => string.IsNullOrWhiteSpace(value) ? null : Name(field, value);

    private static void CheckControl(string field, string value)
    {
        for (var i = 0; i < value.Length; i++)
            if (char.IsControl(value[i])) throw new ValidationException(field, $"'{field}' contains a control character at position {i}.");
    }

    private static string Lease(string? lease)
    {
        if (string.IsNullOrWhiteSpace(lease)) throw ValidationException.Required("lease");
        var l = lease.Trim();
        if (l.Length > 64 || !l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            throw new ValidationException("lease", "'lease' must be the token claim_retries returned (at most 64 letters, digits and '-').");
        return l;
    }

    private static int LeaseSeconds(string field, int seconds)
    {
        if (seconds is < 1 or > RetryDefaults.MaxLeaseSeconds)
            throw new ValidationException(field, $"'{field}' must be between 1 and {RetryDefaults.MaxLeaseSeconds} (one hour); got {seconds}.");
        return seconds;
    }

    private static int PageSize(int? limit)
    {
        var n = limit ?? Defaults.DefaultPageSize;
        if (n < 1 || n > Defaults.MaxPageSize) throw new ValidationException("limit", $"'limit' must be between 1 and {Defaults.MaxPageSize}; got {n}.");
        return n;
    }

    private static string NewEventId(DateTimeOffset now) => "rte_" + Guid.CreateVersion7(now).ToString("N");
}
