using System.ComponentModel;
using ErrorCoordinator.Core.Breakers;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006 // Parameter names are snake_case: they are the tool's wire names.

namespace ErrorCoordinator.Mcp.Tools;

/// <summary>Fleet-wide circuit breakers: one state per component, shared by every agent and process.</summary>
[McpServerToolType]
public sealed class BreakerTools(BreakerService breakers)
{
    [McpServerTool(Name = "check_breaker", Title = "Check a circuit breaker", UseStructuredContent = true, OutputSchemaType = typeof(CheckBreakerOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Ask before calling a dependency. allowed=true: make the call, then report how it went with record_outcome. " +
                 "allowed=false: the dependency is failing fleet-wide (open) or was isolated by an operator; do not call it, wait retry_after_ms or use a fallback. " +
                 "When half_open, a few callers fleet-wide get a probe permit: make exactly one call and pass the permit to record_outcome; its result closes or re-opens the breaker.")]
    public Task<CallToolResult> CheckBreaker(
        [Description("The dependency or subsystem, e.g. 'payments-api', 'postgres', 'gpu_tasks'. At most 200 characters.")] string component,
        [Description("Your agent name (optional): recorded when your check causes a transition.")] string? agent = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () => CheckBreakerOutput.From(await breakers.CheckAsync(component, agent, cancellationToken)),
            r => r.Allowed
                ? r.Permit is null ? $"{r.Component}: {r.State}, call allowed." : $"{r.Component}: half_open, probe permit {r.Permit} granted until {r.PermitExpiresAt:O}. Make one call and report it with this permit."
                : $"{r.Component}: {r.State}, do not call{(r.RetryAfterMs is { } ms ? $"; retry after {ms} ms" : " until reset")}. {r.Reason}");

    [McpServerTool(Name = "record_outcome", Title = "Record a call's outcome", UseStructuredContent = true, OutputSchemaType = typeof(RecordOutcomeOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Report how a call to a dependency went, after check_breaker allowed it. Feeds the breaker's sliding window: enough failures open it fleet-wide. " +
                 "A success taking at least the policy's slow_call_ms counts as a failure. Pass the permit from check_breaker when you were probing a half-open breaker; " +
                 "without a valid permit a half-open outcome is counted but cannot close the breaker. Returns the new state and whether this call caused a transition.")]
    public Task<CallToolResult> RecordOutcome(
        [Description("The dependency, as passed to check_breaker.")] string component,
        [Description("True when the call succeeded.")] bool success,
        [Description("The probe permit check_breaker gave you (half-open only).")] string? permit = null,
        [Description("How long the call took, in milliseconds (0 to 86400000); used for the slow-call rule.")] long? duration_ms = null,
        [Description("Error type of a failed call, e.g. TimeoutError, HTTP503.")] string? error_type = null,
        [Description("Your agent name; failures from distinct agents count toward the min_distinct_reporters quorum.")] string? agent = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () => RecordOutcomeOutput.From(await breakers.RecordOutcomeAsync(new BreakerOutcome
            {
                Component = component, Success = success, Permit = permit, DurationMs = duration_ms, ErrorType = error_type, Agent = agent,
            }, cancellationToken)),
            r => $"{r.Component}: {(r.Transition is { } t ? $"{t.Type} ({t.Reason})" : r.State)}; window {r.Window.Failures}/{r.Window.Calls} failed." +
                 (r.Note is null ? "" : " " + r.Note));

    [McpServerTool(Name = "trip_breaker", Title = "Isolate a component", UseStructuredContent = true, OutputSchemaType = typeof(BreakerChangeOutput),
        ReadOnly = false, Idempotent = false, Destructive = true, OpenWorld = false)]
    [Description("Manually isolate a component (maintenance, a known outage, a bad deploy): every check_breaker answers allowed=false and no probes run, " +
                 "until reset_breaker or until duration_seconds ends. The transition is published to every agent.")]
    public Task<CallToolResult> TripBreaker(
        [Description("The component to isolate.")] string component,
        [Description("Why, for other agents and the audit trail (at most 1000 characters).")] string reason,
        [Description("Isolate for this many seconds (1 to 2592000); leave out to isolate until reset_breaker.")] int? duration_seconds = null,
        [Description("Who is isolating it.")] string? agent = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () => BreakerChangeOutput.From(await breakers.TripAsync(component, reason, duration_seconds, agent, cancellationToken)),
            r => $"{r.Breaker.Component}: isolated {(r.Breaker.OpenUntil is { } u ? $"until {u:O}" : "until reset")} ({r.Breaker.Reason}).");

    [McpServerTool(Name = "reset_breaker", Title = "Reset a circuit breaker", UseStructuredContent = true, OutputSchemaType = typeof(BreakerChangeOutput),
        ReadOnly = false, Idempotent = true, Destructive = true, OpenWorld = false)]
    [Description("Close a breaker now, whatever its state (ends an isolation too), and clear its sliding window. Use it when the dependency is known to be healthy again.")]
    public Task<CallToolResult> ResetBreaker(
        [Description("The component.")] string component,
        [Description("Why (optional, at most 1000 characters).")] string? reason = null,
        [Description("Who is resetting it.")] string? agent = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () => BreakerChangeOutput.From(await breakers.ResetAsync(component, reason, agent, cancellationToken)),
            r => $"{r.Breaker.Component}: closed{(r.Transition is { } t ? $" (was {t.From})" : " (was already closed)")}, window cleared.");

    [McpServerTool(Name = "list_breakers", Title = "List circuit breakers", UseStructuredContent = true, OutputSchemaType = typeof(ListBreakersOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("List known breakers, most recently changed first, optionally only those in one state, e.g. state=open to see what is failing fleet-wide. Paged.")]
    public Task<CallToolResult> ListBreakers(
        [Description("closed | open | half_open | isolated; leave out for all.")] string? state = null,
        [Description("Page size, 1 to 500 (default 50).")] int? limit = null,
        [Description("next_cursor from the previous page.")] string? cursor = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var page = await breakers.ListAsync(state, limit, cursor, cancellationToken);
                return new ListBreakersOutput(page.Items.Select(BreakerOutput.From).ToList(), page.NextCursor);
            },
            r => r.Breakers.Count == 0 ? "No breakers." : string.Join("\n", r.Breakers.Select(b => $"{b.Component}: {b.State}{(b.Reason is null ? "" : $" ({b.Reason})")}")));

    [McpServerTool(Name = "configure_breaker", Title = "Configure a breaker's policy", UseStructuredContent = true, OutputSchemaType = typeof(ConfigureBreakerOutput),
        ReadOnly = false, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Set a component's breaker policy, shared fleet-wide. Only the fields you pass change; the rest keep their stored value or the server's " +
                 "configured default (out of the box: failure_ratio 0.5, minimum_throughput 10, sampling_seconds 30, break_seconds 30, max_break_seconds 300, half_open_permits 1, " +
                 "permit_lease_seconds 30, min_distinct_reporters 1; consecutive_failures, failure_count and slow_call_ms off). Returns the effective policy. " +
                 "Values out of range are refused, naming the field and the limit, and nothing is stored.")]
    public Task<CallToolResult> ConfigureBreaker(
        [Description("The component.")] string component,
        [Description("Open when failures ÷ calls in the window reaches this, greater than 0 and at most 1.")] double? failure_ratio = null,
        [Description("Calls the window needs before the ratio counts, 1 to 1000000.")] int? minimum_throughput = null,
        [Description("Sliding window length in seconds, 1 to 86400.")] int? sampling_seconds = null,
        [Description("First break (open) duration in seconds, 1 to 86400.")] int? break_seconds = null,
        [Description("Cap of the break, which doubles after each failed probe; at least break_seconds, at most 604800.")] int? max_break_seconds = null,
        [Description("Probe permits granted fleet-wide while half-open, 1 to 1000; that many probe successes close the breaker.")] int? half_open_permits = null,
        [Description("How long a probe permit is held before its slot goes to another caller, 1 to 3600 seconds.")] int? permit_lease_seconds = null,
        [Description("Open after this many failures in a row, whatever the ratio; 0 turns the rule off.")] int? consecutive_failures = null,
        [Description("Open when the window holds this many failures, whatever the ratio; 0 turns the rule off.")] int? failure_count = null,
        [Description("Failures must come from at least this many distinct agents before the breaker opens (quorum), 1 to 10000.")] int? min_distinct_reporters = null,
        [Description("A success taking at least this many milliseconds counts as a failure; 0 turns it off.")] int? slow_call_ms = null,
        [Description("True: drop this component's stored overrides first, so fields you do not pass return to the defaults.")] bool reset_to_defaults = false,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var policy = await breakers.ConfigureAsync(component, new BreakerPolicyUpdate
                {
                    FailureRatio = failure_ratio, MinimumThroughput = minimum_throughput, SamplingSeconds = sampling_seconds, BreakSeconds = break_seconds,
                    MaxBreakSeconds = max_break_seconds, HalfOpenPermits = half_open_permits, PermitLeaseSeconds = permit_lease_seconds,
                    ConsecutiveFailures = consecutive_failures, FailureCount = failure_count, MinDistinctReporters = min_distinct_reporters,
                    SlowCallMs = slow_call_ms, ResetToDefaults = reset_to_defaults,
                }, cancellationToken);
                return new ConfigureBreakerOutput(component.Trim(), PolicyOutput.From(policy));
            },
            r => $"{r.Component}: policy stored (failure_ratio {r.Policy.FailureRatio}, minimum_throughput {r.Policy.MinimumThroughput}, break {r.Policy.BreakSeconds}-{r.Policy.MaxBreakSeconds}s, " +
                 $"half_open_permits {r.Policy.HalfOpenPermits}, min_distinct_reporters {r.Policy.MinDistinctReporters}).");

    [McpServerTool(Name = "report_agent_status", Title = "Report an agent's status", UseStructuredContent = true, OutputSchemaType = typeof(AgentStatusOutput),
        ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false)]
    [Description("Report that an agent (or job type) is running, completed or failed. failed records an agent_crash error event (critical) and counts toward the " +
                 "agent's breaker agent:<agent>, which opens after repeated crashes inside the crash window (out of the box 5 crashes in 10 minutes) so other agents stop handing it work; " +
                 "completed counts as a success. The status is published on events:agents:status.")]
    public Task<CallToolResult> ReportAgentStatus(
        [Description("The agent or agent type, e.g. 'data-loader'. At most 194 characters (its breaker is agent:<agent>).")] string agent,
        [Description("running | completed | failed")] string status,
        [Description("The task the agent was working on.")] string? task_id = null,
        [Description("failed: the error or exit reason, e.g. 'exited with SIGKILL (OOM)'. Secrets are removed before storage.")] string? error = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
            {
                var r = await breakers.ReportAgentStatusAsync(agent, status, task_id, error, cancellationToken);
                return new AgentStatusOutput(r.Agent, r.Status.ToString().ToLowerInvariant(), r.CrashEvent?.EventId, r.CrashEvent?.GroupId,
                    BreakerOutput.From(r.Breaker), TransitionOutput.Of(r.Transition));
            },
            r => $"{r.Agent}: {r.Status}" + (r.CrashEventId is null ? "" : $", crash recorded as {r.CrashEventId} (group {r.GroupId})") +
                 $"; breaker {r.Breaker.Component} {r.Breaker.State}" + (r.Transition is { } t ? $" ({t.Reason})" : "") + ".");
}
