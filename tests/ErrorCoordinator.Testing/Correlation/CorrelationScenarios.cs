using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;

namespace ErrorCoordinator.Testing.Correlation;

/// <summary>A generated incident with its known truth: the faulty component, or null when there is no single cause.</summary>
public sealed record CorrelationScenario(
    int Seed,
    string Kind,
    DependencyGraph Graph,
    IReadOnlyList<ErrorEvent> Events,
    string? RootCause,
    DateTimeOffset Since,
    DateTimeOffset Until);

/// <summary>How scenarios are generated. <see cref="Standard"/> is what the floor test and the bench's main table use.</summary>
/// <param name="MaxHopSeconds">A dependent starts failing 1..this many seconds after its dependency (plus up to 3 s of detection delay).</param>
/// <param name="SkewSeconds">Reporters' clocks are off by up to ± this (normal, σ = 0.4 × it).</param>
/// <param name="Propagation">Probability that a dependent of a failing component fails too.</param>
/// <param name="NoiseLikeFaults">Noise errors use the fault and propagation error types too, so types tell nothing.</param>
public sealed record ScenarioProfile(string Name, int MaxHopSeconds, double SkewSeconds, double Propagation, bool NoiseLikeFaults)
{
    public static readonly ScenarioProfile Standard = new("standard", 15, 2, 0.8, false);

    /// <summary>Slower hops, larger clock skew, weaker propagation, and noise that looks like the fault.</summary>
    public static readonly ScenarioProfile Harsh = new("harsh", 40, 3, 0.6, true);
}

/// <summary>
/// Random incident scenarios. A random dependency DAG of 5-40 components (each depends on 1-3 lower-numbered ones, so
/// low numbers are databases and caches, high numbers front ends). One fault: a burst of errors at one component,
/// propagating to its dependents hop by hop (each dependent fails with probability 0.8, 1-15 s after its dependency
/// plus up to 3 s of detection delay, reporters' clocks off by up to ±2 s), with some errors carrying the fault's trace
/// id. Unrelated noise errors everywhere in the window (0.2-0.6 per component in 5 minutes; 0.4-1.0 in noise-only scenarios). No-single-cause scenarios: noise only (at a higher rate), or two
/// independent faults at unrelated components at about the same time.
/// </summary>
public static class CorrelationScenarios
{
    public static readonly DateTimeOffset Origin = new(2026, 6, 1, 10, 0, 0, TimeSpan.Zero);
    private static readonly string[] FaultTypes = ["ConnectionRefusedError", "OutOfMemoryError", "DiskFullError", "CUDAError", "DeadlockError", "CertificateExpiredError"];
    private static readonly string[] PropagatedTypes = ["TimeoutError", "UpstreamUnavailableError", "HTTP503Error", "CircuitOpenError"];
    private static readonly string[] NoiseTypes = ["ValidationError", "KeyError", "RateLimitedError", "NullReferenceError", "ParseError", "PermissionError"];

    /// <summary><paramref name="count"/> scenarios from <paramref name="seed"/>; about 30% have no single cause.</summary>
    public static IEnumerable<CorrelationScenario> Generate(int seed, int count, ScenarioProfile? profile = null)
    {
        for (var i = 0; i < count; i++) yield return One(seed * 100_003 + i, profile);
    }

    public static CorrelationScenario One(int seed, ScenarioProfile? profile = null)
    {
        var p = profile ?? ScenarioProfile.Standard;
        var rng = new Random(seed);
        var n = rng.Next(5, 41);
        var names = Enumerable.Range(0, n).Select(i => $"svc-{i:D2}").ToArray();
        var deps = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        for (var i = 0; i < n; i++)
        {
            if (i == 0) { deps[names[i]] = []; continue; }
            var k = Math.Min(i, rng.Next(1, 4));
            deps[names[i]] = Enumerable.Range(0, i).OrderBy(_ => rng.Next()).Take(k).Select(j => names[j]).ToList();
        }
        var graph = new DependencyGraph(deps);
        var until = Origin.AddMinutes(rng.Next(0, 10_000));
        var since = until.AddSeconds(-300);
        var events = new List<ErrorEvent>();
        var skew = names.ToDictionary(x => x, _ => TimeSpan.FromSeconds(Math.Clamp(Normal(rng) * 0.4 * p.SkewSeconds, -p.SkewSeconds, p.SkewSeconds)), StringComparer.Ordinal);

        var roll = rng.NextDouble();
        string kind;
        string? root = null;
        if (roll < 0.7)
        {
            kind = "single";
            var withDependents = names.Where(x => graph.DependentsOf(x).Count > 0).ToArray();
            root = withDependents.Length > 0 && rng.NextDouble() < 0.85 ? withDependents[rng.Next(withDependents.Length)] : names[rng.Next(n)];
            Fault(rng, p, graph, root, since.AddSeconds(rng.Next(40, 200)), until, skew, events, "f1");
            Noise(rng, p, names, since, until, NoiseCount(rng, n, 0.2, 0.6), events);
        }
        else if (roll < 0.85)
        {
            kind = "noise_only";
            Noise(rng, p, names, since, until, NoiseCount(rng, n, 0.4, 1.0), events);
        }
        else
        {
            kind = "two_faults";
            var a = names[rng.Next(n)];
            var related = Reach(graph, a, up: true).Concat(Reach(graph, a, up: false)).ToHashSet(StringComparer.Ordinal);
            var others = names.Where(x => !related.Contains(x)).ToArray();
            if (others.Length == 0)
            {
                kind = "noise_only";
                Noise(rng, p, names, since, until, NoiseCount(rng, n, 0.4, 1.0), events);
            }
            else
            {
                var b = others[rng.Next(others.Length)];
                var t = since.AddSeconds(rng.Next(40, 200));
                Fault(rng, p, graph, a, t, until, skew, events, "f1");
                Fault(rng, p, graph, b, t.AddSeconds(rng.Next(-20, 21)), until, skew, events, "f2");
                Noise(rng, p, names, since, until, NoiseCount(rng, n, 0.2, 0.6), events);
            }
        }
        var inWindow = events.Where(e => e.OccurredAt >= since && e.OccurredAt <= until).ToList();
        return new CorrelationScenario(seed, kind, graph, inWindow, root, since, until);
    }

    private static void Fault(Random rng, ScenarioProfile p, DependencyGraph graph, string root, DateTimeOffset start, DateTimeOffset until,
        Dictionary<string, TimeSpan> skew, List<ErrorEvent> events, string tag)
    {
        var trace = $"trace-{tag}-{rng.Next():x}";
        var failed = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal) { [root] = start };
        var queue = new Queue<string>();
        queue.Enqueue(root);
        var faultType = FaultTypes[rng.Next(FaultTypes.Length)];
        Burst(rng, root, faultType, start, rng.Next(4, 16), rng.Next(30, 120), skew[root], trace, 0.3, events, until);
        while (queue.Count > 0)
        {
            var cur = queue.Dequeue();
            foreach (var d in graph.DependentsOf(cur).Order(StringComparer.Ordinal))
            {
                if (failed.ContainsKey(d) || rng.NextDouble() > p.Propagation) continue;
                var at = failed[cur] + TimeSpan.FromSeconds(rng.Next(1, p.MaxHopSeconds + 1) + rng.NextDouble() * 3);
                if (at > until) continue;
                failed[d] = at;
                queue.Enqueue(d);
                Burst(rng, d, PropagatedTypes[rng.Next(PropagatedTypes.Length)], at, rng.Next(2, 11), rng.Next(20, 90), skew[d], trace, 0.3, events, until);
            }
        }
    }

    private static void Burst(Random rng, string component, string type, DateTimeOffset start, int count, int seconds, TimeSpan skew,
        string trace, double traced, List<ErrorEvent> events, DateTimeOffset until)
    {
        for (var i = 0; i < count; i++)
        {
            var at = start + TimeSpan.FromSeconds(i == 0 ? 0 : rng.NextDouble() * seconds) + skew;
            if (at > until) continue;
            events.Add(Event(component, type, at, rng.NextDouble() < traced ? trace : null, rng));
        }
    }

    private static void Noise(Random rng, ScenarioProfile p, string[] names, DateTimeOffset since, DateTimeOffset until, int count, List<ErrorEvent> events)
    {
        var types = p.NoiseLikeFaults ? NoiseTypes.Concat(FaultTypes).Concat(PropagatedTypes).ToArray() : NoiseTypes;
        for (var i = 0; i < count; i++)
            events.Add(Event(names[rng.Next(names.Length)], types[rng.Next(types.Length)], since + TimeSpan.FromSeconds(rng.NextDouble() * (until - since).TotalSeconds), null, rng));
    }

    /// <summary>Unrelated errors in 5 minutes: <paramref name="low"/>..<paramref name="high"/> per component, at least 2.</summary>
    private static int NoiseCount(Random rng, int components, double low, double high) =>
        Math.Max(2, (int)Math.Round(components * (low + rng.NextDouble() * (high - low))));

    private static IEnumerable<string> Reach(DependencyGraph graph, string from, bool up)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { from };
        var queue = new Queue<string>([from]);
        while (queue.Count > 0)
            foreach (var x in up ? graph.DependentsOf(queue.Dequeue()) : graph.DependenciesOf(queue.Dequeue()))
                if (seen.Add(x)) queue.Enqueue(x);
        return seen;
    }

    private static ErrorEvent Event(string component, string type, DateTimeOffset at, string? trace, Random rng)
    {
        var id = "evt_" + at.ToUnixTimeMilliseconds().ToString("x12", System.Globalization.CultureInfo.InvariantCulture) + rng.Next().ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        return new ErrorEvent
        {
            EventId = id,
            GroupId = "grp_" + component + "_" + type,
            Signature = type + ": failure on " + component,
            Kind = "task_failures",
            Agent = "agent-" + component,
            ErrorType = type,
            Message = $"{type} on {component}",
            Component = component,
            TraceId = trace,
            Severity = Severity.Error,
            Category = ErrorCategory.Application,
            Recoverable = true,
            OccurredAt = at,
            ReceivedAt = at,
            ExpiresAt = at.AddDays(7),
        };
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}

/// <summary>AC@1, AC@3 and abstention over scenarios, for the ranking and for the original design's first-error rule.</summary>
/// <param name="Ac1">Single-cause scenarios whose ranked list (root_causes) puts the truth first, as AC@k is usually defined.</param>
/// <param name="Ac3">... whose ranked list has the truth in its first three.</param>
/// <param name="Named">Stricter: the answer does not abstain and names the truth first (an abstention is a miss).</param>
/// <param name="AbstainCorrect">Share of no-single-cause scenarios answered with abstain.</param>
/// <param name="AbstainPrecision">Share of abstentions that were on no-single-cause scenarios.</param>
/// <param name="FalseAbstain">Share of single-cause scenarios answered with abstain.</param>
/// <param name="FirstErrorAc1">The original design's rule (first error in the window = root cause) on the single-cause scenarios.</param>
public sealed record CorrelationScore(
    int Scenarios, int SingleCause, int NoSingleCause,
    double Ac1, double Ac3, double Named, double AbstainCorrect, double AbstainPrecision, double FalseAbstain,
    double FirstErrorAc1)
{
    /// <summary>Scores <see cref="CorrelationEngine"/> on <paramref name="scenarios"/>.</summary>
    public static CorrelationScore Evaluate(IEnumerable<CorrelationScenario> scenarios, CorrelationSettings settings)
    {
        int total = 0, single = 0, none = 0, hit1 = 0, hit3 = 0, named = 0, abstainRight = 0, abstained = 0, falseAbstain = 0, first = 0;
        foreach (var s in scenarios)
        {
            total++;
            var a = CorrelationEngine.Analyze(s.Events, s.Graph, settings);
            if (a.Abstain) abstained++;
            if (s.RootCause is null)
            {
                none++;
                if (a.Abstain) abstainRight++;
                continue;
            }
            single++;
            if (CorrelationEngine.FirstErrorRule(s.Events) == s.RootCause) first++;
            var top1 = a.RootCauses.Count > 0 && a.RootCauses[0].Component == s.RootCause;
            if (top1) hit1++;
            if (a.RootCauses.Take(3).Any(r => r.Component == s.RootCause)) hit3++;
            if (a.Abstain) falseAbstain++;
            else if (top1) named++;
        }
        double Ratio(int x, int y) => y == 0 ? 0 : (double)x / y;
        return new CorrelationScore(total, single, none, Ratio(hit1, single), Ratio(hit3, single), Ratio(named, single), Ratio(abstainRight, none),
            Ratio(abstainRight, abstained), Ratio(falseAbstain, single), Ratio(first, single));
    }
}
