using ErrorCoordinator.Core.Correlation;

namespace ErrorCoordinator.Core.Storage.InMemory;

/// <summary>The embedded dependency graph: same semantics as the Redis store (one contract suite).</summary>
public sealed class InMemoryDependencyStore : IDependencyStore
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, DependencyRegistration> _graph = new(StringComparer.Ordinal);

    public Task<DependencyWriteStatus> RegisterAsync(DependencyRegistration registration, int maxComponents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registration);
        lock (_gate)
        {
            if (_graph.TryGetValue(registration.Component, out var existing))
            {
                if (existing.DependsOn.SequenceEqual(registration.DependsOn, StringComparer.Ordinal)) return Task.FromResult(DependencyWriteStatus.Unchanged);
            }
            else if (_graph.Count >= maxComponents) return Task.FromResult(DependencyWriteStatus.GraphFull);
            _graph[registration.Component] = registration with { DependsOn = registration.DependsOn.ToArray() };
            return Task.FromResult(DependencyWriteStatus.Stored);
        }
    }

    public Task<IReadOnlyList<DependencyRegistration>> GetAllAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<DependencyRegistration>>(_graph.Values.ToList());
    }
}
