using ErrorCoordinator.Core.Common;

namespace ErrorCoordinator.Core.Incidents;

/// <summary>
/// Storage port for incidents and post-mortems. Redis (one Lua script per signal or transition) and in-memory; one contract
/// suite. Deduplication is the store's: concurrent signals for one correlation cluster, from any process, give one incident.
/// </summary>
public interface IIncidentStore
{
    /// <summary>Atomically opens or attaches (see <see cref="IncidentSignal"/>) and publishes the change.</summary>
    Task<SignalOutcome> SignalAsync(IncidentSignal signal, IncidentLimits limits, CancellationToken cancellationToken = default);

    /// <summary>Atomically checks and applies a state change, appends its timeline entry, releases dedup keys on resolve, publishes.</summary>
    Task<TransitionOutcome> TransitionAsync(string incidentId, IncidentTransition transition, IncidentLimits limits, CancellationToken cancellationToken = default);

    Task<Incident?> GetAsync(string incidentId, CancellationToken cancellationToken = default);

    /// <summary>Incidents newest first (by opening time), without their timelines and event ids, paged.</summary>
    Task<Page<Incident>> ListAsync(IncidentQuery query, CancellationToken cancellationToken = default);

    /// <summary>Stores (or replaces) a post-mortem document for <paramref name="ttl"/>.</summary>
    Task SavePostmortemAsync(string postmortemId, string json, TimeSpan ttl, CancellationToken cancellationToken = default);

    Task<string?> GetPostmortemAsync(string postmortemId, CancellationToken cancellationToken = default);
}

/// <summary>Told about every incident change, in every process (the MCP host notifies incident:// subscribers).</summary>
public interface IIncidentObserver
{
    Task IncidentChangedAsync(string incidentId, CancellationToken cancellationToken = default);
}
