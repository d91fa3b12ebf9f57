using System.Globalization;

namespace ErrorCoordinator.Core.Breakers;

/// <summary>
/// One component's stored breaker state, as the stores keep it (Redis: the <c>state</c> and <c>window</c> hashes and the
/// <c>reporters</c> and <c>permits</c> sorted sets of the component's hash tag). Times are Unix milliseconds.
/// </summary>
public sealed class BreakerRecord
{
    public const int Buckets = 10;
    public const int TrafficBuckets = 6;
    public const long TrafficBucketMs = 10_000;

    public BreakerState State = BreakerState.Closed;
    public long OpenedAtMs;
    /// <summary>Open: when probing starts. Isolated: when isolation ends (0: until reset).</summary>
    public long OpenUntilMs;
    public string? Reason;
    public string? ChangedBy;
    public long ChangedAtMs;
    /// <summary>The current break; 0 when closed (the next open starts from the policy's break).</summary>
    public long BreakMs;
    public long Consecutive;
    public int ProbeSuccesses;
    public long Trips;
    /// <summary>Window buckets by slot (bucket number mod 10): the bucket number, the bucket width it was counted with, and counts.</summary>
    public readonly WindowBucket[] Window = new WindowBucket[Buckets];
    /// <summary>Ten-second call counts of the last minute (for retry budgets).</summary>
    public readonly (long N, long Calls)[] Traffic = new (long, long)[TrafficBuckets];
    /// <summary>Agent -> time of its last failure.</summary>
    public readonly Dictionary<string, long> Reporters = new(StringComparer.Ordinal);
    /// <summary>Permit token -> lease expiry.</summary>
    public readonly Dictionary<string, long> Permits = new(StringComparer.Ordinal);

    public record struct WindowBucket(long N, long Width, long Calls, long Failures, long Slow);
}

/// <summary>
/// The breaker state machine, written once in C#: the embedded store runs it under a lock, the Redis store runs the same
/// rules in its Lua scripts (<c>Lua/breaker.lib.lua</c>) and uses this class only for read-only views. The shared
/// contract suite holds both to the same behaviour.
/// </summary>
public static class BreakerMachine
{
    public const int MaxReporters = 1000;

    /// <summary>
    /// Applies the transitions that are due by time: open → half_open after the break, isolation ended → closed.
    /// <paramref name="agent"/> is the caller whose call found it due.
    /// </summary>
    public static (string Type, BreakerState From, string Reason)? ApplyDue(BreakerRecord r, long now, string? agent = null)
    {
        if (r.State == BreakerState.Open && now >= r.OpenUntilMs)
        {
            r.State = BreakerState.HalfOpen;
            r.ProbeSuccesses = 0;
            r.Permits.Clear();
            var reason = $"break of {Seconds(r.BreakMs)}s elapsed; probing";
            Changed(r, now, reason, agent);
            return (BreakerEventTypes.HalfOpen, BreakerState.Open, reason);
        }
        if (r.State == BreakerState.Isolated && r.OpenUntilMs > 0 && now >= r.OpenUntilMs)
        {
            Close(r);
            const string reason = "isolation ended";
            Changed(r, now, reason, agent);
            return (BreakerEventTypes.Closed, BreakerState.Isolated, reason);
        }
        return null;
    }

    /// <summary>check_breaker on a record whose due transitions are applied.</summary>
    public static (bool Allowed, string? Permit, long PermitExpiresMs, long? RetryAfterMs) Check(BreakerRecord r, BreakerPolicy p, long now, string token)
    {
        switch (r.State)
        {
            case BreakerState.Closed:
                return (true, null, 0, null);
            case BreakerState.Open:
                return (false, null, 0, Math.Max(0, r.OpenUntilMs - now));
            case BreakerState.Isolated:
                return (false, null, 0, r.OpenUntilMs > 0 ? Math.Max(0, r.OpenUntilMs - now) : null);
            default:
                PruneLeases(r, now);
                if (r.Permits.Count + r.ProbeSuccesses < p.HalfOpenPermits)
                {
                    var expires = now + p.PermitLeaseSeconds * 1000L;
                    r.Permits[token] = expires;
                    return (true, token, expires, null);
                }
                var soonest = r.Permits.Count > 0 ? r.Permits.Values.Min() : now + p.PermitLeaseSeconds * 1000L;
                return (false, null, 0, Math.Max(0, soonest - now));
        }
    }

    /// <summary>record_outcome on a record whose due transitions are applied.</summary>
    public static (bool Failure, bool Slow, PermitStatus Permit, (string Type, BreakerState From, string Reason)? Transition, string? Note) Record(
        BreakerRecord r, BreakerPolicy p, long now, BreakerOutcome o)
    {
        var slow = o.Success && p.SlowCallMs > 0 && o.DurationMs is { } d && d >= p.SlowCallMs;
        var failure = !o.Success || slow;

        AddToWindow(r, p, now, failure, slow);
        r.Consecutive = failure ? r.Consecutive + 1 : 0;
        if (failure)
        {
            r.Reporters[o.Agent ?? "unknown"] = now;
            PruneReporters(r, p, now);
        }

        var permit = PermitStatus.None;
        if (o.Permit is { } token)
        {
            PruneLeases(r, now);
            permit = r.State == BreakerState.HalfOpen && r.Permits.Remove(token) ? PermitStatus.Accepted : PermitStatus.Invalid;
        }

        switch (r.State)
        {
            case BreakerState.Closed when failure:
            {
                var rule = TripRule(r, p, now);
                if (rule is null) return (failure, slow, permit, null, null);
                var reporters = DistinctReporters(r, p, now);
                if (reporters < p.MinDistinctReporters)
                    return (failure, slow, permit, null,
                        $"{rule}, but only {reporters} of the {p.MinDistinctReporters} distinct reporters the policy needs; the breaker stays closed");
                var reason = reporters > 1 ? $"{rule}, from {reporters} distinct reporters" : rule;
                Open(r, p.BreakSeconds * 1000L, now);
                Changed(r, now, reason, o.Agent);
                return (failure, slow, permit, (BreakerEventTypes.Opened, BreakerState.Closed, reason), null);
            }
            case BreakerState.HalfOpen when permit == PermitStatus.Accepted:
                if (failure)
                {
                    var next = Math.Min(Math.Max(r.BreakMs, p.BreakSeconds * 1000L) * 2, p.MaxBreakSeconds * 1000L);
                    var reason = $"probe failed{(slow ? " (slow call)" : "")}; break doubled to {Seconds(next)}s";
                    Open(r, next, now);
                    Changed(r, now, reason, o.Agent);
                    return (failure, slow, permit, (BreakerEventTypes.Reopened, BreakerState.HalfOpen, reason), null);
                }
                r.ProbeSuccesses++;
                if (r.ProbeSuccesses >= p.HalfOpenPermits)
                {
                    var reason = p.HalfOpenPermits == 1 ? "probe succeeded" : $"{p.HalfOpenPermits} probes succeeded";
                    Close(r);
                    Changed(r, now, reason, o.Agent);
                    return (failure, slow, permit, (BreakerEventTypes.Closed, BreakerState.HalfOpen, reason), null);
                }
                return (failure, slow, permit, null, $"probe succeeded ({r.ProbeSuccesses} of {p.HalfOpenPermits}); the breaker closes when all permits succeed");
            case BreakerState.HalfOpen:
                return (failure, slow, permit, null, "half-open: the outcome is counted, but only a probe holding a valid permit from check_breaker can close or re-open the breaker");
            default:
                return (failure, slow, permit, null, null);
        }
    }

    /// <summary>trip_breaker, reset_breaker and service-opened breaks.</summary>
    public static (string Type, BreakerState From, string Reason)? Command(BreakerRecord r, BreakerPolicy p, long now, BreakerCommand command, string reason, long? durationMs, string? agent)
    {
        var from = r.State;
        switch (command)
        {
            case BreakerCommand.Isolate:
                r.State = BreakerState.Isolated;
                r.OpenedAtMs = now;
                r.OpenUntilMs = durationMs is { } d ? now + d : 0;
                r.Permits.Clear();
                r.ProbeSuccesses = 0;
                r.Trips++;
                Changed(r, now, reason, agent);
                return (BreakerEventTypes.Opened, from, reason);
            case BreakerCommand.Open:
                if (from == BreakerState.Isolated) return null;
                var until = now + (durationMs ?? p.BreakSeconds * 1000L);
                if (from == BreakerState.Open)
                {
                    // Already open: the longer break wins, no new transition.
                    if (until > r.OpenUntilMs) { r.OpenUntilMs = until; r.BreakMs = until - r.OpenedAtMs; }
                    return null;
                }
                Open(r, durationMs ?? p.BreakSeconds * 1000L, now);
                Changed(r, now, reason, agent);
                return (from == BreakerState.HalfOpen ? BreakerEventTypes.Reopened : BreakerEventTypes.Opened, from, reason);
            default:
                Close(r);
                if (from == BreakerState.Closed) return null;
                Changed(r, now, reason, agent);
                return (BreakerEventTypes.Closed, from, reason);
        }
    }

    /// <summary>The window's totals at <paramref name="now"/>.</summary>
    public static BreakerWindow Totals(BreakerRecord r, BreakerPolicy p, long now)
    {
        var width = BucketWidth(p);
        var current = now / width;
        long calls = 0, failures = 0, slow = 0;
        foreach (var b in r.Window)
        {
            if (b.Width != width || b.N <= current - BreakerRecord.Buckets || b.N > current) continue;
            calls += b.Calls;
            failures += b.Failures;
            slow += b.Slow;
        }
        return new BreakerWindow(calls, failures, slow, Ratio(calls, failures), failures > 0 ? DistinctReporters(r, p, now) : 0, p.SamplingSeconds);
    }

    /// <summary>Calls of the last minute (six ten-second buckets).</summary>
    public static long RecentCalls(BreakerRecord r, long now)
    {
        var current = now / BreakerRecord.TrafficBucketMs;
        return r.Traffic.Where(t => t.N > current - BreakerRecord.TrafficBuckets && t.N <= current).Sum(t => t.Calls);
    }

    public static BreakerView View(string component, BreakerRecord r, BreakerPolicy p, long now) =>
        Compose(component, r, Totals(r, p, now), r.State == BreakerState.HalfOpen ? r.Permits.Values.Count(e => e > now) : 0, p);

    /// <summary>The view of a record's scalar fields with its window totals and leased permits (the Redis store gets these from its scripts).</summary>
    public static BreakerView Compose(string component, BreakerRecord r, BreakerWindow window, int leased, BreakerPolicy p) => new()
    {
        Component = component,
        State = r.State,
        Window = window,
        OpenedAt = r.OpenedAtMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(r.OpenedAtMs) : null,
        OpenUntil = r.OpenUntilMs > 0 && r.State is BreakerState.Open or BreakerState.Isolated ? DateTimeOffset.FromUnixTimeMilliseconds(r.OpenUntilMs) : null,
        Reason = string.IsNullOrEmpty(r.Reason) ? null : r.Reason,
        ChangedBy = string.IsNullOrEmpty(r.ChangedBy) ? null : r.ChangedBy,
        ChangedAt = r.ChangedAtMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(r.ChangedAtMs) : null,
        BreakSeconds = (int)Math.Ceiling((r.BreakMs > 0 ? r.BreakMs : p.BreakSeconds * 1000L) / 1000.0),
        ConsecutiveFailures = r.Consecutive,
        PermitsLeased = r.State == BreakerState.HalfOpen ? leased : 0,
        ProbeSuccesses = r.State == BreakerState.HalfOpen ? r.ProbeSuccesses : 0,
        HalfOpenPermits = p.HalfOpenPermits,
        Trips = r.Trips,
    };

    /// <summary>Two decimals, halves away from zero, computed as the Lua scripts compute it.</summary>
    public static double Round2(double x) => Math.Floor(x * 100 + 0.5) / 100;

    public static double Ratio(long calls, long failures) => calls == 0 ? 0 : Math.Round((double)failures / calls, 4, MidpointRounding.AwayFromZero);

    public static long BucketWidth(BreakerPolicy p) => Math.Max(1, p.SamplingSeconds * 1000L / BreakerRecord.Buckets);

    private static void AddToWindow(BreakerRecord r, BreakerPolicy p, long now, bool failure, bool slow)
    {
        var width = BucketWidth(p);
        var n = now / width;
        var slot = (int)(n % BreakerRecord.Buckets);
        var b = r.Window[slot];
        if (b.N != n || b.Width != width) b = new BreakerRecord.WindowBucket(n, width, 0, 0, 0);
        r.Window[slot] = b with { Calls = b.Calls + 1, Failures = b.Failures + (failure ? 1 : 0), Slow = b.Slow + (slow ? 1 : 0) };

        var tn = now / BreakerRecord.TrafficBucketMs;
        var ts = (int)(tn % BreakerRecord.TrafficBuckets);
        var t = r.Traffic[ts];
        r.Traffic[ts] = t.N == tn ? (tn, t.Calls + 1) : (tn, 1);
    }

    private static string? TripRule(BreakerRecord r, BreakerPolicy p, long now)
    {
        if (p.ConsecutiveFailures > 0 && r.Consecutive >= p.ConsecutiveFailures)
            return $"{r.Consecutive} consecutive failures (limit {p.ConsecutiveFailures})";
        var w = Totals(r, p, now);
        if (p.FailureCount > 0 && w.Failures >= p.FailureCount)
            return $"{w.Failures} failures in {p.SamplingSeconds}s (limit {p.FailureCount})";
        if (w.Calls >= p.MinimumThroughput && w.Calls > 0 && (double)w.Failures / w.Calls >= p.FailureRatio)
            return string.Create(CultureInfo.InvariantCulture, $"failure ratio {Round2((double)w.Failures / w.Calls):0.00} >= {Round2(p.FailureRatio):0.00} over {w.Calls} calls in {p.SamplingSeconds}s");
        return null;
    }

    public static long DistinctReporters(BreakerRecord r, BreakerPolicy p, long now)
    {
        var since = now - p.SamplingSeconds * 1000L;
        return r.Reporters.Values.Count(t => t > since);
    }

    private static void PruneReporters(BreakerRecord r, BreakerPolicy p, long now)
    {
        var since = now - p.SamplingSeconds * 1000L;
        foreach (var (agent, t) in r.Reporters.ToList())
            if (t <= since) r.Reporters.Remove(agent);
        if (r.Reporters.Count > MaxReporters)
            foreach (var (agent, _) in r.Reporters.OrderBy(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(r.Reporters.Count - MaxReporters).ToList())
                r.Reporters.Remove(agent);
    }

    private static void PruneLeases(BreakerRecord r, long now)
    {
        foreach (var (token, expires) in r.Permits.ToList())
            if (expires <= now) r.Permits.Remove(token);
    }

    private static void Open(BreakerRecord r, long breakMs, long now)
    {
        r.State = BreakerState.Open;
        r.BreakMs = breakMs;
        r.OpenedAtMs = now;
        r.OpenUntilMs = now + breakMs;
        r.Permits.Clear();
        r.ProbeSuccesses = 0;
        r.Trips++;
    }

    private static void Close(BreakerRecord r)
    {
        r.State = BreakerState.Closed;
        r.BreakMs = 0;
        r.OpenUntilMs = 0;
        r.Consecutive = 0;
        r.ProbeSuccesses = 0;
        Array.Clear(r.Window);
        r.Reporters.Clear();
        r.Permits.Clear();
    }

    private static void Changed(BreakerRecord r, long now, string reason, string? agent)
    {
        r.Reason = reason;
        r.ChangedBy = agent;
        r.ChangedAtMs = now;
    }

    private static string Seconds(long ms) => (ms / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);
}
