namespace ErrorCoordinator.Core.Correlation;

/// <summary>What a dependency write answers.</summary>
public enum DependencyWriteStatus
{
    /// <summary>Stored (or replaced).</summary>
    Stored,
    /// <summary>The same dependencies were already stored; nothing changed.</summary>
    Unchanged,
    /// <summary>The graph already holds the maximum number of components; nothing was written.</summary>
    GraphFull,
}

/// <summary>
/// Storage port for the dependency graph. Redis (one hash, a Lua script per write) and in-memory; one contract suite.
/// Registering replaces the component's dependency list (idempotent: the same list again changes nothing).
/// </summary>
public interface IDependencyStore
{
    /// <summary>
    /// Atomically replaces <see cref="DependencyRegistration.Component"/>'s dependencies, unless the graph already has
    /// <paramref name="maxComponents"/> registered components and this one is new (then <see cref="DependencyWriteStatus.GraphFull"/>).
    /// </summary>
    Task<DependencyWriteStatus> RegisterAsync(DependencyRegistration registration, int maxComponents, CancellationToken cancellationToken = default);

    /// <summary>Every registration, in component order.</summary>
    Task<IReadOnlyList<DependencyRegistration>> GetAllAsync(CancellationToken cancellationToken = default);
}
