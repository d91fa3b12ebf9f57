using ErrorCoordinator.Core.Errors;

namespace ErrorCoordinator.Core.Correlation;

/// <summary>
/// Clusters error events and ranks root causes. Pure and deterministic (same events and graph, same answer), so it is
/// tested and scored without a store.
/// <list type="number">
/// <item>Each component's events split into bursts (gaps longer than the link gap start a new burst); events without a
/// component form bursts per error group.</item>
/// <item>Bursts are linked (union-find) when they share a trace id, or when their components are joined by a dependency edge
/// and the bursts are within the link gap of each other. A cluster is a connected set of bursts.</item>
/// <item>In each cluster, every component is a candidate. Its failure explains a dependent that failed after it (within the
/// clock skew) and within the propagation limit, transitively. A candidate's score is the share of the cluster it explains,
/// lowered when one of its own dependencies was already failing (that dependency explains it better) and when it has too
/// few errors of its own to be a persistent fault.</item>
/// <item>The answer abstains when no cluster holds enough events to name a cause (unrelated noise), or when two origins
/// that do not explain each other both carry a large share of the failures (no single cause).</item>
/// </list>
/// </summary>
public static class CorrelationEngine
{
    public const int MaxEventIdsPerCluster = 100;
    private const int MaxEvidence = 12;


    /// <summary>Share of the primary origin's weight a second, independent origin needs to make the answer abstain.</summary>
    private const double IndependentOriginShare = 0.1;

    public static CorrelationAnalysis Analyze(IReadOnlyList<ErrorEvent> events, DependencyGraph graph, CorrelationSettings settings, string? component = null)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(graph);
        if (events.Count == 0) return new CorrelationAnalysis([], false, null, [], true, "No errors in the window.", null);

        var ordered = events.OrderBy(e => e.OccurredAt).ThenBy(e => e.EventId, StringComparer.Ordinal).ToArray();
        var bursts = BuildBursts(ordered, settings.LinkGap);
        var uf = new UnionFind(bursts.Count);
        var linkedBy = new Dictionary<int, HashSet<string>>();
        LinkByTrace(ordered, bursts, uf, linkedBy);
        LinkByDependency(bursts, graph, settings.LinkGap, uf, linkedBy);

        var clusters = new List<ClusterWork>();
        foreach (var members in Enumerable.Range(0, bursts.Count).GroupBy(uf.Find))
        {
            var work = new ClusterWork(members.Select(i => bursts[i]).ToList(), ordered);
            work.LinkedBy.UnionWith(members.SelectMany(i => linkedBy.GetValueOrDefault(i) ?? []));
            if (work.LinkedBy.Count == 0) work.LinkedBy.Add("time");
            clusters.Add(work);
        }
        if (component is not null) clusters = clusters.Where(c => c.Nodes.ContainsKey(component)).ToList();
        if (clusters.Count == 0)
            return new CorrelationAnalysis([], false, null, [], true, $"No errors on '{component}' in the window.", null);

        foreach (var c in clusters) Rank(c, graph, settings);
        clusters.Sort((a, b) => a.FirstAt.CompareTo(b.FirstAt));

        var output = clusters.Select(c => c.ToCluster(settings)).ToList();
        var byId = clusters.Zip(output).ToDictionary(p => p.First, p => p.Second);
        var cascade = output.FirstOrDefault(c => c.Cascade);

        var significant = clusters.Where(c => byId[c].Significant && c.Candidates.Count > 0)
            .OrderByDescending(c => c.Candidates[0].Weight).ThenBy(c => c.FirstAt).ToList();
        if (significant.Count == 0)
        {
            var ranked = clusters.Where(c => c.Candidates.Count > 0).OrderByDescending(c => c.Candidates[0].Weight)
                .SelectMany(c => c.Candidates.Take(1).Select(x => x.ToCandidate(byId[c].Id))).Take(settings.MaxRootCauses).ToList();
            return new CorrelationAnalysis(output, cascade is not null, cascade?.CascadeReason, ranked, true,
                $"Abstain: no cluster has {settings.MinClusterEvents} or more related errors; the {ordered.Length} errors look like unrelated noise.", null);
        }

        var primary = significant[0];
        var top = primary.Candidates[0];
        var rootCauses = primary.Candidates.Take(settings.MaxRootCauses).Select(x => x.ToCandidate(byId[primary].Id)).ToList();
        foreach (var other in significant.Skip(1))
        {
            if (rootCauses.Count >= settings.MaxRootCauses) break;
            rootCauses.Add(other.Candidates[0].ToCandidate(byId[other].Id));
        }

        // A second origin: another significant cluster, or a candidate of the same cluster that the top one does not explain
        // (and that does not explain the top one), carrying a large share of the failures on its own.
        string? rival = null;
        if (significant.Count > 1)
            rival = $"a separate cluster led by '{significant[1].Candidates[0].Node.Label}' ({significant[1].Candidates[0].Explained.Count + 1} components, {significant[1].Candidates[0].Mass} errors)";
        else
        {
            foreach (var c in primary.Candidates.Skip(1))
            {
                if (top.Explained.ContainsKey(c.Node.Key) || c.Explained.ContainsKey(top.Node.Key)) continue;
                var own = c.ExplainedMass(excluding: top);
                if (c.Node.RepeatsAtLeast(settings.MinOwnErrors) && own >= settings.MinClusterEvents && own >= IndependentOriginShare * top.Mass)
                {
                    rival = $"'{c.Node.Label}', which fails on its own ({own} errors not explained by '{top.Node.Label}')";
                    break;
                }
            }
        }
        if (rival is not null)
            return new CorrelationAnalysis(output, cascade is not null, cascade?.CascadeReason, rootCauses, true,
                $"Abstain: no single cause. '{top.Node.Label}' explains {top.Explained.Count + 1} components, but so does {rival}.", byId[primary].Id);

        var verdict = top.Explained.Count > 0
            ? $"Most likely root cause: '{top.Node.Label}' (first failed {top.Node.First:O}); its failure explains {top.Explained.Count} other failing components along {string.Join(" -> ", top.Path.Select(n => n.Label))}."
            : $"Most likely root cause: '{top.Node.Label}', a burst of {top.Node.Count} errors with no other component failing after it.";
        return new CorrelationAnalysis(output, cascade is not null, cascade?.CascadeReason, rootCauses, false, verdict, byId[primary].Id);
    }

    /// <summary>The original design's rule, for comparison: the first error in the window is the root cause.</summary>
    public static string? FirstErrorRule(IReadOnlyList<ErrorEvent> events) =>
        events.OrderBy(e => e.OccurredAt).ThenBy(e => e.EventId, StringComparer.Ordinal).Select(e => e.Component ?? "group:" + e.GroupId).FirstOrDefault();

    private static List<Burst> BuildBursts(ErrorEvent[] ordered, TimeSpan gap)
    {
        var bursts = new List<Burst>();
        var open = new Dictionary<string, Burst>(StringComparer.Ordinal);
        for (var i = 0; i < ordered.Length; i++)
        {
            var e = ordered[i];
            var key = NodeKey(e);
            if (!open.TryGetValue(key, out var b) || e.OccurredAt - b.End > gap)
            {
                b = new Burst(bursts.Count, key, e.Component, e.OccurredAt);
                bursts.Add(b);
                open[key] = b;
            }
            b.Events.Add(i);
            b.End = e.OccurredAt;
        }
        return bursts;
    }

    internal static string NodeKey(ErrorEvent e) => e.Component ?? "group:" + e.GroupId;

    private static void LinkByTrace(ErrorEvent[] ordered, List<Burst> bursts, UnionFind uf, Dictionary<int, HashSet<string>> linkedBy)
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var b in bursts)
        {
            foreach (var i in b.Events)
            {
                if (ordered[i].TraceId is not { Length: > 0 } trace) continue;
                if (first.TryGetValue(trace, out var other))
                {
                    if (other != b.Id && uf.Union(other, b.Id)) Mark(linkedBy, b.Id, other, "trace_id");
                }
                else first[trace] = b.Id;
            }
        }
    }

    private static void LinkByDependency(List<Burst> bursts, DependencyGraph graph, TimeSpan gap, UnionFind uf, Dictionary<int, HashSet<string>> linkedBy)
    {
        var byNode = bursts.Where(b => b.Component is not null).GroupBy(b => b.Component!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        foreach (var (node, own) in byNode)
        {
            foreach (var dep in graph.DependenciesOf(node))
            {
                if (dep == node || !byNode.TryGetValue(dep, out var theirs)) continue;
                foreach (var a in own)
                foreach (var b in theirs)
                {
                    if (a.Start - gap <= b.End && b.Start - gap <= a.End && uf.Union(a.Id, b.Id)) Mark(linkedBy, a.Id, b.Id, "dependency");
                }
            }
        }
    }

    private static void Mark(Dictionary<int, HashSet<string>> linkedBy, int a, int b, string how)
    {
        foreach (var id in new[] { a, b })
        {
            if (!linkedBy.TryGetValue(id, out var set)) linkedBy[id] = set = [];
            set.Add(how);
        }
    }

    private static void Rank(ClusterWork cluster, DependencyGraph graph, CorrelationSettings s)
    {
        var nodes = cluster.Nodes;
        var candidates = new List<Candidate>();
        foreach (var node in nodes.Values.Where(n => n.Component is not null))
        {
            // Everything the candidate's failure explains: dependents (transitively) that failed after it, in reach.
            var explained = new Dictionary<string, string?>(StringComparer.Ordinal); // node -> parent on the way
            var queue = new Queue<Node>();
            queue.Enqueue(node);
            var visited = new HashSet<string>(StringComparer.Ordinal) { node.Key };
            while (queue.Count > 0)
            {
                var cur = queue.Dequeue();
                foreach (var d in graph.DependentsOf(cur.Component!))
                {
                    if (visited.Contains(d) || !nodes.TryGetValue(d, out var dn)) continue;
                    var lag = dn.First - cur.First;
                    if (lag < -s.ClockSkew || lag > s.MaxPropagation) continue;
                    visited.Add(d);
                    explained[d] = cur.Key;
                    queue.Enqueue(dn);
                }
            }
            // A dependency of the candidate that was failing before it (within the skew) would explain the candidate.
            var precededBy = graph.DependenciesOf(node.Component!)
                .Where(d => d != node.Key && nodes.TryGetValue(d, out var dn) && dn.First <= node.First + s.ClockSkew)
                .Select(d => nodes[d]).ToList();
            var mass = node.Count + explained.Keys.Sum(k => nodes[k].Count);
            // Half the share of failing components explained, half the share of errors explained.
            var coverage = 0.5 * (1.0 + explained.Count) / nodes.Count + 0.5 * mass / cluster.EventCount;
            // A persistent dependency failing first lowers the candidate, the more so the more errors it has next to the candidate's.
            var precedence = precededBy.Count == 0 ? 1.0
                : 1.0 - 0.6 * precededBy.Max(p => p.Persistence * Math.Min(1.0, (double)p.Count / node.Count));
            var score = coverage * precedence * node.Persistence;
            candidates.Add(new Candidate(node, explained, precededBy, score, mass, cluster));
        }
        candidates.Sort((a, b) =>
        {
            var c = b.Score.CompareTo(a.Score);
            if (c != 0) return c;
            c = a.Node.First.CompareTo(b.Node.First);
            return c != 0 ? c : string.CompareOrdinal(a.Node.Key, b.Node.Key);
        });
        foreach (var c in candidates) c.BuildPath(graph);
        cluster.Candidates = candidates;
        // Enough to name a cause: the top candidate repeats one error at least MinOwnErrors times and, with what it explains,
        // accounts for MinClusterEvents errors. Stray errors chained by chance along dependency edges do not.
        cluster.Significant = candidates.Count > 0 && candidates[0].Mass >= s.MinClusterEvents && candidates[0].Node.RepeatsAtLeast(s.MinOwnErrors);
        if (candidates.Count > 0 && candidates[0].Explained.Count > 0 && cluster.Significant)
        {
            var top = candidates[0];
            cluster.Spreading = $"failures spread from '{top.Node.Label}' to {top.Explained.Count} dependent component{(top.Explained.Count == 1 ? "" : "s")} ({string.Join(" -> ", top.Path.Select(n => n.Label))})";
        }
    }

    private sealed class Burst(int id, string key, string? component, DateTimeOffset start)
    {
        public int Id { get; } = id;
        public string Key { get; } = key;
        public string? Component { get; } = component;
        public DateTimeOffset Start { get; } = start;
        public DateTimeOffset End { get; set; } = start;
        public List<int> Events { get; } = [];
    }

    internal sealed class Node(string key, string? component, DateTimeOffset first)
    {
        public string Key { get; } = key;
        public string? Component { get; } = component;
        public string Label => Component ?? Key;
        public DateTimeOffset First { get; set; } = first;
        public List<ErrorEvent> Events { get; } = [];
        public int Count => Events.Count;
        public bool RepeatsAtLeast(int n) => Events.GroupBy(e => e.GroupId, StringComparer.Ordinal).Any(g => g.Count() >= n);

        /// <summary>The first error at the onset of the failure.</summary>
        public ErrorEvent OnsetEvent => Events.First(e => e.OccurredAt >= First);
        /// <summary>1 - e^(-n/2): one error 0.39, three 0.78, five 0.92. A fault persists; a stray error does not.</summary>
        public double Persistence => 1 - Math.Exp(-Count / 2.0);
    }

    private sealed class ClusterWork
    {
        public ClusterWork(List<Burst> bursts, ErrorEvent[] ordered)
        {
            var indexes = bursts.SelectMany(b => b.Events).Order().ToArray();
            Events = indexes.Select(i => ordered[i]).ToList();
            foreach (var e in Events)
            {
                var key = NodeKey(e);
                if (!Nodes.TryGetValue(key, out var n)) Nodes[key] = n = new Node(key, e.Component, e.OccurredAt);
                n.Events.Add(e);
            }
            foreach (var n in Nodes.Values) n.First = Onset(n.Events);
            FirstAt = Events[0].OccurredAt;
        }

        /// <summary>
        /// When a component started failing: the first error of the earliest of its main error groups (those with at least half
        /// as many errors as the largest, and at least two), so a stray error of another kind just before the real failure does
        /// not move its start; the first error when no group repeats.
        /// </summary>
        private static DateTimeOffset Onset(List<ErrorEvent> events)
        {
            var firstByGroup = new Dictionary<string, (DateTimeOffset First, int Count)>(StringComparer.Ordinal);
            foreach (var e in events)
                firstByGroup[e.GroupId] = firstByGroup.TryGetValue(e.GroupId, out var g) ? (g.First, g.Count + 1) : (e.OccurredAt, 1);
            var dominant = firstByGroup.Values.Max(g => g.Count);
            var threshold = Math.Max(2, (dominant + 1) / 2);
            var repeated = firstByGroup.Values.Where(g => g.Count >= threshold).Select(g => g.First).ToList();
            return repeated.Count > 0 ? repeated.Min() : events[0].OccurredAt;
        }

        public List<ErrorEvent> Events { get; }
        public int EventCount => Events.Count;
        public Dictionary<string, Node> Nodes { get; } = new(StringComparer.Ordinal);
        public DateTimeOffset FirstAt { get; }
        public HashSet<string> LinkedBy { get; } = new(StringComparer.Ordinal);
        public List<Candidate> Candidates { get; set; } = [];
        public bool Significant { get; set; }
        public string? Spreading { get; set; }

        public ErrorCluster ToCluster(CorrelationSettings s)
        {
            var types = Events.Select(e => e.ErrorType).Distinct(StringComparer.Ordinal).ToList();
            string? reason = null;
            // Either rule only counts in a significant cluster: stray errors chained by chance are not a cascade.
            if (types.Count >= s.CascadeErrorTypes && Significant)
                reason = $"{types.Count} distinct error types in one cluster ({string.Join(", ", types.Take(6))})";
            if (Spreading is not null) reason = reason is null ? Spreading : reason + "; " + Spreading;
            return new ErrorCluster
            {
                Id = "cl_" + Events[0].EventId,
                Components = Nodes.Values.OrderBy(n => n.First).Select(n => n.Label).ToList(),
                Groups = Events.GroupBy(e => e.GroupId, StringComparer.Ordinal)
                    .Select(g => new ClusterGroup(g.Key, g.First().ErrorType, g.First().Component, g.Count(), g.First().OccurredAt))
                    .OrderBy(g => g.FirstAt).ToList(),
                EventIds = Events.Take(MaxEventIdsPerCluster).Select(e => e.EventId).ToList(),
                EventCount = EventCount,
                TraceIds = Events.Where(e => e.TraceId is { Length: > 0 }).Select(e => e.TraceId!).Distinct(StringComparer.Ordinal).Take(50).ToList(),
                ErrorTypes = types,
                Agents = Events.Select(e => e.Agent).Distinct(StringComparer.Ordinal).Take(50).ToList(),
                FirstAt = FirstAt,
                LastAt = Events[^1].OccurredAt,
                LastReceivedAt = Events.Max(e => e.ReceivedAt),
                LinkedBy = LinkedBy.Order(StringComparer.Ordinal).ToList(),
                Cascade = reason is not null,
                CascadeReason = reason,
                Significant = Significant,
            };
        }
    }

    private sealed class Candidate(Node node, Dictionary<string, string?> explained, List<Node> precededBy, double score, int mass, ClusterWork cluster)
    {
        public Node Node { get; } = node;
        public Dictionary<string, string?> Explained { get; } = explained;
        public double Score { get; } = score;
        public int Mass { get; } = mass;
        public double Persistence => Node.Persistence;
        /// <summary>Ranks clusters against each other: the score times the errors explained.</summary>
        public double Weight => Score * Mass;
        public List<Node> Path { get; private set; } = [];

        public int ExplainedMass(Candidate excluding) =>
            Node.Count + Explained.Keys.Where(k => !excluding.Explained.ContainsKey(k) && k != excluding.Node.Key).Sum(k => cluster.Nodes[k].Count);

        /// <summary>The longest chain candidate -> dependent -> ... whose first failures never go back in time.</summary>
        public void BuildPath(DependencyGraph graph)
        {
            var members = Explained.Keys.Select(k => cluster.Nodes[k]).Append(Node)
                .OrderBy(n => n.First).ThenBy(n => n.Key, StringComparer.Ordinal).ToList();
            var best = new Dictionary<string, (int Length, string? Prev)>(StringComparer.Ordinal) { [Node.Key] = (1, null) };
            foreach (var n in members)
            {
                if (!best.TryGetValue(n.Key, out var here)) continue;
                foreach (var d in graph.DependentsOf(n.Component!))
                {
                    if (!Explained.ContainsKey(d)) continue;
                    var dn = cluster.Nodes[d];
                    if (dn.First < n.First || (dn.First == n.First && string.CompareOrdinal(dn.Key, n.Key) <= 0)) continue;
                    if (!best.TryGetValue(d, out var there) || there.Length < here.Length + 1) best[d] = (here.Length + 1, n.Key);
                }
            }
            var end = best.OrderByDescending(p => p.Value.Length).ThenBy(p => cluster.Nodes[p.Key].First).First().Key;
            var path = new List<Node>();
            for (string? k = end; k is not null; k = best[k].Prev) path.Add(cluster.Nodes[k]);
            path.Reverse();
            Path = path;
        }

        public RootCauseCandidate ToCandidate(string clusterId)
        {
            var evidence = Node.Events.Where(e => e.OccurredAt >= Node.First).Take(5).Select(e => e.EventId)
                .Concat(Path.Skip(1).Select(n => n.OnsetEvent.EventId))
                .Concat(Explained.Keys.Select(k => cluster.Nodes[k]).OrderBy(n => n.First).Select(n => n.OnsetEvent.EventId))
                .Distinct(StringComparer.Ordinal).Take(MaxEvidence).ToList();
            var reason = Explained.Count == 0
                ? $"{Node.Count} errors on '{Node.Label}' from {Node.First:O}; no failing dependent follows it."
                : $"{Node.Count} errors on '{Node.Label}' from {Node.First:O}; {Explained.Count} dependent components failed after it.";
            if (precededBy.Count > 0)
                reason += $" Lowered: its dependenc{(precededBy.Count == 1 ? "y" : "ies")} {string.Join(", ", precededBy.Select(p => "'" + p.Label + "'"))} failed first.";
            return new RootCauseCandidate
            {
                Component = Node.Label,
                GroupId = Node.OnsetEvent.GroupId,
                Score = Math.Round(Score, 4),
                Evidence = evidence,
                Path = Path.Select(n => n.Label).ToList(),
                ClusterId = clusterId,
                Explains = Explained.Count,
                FirstFailureAt = Node.First,
                Reason = reason,
            };
        }
    }

    private sealed class UnionFind
    {
        private readonly int[] _parent;
        public UnionFind(int n)
        {
            _parent = new int[n];
            for (var i = 0; i < n; i++) _parent[i] = i;
        }

        public int Find(int x)
        {
            while (_parent[x] != x)
            {
                _parent[x] = _parent[_parent[x]];
                x = _parent[x];
            }
            return x;
        }

        public bool Union(int a, int b)
        {
            var ra = Find(a);
            var rb = Find(b);
            if (ra == rb) return false;
            if (ra < rb) _parent[rb] = ra;
            else _parent[ra] = rb;
            return true;
        }
    }
}
