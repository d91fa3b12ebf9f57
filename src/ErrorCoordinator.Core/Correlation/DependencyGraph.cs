namespace ErrorCoordinator.Core.Correlation;

/// <summary>
/// The registered service dependency graph: each component and the components it depends on (calls).
/// A failure propagates against the edges: when <c>B</c> fails, components that depend on <c>B</c> (its dependents) fail next.
/// Cycles are allowed in the stored graph; they are reported (<see cref="FindCycles"/>) and the ranking never loops on them.
/// </summary>
public sealed class DependencyGraph
{
    private static readonly IReadOnlySet<string> None = new HashSet<string>();
    private readonly Dictionary<string, IReadOnlySet<string>> _dependsOn;
    private readonly Dictionary<string, HashSet<string>> _dependents = new(StringComparer.Ordinal);

    public DependencyGraph(IReadOnlyDictionary<string, IReadOnlyList<string>> dependsOn)
    {
        ArgumentNullException.ThrowIfNull(dependsOn);
        _dependsOn = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (var (component, deps) in dependsOn)
        {
            var set = new HashSet<string>(deps, StringComparer.Ordinal);
            _dependsOn[component] = set;
            foreach (var d in set)
            {
                if (!_dependents.TryGetValue(d, out var back)) _dependents[d] = back = new HashSet<string>(StringComparer.Ordinal);
                back.Add(component);
            }
        }
    }

    public static DependencyGraph Empty { get; } = new(new Dictionary<string, IReadOnlyList<string>>());

    /// <summary>Every component that is registered or named as a dependency, sorted.</summary>
    public IReadOnlyList<string> Components =>
        _dependsOn.Keys.Concat(_dependents.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Registered components (those with an entry of their own).</summary>
    public IReadOnlyCollection<string> Registered => _dependsOn.Keys;

    public int EdgeCount => _dependsOn.Values.Sum(s => s.Count);

    /// <summary>The components <paramref name="component"/> depends on.</summary>
    public IReadOnlySet<string> DependenciesOf(string component) => _dependsOn.GetValueOrDefault(component) ?? None;

    /// <summary>The components that depend on <paramref name="component"/>: where its failure propagates to.</summary>
    public IReadOnlySet<string> DependentsOf(string component) =>
        _dependents.TryGetValue(component, out var d) ? d : None;

    /// <summary>True when <paramref name="from"/> depends directly on <paramref name="to"/>.</summary>
    public bool DependsOn(string from, string to) => DependenciesOf(from).Contains(to);

    /// <summary>Components adjacent to <paramref name="component"/> in either direction.</summary>
    public IEnumerable<string> NeighboursOf(string component) => DependenciesOf(component).Concat(DependentsOf(component)).Distinct(StringComparer.Ordinal);

    /// <summary>
    /// The elementary cycles found by a depth-first search (each as the component path, first component repeated at the end),
    /// at most <paramref name="max"/>. Iterative, so a deep graph cannot overflow the stack.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<string>> FindCycles(int max = 20)
    {
        var cycles = new List<IReadOnlyList<string>>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 0 new, 1 on stack, 2 done
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var start in _dependsOn.Keys.Order(StringComparer.Ordinal))
        {
            if (state.GetValueOrDefault(start) != 0) continue;
            var path = new List<string>();
            var stack = new Stack<(string Node, IEnumerator<string> Next)>();
            stack.Push((start, DependenciesOf(start).Order(StringComparer.Ordinal).GetEnumerator()));
            state[start] = 1;
            path.Add(start);
            while (stack.Count > 0 && cycles.Count < max)
            {
                var (node, next) = stack.Peek();
                if (!next.MoveNext())
                {
                    stack.Pop();
                    state[node] = 2;
                    path.RemoveAt(path.Count - 1);
                    continue;
                }
                var child = next.Current;
                switch (state.GetValueOrDefault(child))
                {
                    case 0:
                        state[child] = 1;
                        path.Add(child);
                        stack.Push((child, DependenciesOf(child).Order(StringComparer.Ordinal).GetEnumerator()));
                        break;
                    case 1:
                        var cycle = path.Skip(path.IndexOf(child)).Append(child).ToList();
                        var canonical = string.Join("\u001f", cycle.Take(cycle.Count - 1).Order(StringComparer.Ordinal));
                        if (seen.Add(canonical)) cycles.Add(cycle);
                        break;
                }
            }
        }
        return cycles;
    }
}

/// <summary>One component's registration as stored.</summary>
public sealed record DependencyRegistration(string Component, IReadOnlyList<string> DependsOn, DateTimeOffset UpdatedAt);

/// <summary>The answer to registering a component's dependencies.</summary>
public sealed record RegisterDependenciesResult(DependencyRegistration Registration, bool Changed, IReadOnlyList<IReadOnlyList<string>> Cycles, int Components, int Edges);
