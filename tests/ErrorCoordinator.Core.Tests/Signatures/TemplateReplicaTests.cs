using ErrorCoordinator.Core.Signatures;

namespace ErrorCoordinator.Core.Tests.Signatures;

/// <summary>The replica's propose / accept / refresh logic, without a store.</summary>
public sealed class TemplateReplicaTests
{
    private static string[] T(string message)
    {
        var tokens = new List<string>();
        MessageNormalizer.Default.Tokenize(message, tokens, SignatureDefaults.MaxTokens);
        return [.. tokens];
    }

    private static (TemplateDecision D, string Template) Assign(TemplateReplica r, string message, string type = "Error")
    {
        var p = r.Propose(type, T(message));
        r.Accept(p.Decision);
        return p;
    }

    private static TemplateBucketSnapshot Snapshot(IEnumerable<TemplateDecision> accepted)
    {
        // What a store holds after accepting these decisions in order (one bucket).
        var clusters = new Dictionary<string, string>();
        var version = "";
        foreach (var d in accepted)
        {
            if (d.ClusterData is not null) clusters[d.ClusterId] = d.ClusterData;
            version = d.NewVersion;
        }
        return new TemplateBucketSnapshot(version, clusters);
    }

    [Fact]
    public void Propose_creates_a_deterministic_cluster_and_changes_nothing_until_accepted()
    {
        var r = new TemplateReplica();
        var p = r.Propose("Error", T("session opened for user root by sshd daemon"));
        Assert.Equal(TemplateChange.Create, p.Decision.Change);
        Assert.Equal("", p.Decision.ExpectedVersion);
        Assert.Equal(GroupIds.FromParts("template", "Error", "session opened for user root by sshd daemon"), p.Decision.ClusterId);
        Assert.Equal(0, r.Count);
        // Proposing again without accepting gives the same cluster.
        Assert.Equal(p.Decision.ClusterId, r.Propose("Error", T("session opened for user root by sshd daemon")).Decision.ClusterId);

        r.Accept(p.Decision);
        Assert.Equal(1, r.Count);
        var join = r.Propose("Error", T("session opened for user root by sshd daemon"));
        Assert.Equal(TemplateChange.Join, join.Decision.Change);
        Assert.Equal(p.Decision.NewVersion, join.Decision.ExpectedVersion);
        Assert.Equal(join.Decision.ExpectedVersion, join.Decision.NewVersion);
        Assert.Null(join.Decision.ClusterData);
    }

    [Fact]
    public void Generalising_a_template_is_an_update_of_the_same_cluster_with_a_new_version()
    {
        var r = new TemplateReplica();
        var root = Assign(r, "session opened for user root by sshd daemon");
        var cyrus = r.Propose("Error", T("session opened for user cyrus by sshd daemon"));
        Assert.Equal(TemplateChange.Update, cyrus.Decision.Change);
        Assert.Equal(root.D.ClusterId, cyrus.Decision.ClusterId);
        Assert.NotEqual(root.D.NewVersion, cyrus.Decision.NewVersion);
        Assert.Equal("session opened for user <*> by sshd daemon", cyrus.Template);
        Assert.Equal(root.D.BucketKey, cyrus.Decision.BucketKey);
        var (tokens, gen) = TemplateReplica.Decode(cyrus.Decision.ClusterData!);
        Assert.Equal(["session", "opened", "for", "user", "<*>", "by", "sshd", "daemon"], tokens);
        Assert.Equal([false, false, false, false, true, false, false, false], gen);
    }

    [Fact]
    public void A_refresh_from_the_store_makes_a_late_replica_agree_whatever_order_it_saw()
    {
        // Process A saw root then cyrus; the store holds A's cluster.
        var a = new TemplateReplica();
        var first = Assign(a, "session opened for user root by sshd daemon");
        var second = Assign(a, "session opened for user cyrus by sshd daemon");

        // Process B sees cyrus first: from its empty replica it would create its own cluster...
        var b = new TemplateReplica();
        var proposal = b.Propose("Error", T("session opened for user cyrus by sshd daemon"));
        Assert.Equal(TemplateChange.Create, proposal.Decision.Change);
        Assert.NotEqual(first.D.ClusterId, proposal.Decision.ClusterId);
        // ...but the store answers a conflict with its bucket; after the refresh B joins A's cluster.
        b.Refresh(proposal.Decision.BucketKey, Snapshot([first.D, second.D]));
        var again = b.Propose("Error", T("session opened for user cyrus by sshd daemon"));
        Assert.Equal(TemplateChange.Join, again.Decision.Change);
        Assert.Equal(first.D.ClusterId, again.Decision.ClusterId);
        Assert.Equal(second.D.NewVersion, again.Decision.ExpectedVersion);
        Assert.Equal("session opened for user <*> by sshd daemon", again.Template);
    }

    [Fact]
    public void An_accept_against_a_bucket_that_moved_on_drops_it_for_a_refresh()
    {
        var r = new TemplateReplica();
        var p1 = r.Propose("Error", T("disk full on volume data"));
        var p2 = r.Propose("Error", T("disk full on volume logs"));
        r.Accept(p1.Decision);
        Assert.Equal(1, r.Count);
        r.Accept(p2.Decision); // proposed against "", the bucket is now at p1's version: stale
        Assert.Equal(0, r.BucketCount);
        Assert.Equal("", r.Propose("Error", T("disk full on volume data")).Decision.ExpectedVersion);
    }

    [Fact]
    public void Refresh_with_an_empty_bucket_forgets_it()
    {
        var r = new TemplateReplica();
        var p = Assign(r, "disk full on volume data");
        r.Refresh(p.D.BucketKey, TemplateBucketSnapshot.Empty);
        Assert.Equal(0, r.Count);
        Assert.Equal(TemplateChange.Create, r.Propose("Error", T("disk full on volume data")).Decision.Change);
    }

    [Fact]
    public void Evicted_clusters_reported_by_the_store_leave_the_replica()
    {
        var r = new TemplateReplica();
        var a = Assign(r, "alpha failed hard now");
        var b = r.Propose("Error", T("alpha failed away somewhere"));
        Assert.Equal(a.D.BucketKey, b.Decision.BucketKey);
        Assert.Equal(TemplateChange.Create, b.Decision.Change);
        r.Accept(b.Decision, [a.D.ClusterId]);
        Assert.Equal(1, r.Count);
        Assert.Equal(TemplateChange.Create, r.Propose("Error", T("alpha failed hard now")).Decision.Change);
    }

    [Fact]
    public void The_choice_does_not_depend_on_the_order_the_store_lists_clusters()
    {
        var source = new TemplateReplica();
        var decisions = new[] { "job 1 failed on node a", "job 2 failed on host b" }.Select(m => Assign(source, m).D).ToList();
        var snapshot = Snapshot(decisions);
        var reversed = new TemplateBucketSnapshot(snapshot.Version, snapshot.Clusters.Reverse().ToDictionary());
        var x = new TemplateReplica();
        var y = new TemplateReplica();
        x.Refresh(decisions[0].BucketKey, snapshot);
        y.Refresh(decisions[0].BucketKey, reversed);
        foreach (var m in new[] { "job 3 failed on node c", "job 4 failed on rack d", "job 5 failed on host e" })
            Assert.Equal(x.Propose("Error", T(m)).Decision.ClusterId, y.Propose("Error", T(m)).Decision.ClusterId);
    }

    [Fact]
    public void Buckets_route_by_type_length_and_leading_tokens()
    {
        var r = new TemplateReplica();
        var key = r.BucketKeyOf("Error", T("session opened for user root by sshd daemon"));
        Assert.Equal(key, r.BucketKeyOf("Error", T("session opened for user cyrus by sshd daemon")));
        Assert.NotEqual(key, r.BucketKeyOf("OtherError", T("session opened for user root by sshd daemon")));
        Assert.NotEqual(key, r.BucketKeyOf("Error", T("session opened for user root again")));
        Assert.NotEqual(key, r.BucketKeyOf("Error", T("session closed for user root")));
        // A leading token with a digit routes as a variable.
        Assert.Equal(r.BucketKeyOf("Error", T("n1 lost connection to peer")), r.BucketKeyOf("Error", T("n22 lost connection to peer")));
    }

    [Fact]
    public void The_replica_is_bounded_dropping_least_recently_used_buckets()
    {
        var r = new TemplateReplica(maxTemplates: 2);
        Assign(r, "alpha failed");
        Assign(r, "beta failed hard");
        Assign(r, "alpha failed");
        Assign(r, "gamma failed very hard");
        Assert.Equal(2, r.Count);
        Assert.Equal(TemplateChange.Create, r.Propose("Error", T("beta failed hard")).Decision.Change);
        Assert.Equal(TemplateChange.Join, r.Propose("Error", T("alpha failed")).Decision.Change);
    }

    [Fact]
    public void Templates_round_trip_through_the_store_encoding()
    {
        string[] tokens = ["quote\"d", "ünï", "<*>", "x\\y", ""];
        bool[] gen = [false, false, false, false, true];
        var (t, g) = TemplateReplica.Decode(TemplateReplica.Encode(tokens, gen));
        Assert.Equal(["quote\"d", "ünï", "<*>", "x\\y", "<*>"], t);
        Assert.Equal(gen, g);
    }
}
