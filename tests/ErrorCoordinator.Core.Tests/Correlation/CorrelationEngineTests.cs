using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;
using static ErrorCoordinator.Core.Tests.Correlation.CorrelationTestData;

namespace ErrorCoordinator.Core.Tests.Correlation;

public sealed class CorrelationEngineTests
{
    // web -> api -> db, worker -> db, cache standalone.
    private static readonly DependencyGraph Graph = new(new Dictionary<string, IReadOnlyList<string>>
    {
        ["web"] = ["api"],
        ["api"] = ["db", "cache"],
        ["worker"] = ["db"],
        ["db"] = [],
        ["cache"] = [],
    });

    private static CorrelationAnalysis Analyze(IEnumerable<ErrorEvent> events, DependencyGraph? graph = null) =>
        CorrelationEngine.Analyze(events.ToList(), graph ?? Graph, CorrelationSettings.Default);

    [Fact]
    public void A_fault_propagating_up_the_graph_is_ranked_first_with_a_temporally_ordered_path_and_evidence()
    {
        var db = Burst("db", 0, 6, "ConnectionRefusedError").ToList();
        var api = Burst("api", 5, 5).ToList();
        var web = Burst("web", 11, 4, "HTTP503Error").ToList();
        var worker = Burst("worker", 7, 3).ToList();
        var a = Analyze(db.Concat(api).Concat(web).Concat(worker));

        Assert.False(a.Abstain, a.Verdict);
        var top = a.RootCauses[0];
        Assert.Equal("db", top.Component);
        Assert.Equal("grp_db_ConnectionRefusedError", top.GroupId);
        Assert.Equal(3, top.Explains);
        Assert.Equal(["db", "api", "web"], top.Path);
        var firsts = new Dictionary<string, DateTimeOffset> { ["db"] = db[0].OccurredAt, ["api"] = api[0].OccurredAt, ["web"] = web[0].OccurredAt };
        Assert.True(top.Path.Select(c => firsts[c]).Zip(top.Path.Skip(1).Select(c => firsts[c])).All(p => p.First <= p.Second));
        Assert.Equal(db.Take(5).Select(e => e.EventId), top.Evidence.Take(5));
        Assert.Contains(api[0].EventId, top.Evidence);
        Assert.Contains(web[0].EventId, top.Evidence);
        Assert.Contains(worker[0].EventId, top.Evidence);
        Assert.True(top.Score > a.RootCauses[1].Score);
        Assert.All(a.RootCauses.Skip(1), r => Assert.NotEqual("db", r.Component));

        var cluster = Assert.Single(a.Clusters);
        Assert.Equal(18, cluster.EventCount);
        Assert.Contains("dependency", cluster.LinkedBy);
        Assert.True(a.Cascade);
        Assert.Contains("spread from 'db'", a.CascadeReason);
    }

    [Fact]
    public void The_first_error_rule_is_fooled_by_a_dependent_reporting_early_and_the_ranking_is_not()
    {
        // A stray error on web before the fault, then db fails and api and web follow.
        var stray = E("web", -20, "ValidationError");
        var events = new[] { stray }.Concat(Burst("db", 0, 5, "DiskFullError")).Concat(Burst("api", 4, 4)).Concat(Burst("web", 9, 4, "HTTP503Error")).ToList();
        Assert.Equal("web", CorrelationEngine.FirstErrorRule(events));
        var a = Analyze(events);
        Assert.Equal("db", a.RootCauses[0].Component);
        Assert.False(a.Abstain);
    }

    [Fact]
    public void A_stray_error_on_a_dependency_just_before_the_fault_does_not_take_the_blame()
    {
        // cache (a dependency of api) has one unrelated error 2 s before api starts failing hard.
        var events = new[] { E("cache", 0, "KeyError") }.Concat(Burst("api", 2, 8, "OutOfMemoryError")).Concat(Burst("web", 6, 5, "HTTP503Error")).ToList();
        var a = Analyze(events);
        Assert.False(a.Abstain, a.Verdict);
        Assert.Equal("api", a.RootCauses[0].Component);
        Assert.Contains(a.RootCauses, r => r.Component == "cache" && r.Score < a.RootCauses[0].Score);
    }

    [Fact]
    public void A_component_whose_dependency_failed_first_is_lowered_with_the_reason()
    {
        var a = Analyze(Burst("db", 0, 5, "ConnectionRefusedError").Concat(Burst("api", 3, 5)));
        var api = Assert.Single(a.RootCauses, r => r.Component == "api");
        Assert.Contains("'db' failed first", api.Reason);
        Assert.Equal("db", a.RootCauses[0].Component);
    }

    [Fact]
    public void Unrelated_noise_abstains()
    {
        var noise = new[]
        {
            E("web", 0, "ValidationError"), E("cache", 40, "KeyError"), E("worker", 95, "ParseError"), E("db", 150, "RateLimitedError"),
            E("api", 210, "NullReferenceError"), E("web", 260, "PermissionError"),
        };
        var a = Analyze(noise);
        Assert.True(a.Abstain);
        Assert.Contains("noise", a.Verdict);
        Assert.All(a.Clusters, c => Assert.False(c.Significant));
        Assert.False(a.Cascade);
    }

    [Fact]
    public void Two_independent_faults_abstain()
    {
        // cache and worker are unrelated; both fail hard at about the same time.
        var a = Analyze(Burst("cache", 0, 8, "OutOfMemoryError").Concat(Burst("worker", 5, 8, "CUDAError")));
        Assert.True(a.Abstain);
        Assert.Contains("no single cause", a.Verdict);
        Assert.Equal(2, a.RootCauses.Count);
    }

    [Fact]
    public void Events_sharing_a_trace_id_cluster_together_without_any_graph()
    {
        var events = new[] { E("billing", 0, "TimeoutError", trace: "t-1"), E("ledger", 200, "TimeoutError", trace: "t-1"), E("mailer", 100, "KeyError") };
        var a = CorrelationEngine.Analyze(events, DependencyGraph.Empty, CorrelationSettings.Default);
        Assert.Equal(2, a.Clusters.Count);
        var linked = Assert.Single(a.Clusters, c => c.EventCount == 2);
        Assert.Equal(["billing", "ledger"], linked.Components.Order());
        Assert.Equal(["trace_id"], linked.LinkedBy);
        Assert.Equal(["t-1"], linked.TraceIds);
    }

    [Fact]
    public void Three_error_types_in_one_cluster_are_a_cascade_as_in_the_original_design()
    {
        var events = new[] { E("api", 0, "TimeoutError"), E("api", 2, "KeyError"), E("api", 4, "TimeoutError"), E("api", 6, "ParseError"), E("api", 8, "TimeoutError") };
        var a = Analyze(events);
        Assert.True(a.Cascade);
        Assert.StartsWith("3 distinct error types", a.CascadeReason);
    }

    [Fact]
    public void Dependent_bursts_further_apart_than_the_link_gap_are_separate_clusters()
    {
        var a = Analyze(Burst("db", 0, 4, "DiskFullError").Concat(Burst("api", 200, 4)));
        Assert.Equal(2, a.Clusters.Count);
    }

    [Fact]
    public void The_component_filter_keeps_only_clusters_touching_it()
    {
        var events = Burst("db", 0, 5, "DiskFullError").Concat(Burst("api", 3, 4)).Concat(Burst("cache", 100, 5, "OutOfMemoryError")).ToList();
        var a = CorrelationEngine.Analyze(events, Graph, CorrelationSettings.Default, component: "cache");
        var c = Assert.Single(a.Clusters);
        Assert.Equal(["cache"], c.Components);
        Assert.Equal("cache", a.RootCauses[0].Component);
        Assert.True(CorrelationEngine.Analyze(events, Graph, CorrelationSettings.Default, component: "nowhere").Abstain);
    }

    [Fact]
    public void No_events_abstain_with_no_candidates()
    {
        var a = Analyze([]);
        Assert.True(a.Abstain);
        Assert.Empty(a.RootCauses);
        Assert.Empty(a.Clusters);
    }

    [Fact]
    public void The_answer_does_not_depend_on_the_order_events_arrive_in()
    {
        var events = Burst("db", 0, 6, "ConnectionRefusedError").Concat(Burst("api", 5, 5)).Concat(Burst("web", 11, 4)).ToList();
        var a = Analyze(events);
        var b = Analyze(events.AsEnumerable().Reverse());
        Assert.Equal(a.RootCauses.Select(r => (r.Component, r.Score)), b.RootCauses.Select(r => (r.Component, r.Score)));
        Assert.Equal(a.Clusters.Select(c => c.Id), b.Clusters.Select(c => c.Id));
    }
}
