using ErrorCoordinator.Core.Correlation;

namespace ErrorCoordinator.Core.Tests.Correlation;

public sealed class DependencyGraphTests
{
    private static DependencyGraph G(params (string From, string[] To)[] edges) =>
        new(edges.ToDictionary(e => e.From, e => (IReadOnlyList<string>)e.To));

    [Fact]
    public void Dependents_are_the_reverse_of_dependencies()
    {
        var g = G(("web", ["api"]), ("api", ["db", "cache"]), ("worker", ["db"]));
        Assert.Equal(new[] { "api", "worker" }, g.DependentsOf("db").Order());
        Assert.Equal(new[] { "cache", "db" }, g.DependenciesOf("api").Order());
        Assert.True(g.DependsOn("web", "api"));
        Assert.False(g.DependsOn("api", "web"));
        Assert.Equal(["api", "cache", "db", "web", "worker"], g.Components);
        Assert.Equal(4, g.EdgeCount);
        Assert.Empty(g.DependentsOf("unknown"));
    }

    [Fact]
    public void A_dag_has_no_cycles()
    {
        Assert.Empty(G(("web", ["api"]), ("api", ["db"]), ("worker", ["db", "api"])).FindCycles());
    }

    [Fact]
    public void Cycles_are_found_once_each_with_their_path()
    {
        var g = G(("a", ["b"]), ("b", ["c"]), ("c", ["a"]), ("d", ["d"]), ("e", ["f"]), ("f", ["e"]));
        var cycles = g.FindCycles();
        Assert.Equal(3, cycles.Count);
        Assert.Contains(cycles, c => c.SequenceEqual(["a", "b", "c", "a"]));
        Assert.Contains(cycles, c => c.SequenceEqual(["d", "d"]));
        Assert.Contains(cycles, c => c.SequenceEqual(["e", "f", "e"]));
    }

    [Fact]
    public void A_deep_chain_does_not_overflow_the_stack()
    {
        var edges = Enumerable.Range(0, 50_000).ToDictionary(i => $"s{i}", i => (IReadOnlyList<string>)(i == 0 ? ["s49999"] : [$"s{i - 1}"]));
        var cycle = Assert.Single(new DependencyGraph(edges).FindCycles());
        Assert.Equal(50_001, cycle.Count);
    }

    [Fact]
    public void Ranking_over_a_cyclic_graph_terminates_and_follows_time()
    {
        // api and db depend on each other; db fails first, api follows: db explains api, and the path follows the clock.
        var g = G(("api", ["db"]), ("db", ["api"]), ("web", ["api"]));
        var events = CorrelationTestData.Burst("db", 0, 6, "DeadlockError").Concat(CorrelationTestData.Burst("api", 8, 5))
            .Concat(CorrelationTestData.Burst("web", 15, 4, "HTTP503Error")).ToList();
        var a = CorrelationEngine.Analyze(events, g, CorrelationSettings.Default);
        Assert.False(a.Abstain, a.Verdict);
        Assert.Equal("db", a.RootCauses[0].Component);
        Assert.Equal(["db", "api", "web"], a.RootCauses[0].Path);
    }
}
