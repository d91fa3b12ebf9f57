using ErrorCoordinator.Core.Common;

namespace ErrorCoordinator.Core.Breakers;

/// <summary>What a transition command does.</summary>
public enum BreakerCommand
{
    /// <summary>Manual isolation: no calls and no probes until reset or until the given end.</summary>
    Isolate,
    /// <summary>Open now for a given break, then probe as usual (used by other capabilities, e.g. GPU memory exhaustion).</summary>
    Open,
    /// <summary>Close and clear the window, the consecutive count, the reporters and any permits.</summary>
    Reset,
}

/// <summary>Everything a check needs besides the component: the time, the permit token to grant if a slot is free, and the caller.</summary>
public sealed record CheckArgs(DateTimeOffset Now, string PermitToken, string? Agent, string TransitionEventId, string Channel);

/// <summary>An outcome with its time and the id to give a transition it causes.</summary>
public sealed record RecordArgs(BreakerOutcome Outcome, DateTimeOffset Now, string TransitionEventId, string Channel);

/// <summary>A transition command with its time.</summary>
public sealed record TransitionArgs(BreakerCommand Command, string Reason, TimeSpan? Duration, string? Agent, DateTimeOffset Now, string TransitionEventId, string Channel);

/// <summary>
/// Storage port for circuit breakers: Redis (one Lua script per check, outcome and transition; the keys of one component
/// share a hash tag) and the embedded store. Every method applies due transitions lazily using the time passed in,
/// publishes every transition it makes on <c>Channel</c> and appends it to the component's audit log, atomically with the change.
/// <paramref name="defaults"/> is the policy for fields the component has no stored override for.
/// </summary>
public interface IBreakerStore
{
    Task<BreakerCheck> CheckAsync(string component, BreakerPolicy defaults, CheckArgs args, CancellationToken cancellationToken = default);

    Task<OutcomeResult> RecordAsync(BreakerPolicy defaults, RecordArgs args, CancellationToken cancellationToken = default);

    Task<(BreakerView Breaker, BreakerTransition? Transition)> TransitionAsync(string component, BreakerPolicy defaults, TransitionArgs args, CancellationToken cancellationToken = default);

    /// <summary>The breaker as it would be seen now, writing nothing; a component never seen is closed with an empty window.</summary>
    Task<BreakerView> GetAsync(string component, BreakerPolicy defaults, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Known breakers, most recently changed first, optionally only those in <paramref name="state"/> (as seen now), paged.</summary>
    Task<Page<BreakerView>> ListAsync(BreakerState? state, int limit, string? cursor, Func<string, BreakerPolicy> defaults, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Applies a partial policy atomically and returns the effective policy.</summary>
    Task<BreakerPolicy> ConfigureAsync(string component, BreakerPolicyUpdate update, BreakerPolicy defaults, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The effective policy: stored overrides over <paramref name="defaults"/>.</summary>
    Task<BreakerPolicy> GetPolicyAsync(string component, BreakerPolicy defaults, CancellationToken cancellationToken = default);

    /// <summary>Calls recorded for the component in the last minute (successes and failures), for retry budgets.</summary>
    Task<long> CountRecentCallsAsync(string component, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>The component's most recent transitions (JSON, as published), newest first.</summary>
    Task<IReadOnlyList<string>> ReadTransitionsAsync(string component, int count, CancellationToken cancellationToken = default);
}
