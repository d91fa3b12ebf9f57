using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Breakers;

/// <summary>The status an agent reports with <c>report_agent_status</c>.</summary>
public enum AgentStatus
{
    Running,
    Completed,
    Failed,
}

/// <summary>The answer to <c>report_agent_status</c>: the crash event (for <c>failed</c>) and the agent's breaker.</summary>
public sealed record AgentStatusResult(string Agent, AgentStatus Status, ReportResult? CrashEvent, BreakerView Breaker, BreakerTransition? Transition);

/// <summary>
/// Fleet-wide circuit breakers. Validates input, resolves each component's policy (stored override over the configured
/// default) and hands every check, outcome and transition to the store as one atomic step. Other capabilities open breakers
/// through <see cref="OpenAsync"/> (e.g. <c>gpu_tasks</c> on GPU memory exhaustion) and read them with <see cref="GetAsync"/>.
/// </summary>
public sealed class BreakerService(
    IBreakerStore store,
    ErrorReportingService errors,
    IEventBus bus,
    ChannelNames channels,
    IOptions<BreakerOptions> options,
    IOptions<LimitsOptions> limits,
    TimeProvider time,
    ILogger<BreakerService> logger)
{
    public const int MaxReasonLength = 1000;
    public static readonly TimeSpan MaxTripDuration = TimeSpan.FromDays(30);
    public const string AgentPrefix = "agent:";

    private BreakerOptions Options => options.Value;

    /// <summary>Whether a call to <paramref name="component"/> may go ahead now; grants a probe permit when half-open and a slot is free.</summary>
    public async Task<BreakerCheck> CheckAsync(string component, string? agent = null, CancellationToken cancellationToken = default)
    {
        component = ValidateComponent(component);
        agent = ValidateOptionalName(agent, "agent");
        var now = time.GetUtcNow();
        var result = await store.CheckAsync(component, DefaultsFor(component), new CheckArgs(now, NewPermit(), agent, NewEventId(now), channels.Breakers), cancellationToken);
        if (result.Transition is { } t) Log.Transition(logger, component, t.Type, t.Reason);
        return result;
    }

    /// <summary>Feeds one call's outcome into the sliding window; may open, close or re-open the breaker.</summary>
    public async Task<OutcomeResult> RecordOutcomeAsync(BreakerOutcome outcome, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var component = ValidateComponent(outcome.Component);
        var o = outcome with
        {
            Component = component,
            Agent = ValidateOptionalName(outcome.Agent, "agent"),
            ErrorType = ValidateOptionalName(outcome.ErrorType, "error_type"),
            Permit = ValidatePermit(outcome.Permit),
        };
        if (o.DurationMs is < 0 or > 86_400_000)
            throw new ValidationException("duration_ms", $"'duration_ms' must be between 0 and 86400000 (one day); got {o.DurationMs}.");
        var now = time.GetUtcNow();
        var result = await store.RecordAsync(DefaultsFor(component), new RecordArgs(o, now, NewEventId(now), channels.Breakers), cancellationToken);
        if (result.Transition is { } t) Log.Transition(logger, component, t.Type, t.Reason);
        return result;
    }

    /// <summary>Manual isolation: no calls, no probes, until reset or for <paramref name="durationSeconds"/>.</summary>
    public Task<(BreakerView Breaker, BreakerTransition? Transition)> TripAsync(string component, string reason, int? durationSeconds = null, string? agent = null, CancellationToken cancellationToken = default)
    {
        TimeSpan? duration = null;
        if (durationSeconds is { } s)
        {
            if (s < 1 || s > MaxTripDuration.TotalSeconds)
                throw new ValidationException("duration_seconds", $"'duration_seconds' must be between 1 and {(long)MaxTripDuration.TotalSeconds} (30 days); got {s}. Leave it out to isolate until reset.");
            duration = TimeSpan.FromSeconds(s);
        }
        return TransitionAsync(BreakerCommand.Isolate, component, RequireReason(reason), duration, agent, cancellationToken);
    }

    /// <summary>Closes the breaker and clears its window, whatever its state.</summary>
    public Task<(BreakerView Breaker, BreakerTransition? Transition)> ResetAsync(string component, string? reason = null, string? agent = null, CancellationToken cancellationToken = default) =>
        TransitionAsync(BreakerCommand.Reset, component, string.IsNullOrWhiteSpace(reason) ? "manual reset" : ValidateReason(reason), null, agent, cancellationToken);

    /// <summary>
    /// Opens the breaker now for <paramref name="breakDuration"/>, after which it probes as usual (half-open). For other
    /// capabilities that detect a failure themselves, e.g. GPU memory exhaustion opening <c>gpu_tasks</c> for 5 minutes.
    /// An isolated breaker stays isolated.
    /// </summary>
    public Task<(BreakerView Breaker, BreakerTransition? Transition)> OpenAsync(string component, string reason, TimeSpan breakDuration, string? agent = null, CancellationToken cancellationToken = default)
    {
        if (breakDuration < TimeSpan.FromSeconds(1) || breakDuration > MaxTripDuration)
            throw new ValidationException("duration_seconds", $"The break must be between 1 second and 30 days; got {breakDuration}.");
        return TransitionAsync(BreakerCommand.Open, component, RequireReason(reason), breakDuration, agent, cancellationToken);
    }

    /// <summary>The breaker as seen now (due transitions applied for display, nothing written, no permit taken).</summary>
    public Task<BreakerView> GetAsync(string component, CancellationToken cancellationToken = default)
    {
        component = ValidateComponent(component);
        return store.GetAsync(component, DefaultsFor(component), time.GetUtcNow(), cancellationToken);
    }

    /// <summary>Known breakers, most recently changed first; <paramref name="state"/> filters (closed | open | half_open | isolated).</summary>
    public Task<Page<BreakerView>> ListAsync(string? state = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default)
    {
        BreakerState? filter = null;
        if (!string.IsNullOrWhiteSpace(state))
        {
            filter = ParseState(state) ?? throw new ValidationException("state", $"'state' must be one of closed, open, half_open, isolated; got '{state}'.");
        }
        if (cursor is not null && !IndexCursor.TryDecode(cursor, out _))
            throw new ValidationException("cursor", "'cursor' is not one this server returned; pass next_cursor from the previous page unchanged.");
        var n = limit ?? Defaults.DefaultPageSize;
        if (n < 1 || n > Defaults.MaxPageSize) throw new ValidationException("limit", $"'limit' must be between 1 and {Defaults.MaxPageSize}; got {n}.");
        return store.ListAsync(filter, n, cursor, DefaultsFor, time.GetUtcNow(), cancellationToken);
    }

    /// <summary>Stores a per-component policy (only the given fields change) and returns the effective policy.</summary>
    public Task<BreakerPolicy> ConfigureAsync(string component, BreakerPolicyUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        component = ValidateComponent(component);
        var defaults = DefaultsFor(component);
        // Each given field's range is checked here; the rule across fields (max_break_seconds >= break_seconds) depends on
        // what is stored, so the store checks it atomically with the write. Nothing is written when either refuses.
        ValidateRanges(Apply(defaults, update));
        return store.ConfigureAsync(component, update, defaults, time.GetUtcNow(), cancellationToken);
    }

    public Task<BreakerPolicy> GetPolicyAsync(string component, CancellationToken cancellationToken = default)
    {
        component = ValidateComponent(component);
        return store.GetPolicyAsync(component, DefaultsFor(component), cancellationToken);
    }

    /// <summary>Calls recorded for the component in the last minute: the denominator of the retry budget.</summary>
    public Task<long> CountRecentCallsAsync(string component, CancellationToken cancellationToken = default)
    {
        component = ValidateComponent(component);
        return store.CountRecentCallsAsync(component, time.GetUtcNow(), cancellationToken);
    }

    /// <summary>The component's most recent transitions (JSON as published), newest first.</summary>
    public Task<IReadOnlyList<string>> ReadTransitionsAsync(string component, int count = 20, CancellationToken cancellationToken = default)
    {
        component = ValidateComponent(component);
        return store.ReadTransitionsAsync(component, Math.Clamp(count, 1, 1000), cancellationToken);
    }

    /// <summary>
    /// An agent's status. <c>failed</c> records an <c>agent_crash</c> error event (as the original design) and a failure on the
    /// breaker <c>agent:&lt;agent&gt;</c>, which opens after <see cref="BreakerOptions.CrashThreshold"/> crashes inside the crash
    /// window; <c>completed</c> records a success there; <c>running</c> only publishes the status.
    /// </summary>
    public async Task<AgentStatusResult> ReportAgentStatusAsync(string agent, string status, string? taskId = null, string? error = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(agent)) throw ValidationException.Required("agent");
        agent = ValidateOptionalName(agent, "agent")!;
        var agentLimit = limits.Value.MaxNameLength - AgentPrefix.Length;
        if (agent.Length > agentLimit)
            throw ValidationException.TooLong("agent", agentLimit); // its breaker is named agent:<agent>
        var parsed = status?.Trim().ToLowerInvariant() switch
        {
            "running" => AgentStatus.Running,
            "completed" => AgentStatus.Completed,
            "failed" => AgentStatus.Failed,
            _ => throw new ValidationException("status", $"'status' must be one of running, completed, failed; got '{status}'."),
        };
        taskId = ValidateOptionalName(taskId, "task_id");
        var component = ValidateComponent(AgentPrefix + agent);

        ReportResult? crash = null;
        if (parsed == AgentStatus.Failed)
        {
            crash = await errors.ReportAsync(new FailureReport
            {
                Agent = agent,
                ErrorType = "agent_crash",
                Message = string.IsNullOrWhiteSpace(error) ? $"Agent {agent} failed" : error,
                TaskId = taskId,
                Component = component,
            }, cancellationToken);
        }

        var now = time.GetUtcNow();
        await bus.PublishAsync(channels.AgentStatus, CoreJson.Serialize(new
        {
            type = "agent_status", agent, status = parsed.ToString().ToLowerInvariant(), task_id = taskId,
            event_id = crash?.EventId, timestamp = now,
        }), cancellationToken);

        if (parsed == AgentStatus.Running)
            return new AgentStatusResult(agent, parsed, null, await store.GetAsync(component, DefaultsFor(component), now, cancellationToken), null);

        var outcome = await RecordOutcomeAsync(new BreakerOutcome
        {
            Component = component,
            Success = parsed == AgentStatus.Completed,
            Agent = agent,
            ErrorType = parsed == AgentStatus.Failed ? "agent_crash" : null,
        }, cancellationToken);
        return new AgentStatusResult(agent, parsed, crash, outcome.Breaker, outcome.Transition);
    }

    /// <summary>The policy a component gets without an override: the configured default; <c>agent:*</c> breakers count crashes.</summary>
    public BreakerPolicy DefaultsFor(string component)
    {
        if (!component.StartsWith(AgentPrefix, StringComparison.Ordinal)) return Options.Default;
        var cached = _agentDefaults;
        if (cached is null || !ReferenceEquals(cached.Value.Base, Options.Default))
            // An agent's crashes are reported by the agent itself: one reporter, whatever the fleet-wide quorum.
            _agentDefaults = cached = (Options.Default, Options.Default with
            {
                SamplingSeconds = Options.CrashWindowSeconds, FailureCount = Options.CrashThreshold, MinDistinctReporters = 1,
            });
        return cached.Value.Agent;
    }

    private (BreakerPolicy Base, BreakerPolicy Agent)? _agentDefaults;

    public static BreakerState? ParseState(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "closed" => BreakerState.Closed,
        "open" => BreakerState.Open,
        "half_open" or "half-open" => BreakerState.HalfOpen,
        "isolated" => BreakerState.Isolated,
        _ => null,
    };

    public static BreakerPolicy Apply(BreakerPolicy p, BreakerPolicyUpdate u) => new()
    {
        FailureRatio = u.FailureRatio ?? p.FailureRatio,
        MinimumThroughput = u.MinimumThroughput ?? p.MinimumThroughput,
        SamplingSeconds = u.SamplingSeconds ?? p.SamplingSeconds,
        BreakSeconds = u.BreakSeconds ?? p.BreakSeconds,
        MaxBreakSeconds = u.MaxBreakSeconds ?? p.MaxBreakSeconds,
        HalfOpenPermits = u.HalfOpenPermits ?? p.HalfOpenPermits,
        PermitLeaseSeconds = u.PermitLeaseSeconds ?? p.PermitLeaseSeconds,
        ConsecutiveFailures = u.ConsecutiveFailures ?? p.ConsecutiveFailures,
        FailureCount = u.FailureCount ?? p.FailureCount,
        MinDistinctReporters = u.MinDistinctReporters ?? p.MinDistinctReporters,
        SlowCallMs = u.SlowCallMs ?? p.SlowCallMs,
    };

    /// <summary>Every policy rule, with the field and the limit in the message. Also used to validate configuration at start.</summary>
    public static void ValidatePolicy(BreakerPolicy p)
    {
        ValidateRanges(p);
        if (p.MaxBreakSeconds < p.BreakSeconds)
            throw new ValidationException("max_break_seconds", $"'max_break_seconds' ({p.MaxBreakSeconds}) must be at least 'break_seconds' ({p.BreakSeconds}).");
    }

    /// <summary>Each field's own range (not the rule across fields).</summary>
    public static void ValidateRanges(BreakerPolicy p)
    {
        if (double.IsNaN(p.FailureRatio) || p.FailureRatio <= 0 || p.FailureRatio > 1)
            throw new ValidationException("failure_ratio", $"'failure_ratio' must be greater than 0 and at most 1; got {p.FailureRatio}.");
        Range("minimum_throughput", p.MinimumThroughput, 1, 1_000_000);
        Range("sampling_seconds", p.SamplingSeconds, 1, 86_400);
        Range("break_seconds", p.BreakSeconds, 1, 86_400);
        Range("max_break_seconds", p.MaxBreakSeconds, 1, 7 * 86_400);
        Range("half_open_permits", p.HalfOpenPermits, 1, 1000);
        Range("permit_lease_seconds", p.PermitLeaseSeconds, 1, 3600);
        Range("consecutive_failures", p.ConsecutiveFailures, 0, 1_000_000);
        Range("failure_count", p.FailureCount, 0, 1_000_000);
        Range("min_distinct_reporters", p.MinDistinctReporters, 1, 10_000);
        Range("slow_call_ms", p.SlowCallMs, 0, 86_400_000);
    }

    private static void Range(string field, int value, int min, int max)
    {
        if (value < min || value > max) throw new ValidationException(field, $"'{field}' must be between {min} and {max}; got {value}.");
    }

    private Task<(BreakerView, BreakerTransition?)> TransitionAsync(BreakerCommand command, string component, string reason, TimeSpan? duration, string? agent, CancellationToken cancellationToken)
    {
        component = ValidateComponent(component);
        agent = ValidateOptionalName(agent, "agent");
        var now = time.GetUtcNow();
        return Run();

        async Task<(BreakerView, BreakerTransition?)> Run()
        {
            var result = await store.TransitionAsync(component, DefaultsFor(component), new TransitionArgs(command, reason, duration, agent, now, NewEventId(now), channels.Breakers), cancellationToken);
            if (result.Transition is { } t) Log.Transition(logger, component, t.Type, t.Reason);
            return result;
        }
    }

    private string ValidateComponent(string? component)
    {
        if (string.IsNullOrWhiteSpace(component)) throw ValidationException.Required("component");
        var c = component.Trim();
        var max = limits.Value.MaxNameLength;
        if (c.Length > max) throw ValidationException.TooLong("component", max);
        CheckText("component", c);
        return c;
    }

    private string? ValidateOptionalName(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var v = value.Trim();
        var max = limits.Value.MaxNameLength;
        if (v.Length > max) throw ValidationException.TooLong(field, max);
        CheckText(field, v);
        return v;
    }

    private static string? ValidatePermit(string? permit)
    {
        if (string.IsNullOrWhiteSpace(permit)) return null;
        var p = permit.Trim();
        if (p.Length > 64 || !p.All(char.IsAsciiLetterOrDigit))
            throw new ValidationException("permit", "'permit' must be the token check_breaker returned (at most 64 letters and digits).");
        return p;
    }

    private static string RequireReason(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw ValidationException.Required("reason");
        return ValidateReason(reason);
    }

    private static string ValidateReason(string reason)
    {
        var r = reason.Trim();
        if (r.Length > MaxReasonLength) throw ValidationException.TooLong("reason", MaxReasonLength);
        CheckText("reason", r);
        return r;
    }

    private static void CheckText(string field, string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var ch = value[i];
            if (char.IsControl(ch)) throw new ValidationException(field, $"'{field}' contains a control character at position {i}.");
            if (char.IsHighSurrogate(ch) && (i + 1 >= value.Length || !char.IsLowSurrogate(value[i + 1])) || char.IsLowSurrogate(ch) && (i == 0 || !char.IsHighSurrogate(value[i - 1])))
                throw new ValidationException(field, $"'{field}' contains an unpaired surrogate at position {i}.");
        }
    }

    // 122 random bits from the OS CSPRNG, as 32 hex digits.
    private static string NewPermit() => Guid.NewGuid().ToString("N");

    private static string NewEventId(DateTimeOffset now) => "cbe_" + Guid.CreateVersion7(now).ToString("N");
}
