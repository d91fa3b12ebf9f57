using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Common;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Storage.InMemory;

/// <summary>
/// The embedded breaker store: <see cref="BreakerMachine"/> under one lock, the same rules the Redis scripts apply.
/// Transitions are published on the in-process bus after the change, in order.
/// </summary>
public sealed class InMemoryBreakerStore(InMemoryEventBus bus, IOptions<BreakerOptions> options, TimeProvider time) : IBreakerStore
{
    private sealed class Entry
    {
        public readonly BreakerRecord Record = new();
        public readonly Dictionary<string, string> Policy = new(StringComparer.Ordinal);
        public readonly LinkedList<string> Transitions = new();
        /// <summary>Last write of any kind (idle retention counts from here).</summary>
        public long TouchedMs;
        /// <summary>Last creation, transition or configure_breaker: the order list_breakers uses (as the Redis directory).</summary>
        public long ChangedMs;
    }

    private const string DueSuffix = "_due";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public async Task<BreakerCheck> CheckAsync(string component, BreakerPolicy defaults, CheckArgs args, CancellationToken cancellationToken = default)
    {
        var now = args.Now.ToUnixTimeMilliseconds();
        BreakerCheck result;
        string? published;
        lock (_gate)
        {
            var e = Find(component, now);
            if (e is null) return new BreakerCheck(BreakerMachine.View(component, new BreakerRecord(), defaults, now), true, null, null, null, null);
            var p = PolicyOf(e, defaults);
            var due = BreakerMachine.ApplyDue(e.Record, now, args.Agent);
            var (allowed, permit, expires, retryAfter) = BreakerMachine.Check(e.Record, p, now, args.PermitToken);
            published = Emit(component, e, p, due, args.TransitionEventId + DueSuffix, args.Agent, null, args.Now, now, out var transition);
            if (due is not null || permit is not null) e.TouchedMs = now;
            result = new BreakerCheck(BreakerMachine.View(component, e.Record, p, now), allowed, permit,
                permit is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(expires), retryAfter, transition);
        }
        if (published is not null) await bus.PublishAsync(args.Channel, published, cancellationToken);
        return result;
    }

    public async Task<OutcomeResult> RecordAsync(BreakerPolicy defaults, RecordArgs args, CancellationToken cancellationToken = default)
    {
        var now = args.Now.ToUnixTimeMilliseconds();
        var component = args.Outcome.Component;
        OutcomeResult result;
        var published = new List<string>(2);
        lock (_gate)
        {
            var e = GetOrAdd(component, now);
            var p = PolicyOf(e, defaults);
            var due = BreakerMachine.ApplyDue(e.Record, now, args.Outcome.Agent);
            if (Emit(component, e, p, due, args.TransitionEventId + DueSuffix, args.Outcome.Agent, null, args.Now, now, out var dueTransition) is { } dueJson) published.Add(dueJson);
            var (failure, slow, permit, caused, note) = BreakerMachine.Record(e.Record, p, now, args.Outcome);
            if (Emit(component, e, p, caused, args.TransitionEventId, args.Outcome.Agent, args.Outcome.ErrorType, args.Now, now, out var transition) is { } json) published.Add(json);
            e.TouchedMs = now;
            // The transition the call caused; failing that, the one it found due (as the scripts report the last one).
            result = new OutcomeResult(BreakerMachine.View(component, e.Record, p, now), failure, slow, permit, transition ?? dueTransition, note);
        }
        foreach (var json in published) await bus.PublishAsync(args.Channel, json, cancellationToken);
        return result;
    }

    public async Task<(BreakerView Breaker, BreakerTransition? Transition)> TransitionAsync(string component, BreakerPolicy defaults, TransitionArgs args, CancellationToken cancellationToken = default)
    {
        var now = args.Now.ToUnixTimeMilliseconds();
        (BreakerView, BreakerTransition?) result;
        var published = new List<string>(2);
        lock (_gate)
        {
            var e = GetOrAdd(component, now);
            var p = PolicyOf(e, defaults);
            var due = BreakerMachine.ApplyDue(e.Record, now, args.Agent);
            if (Emit(component, e, p, due, args.TransitionEventId + DueSuffix, args.Agent, null, args.Now, now, out var dueTransition) is { } dueJson) published.Add(dueJson);
            var caused = BreakerMachine.Command(e.Record, p, now, args.Command, args.Reason, args.Duration is { } d ? (long)d.TotalMilliseconds : null, args.Agent);
            if (Emit(component, e, p, caused, args.TransitionEventId, args.Agent, null, args.Now, now, out var transition) is { } json) published.Add(json);
            e.TouchedMs = now;
            result = (BreakerMachine.View(component, e.Record, p, now), transition ?? dueTransition);
        }
        foreach (var json in published) await bus.PublishAsync(args.Channel, json, cancellationToken);
        return result;
    }

    public Task<BreakerView> GetAsync(string component, BreakerPolicy defaults, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var ms = now.ToUnixTimeMilliseconds();
        lock (_gate)
        {
            var e = Find(component, ms);
            return Task.FromResult(e is null ? BreakerMachine.View(component, new BreakerRecord(), defaults, ms) : Peek(component, e, PolicyOf(e, defaults), ms));
        }
    }

    public Task<Page<BreakerView>> ListAsync(BreakerState? state, int limit, string? cursor, Func<string, BreakerPolicy> defaults, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var ms = now.ToUnixTimeMilliseconds();
        IndexCursor? after = IndexCursor.TryDecode(cursor, out var c) ? c : null;
        lock (_gate)
        {
            var items = new List<(BreakerView View, long Touched)>(limit);
            string? next = null;
            foreach (var (name, e) in _entries.Where(kv => !Expired(kv.Value, ms))
                         .OrderByDescending(kv => kv.Value.ChangedMs).ThenByDescending(kv => kv.Key, StringComparer.Ordinal))
            {
                if (after is { } a && (e.ChangedMs > a.Score || e.ChangedMs == a.Score && string.CompareOrdinal(name, a.Member) >= 0)) continue;
                var view = Peek(name, e, PolicyOf(e, defaults(name)), ms);
                if (state is { } s && view.State != s) continue;
                if (items.Count == limit)
                {
                    next = new IndexCursor(items[^1].Touched, items[^1].View.Component).Encode();
                    break;
                }
                items.Add((view, e.ChangedMs));
            }
            return Task.FromResult(new Page<BreakerView>(items.Select(i => i.View).ToList(), next));
        }
    }

    public Task<BreakerPolicy> ConfigureAsync(string component, BreakerPolicyUpdate update, BreakerPolicy defaults, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var ms = now.ToUnixTimeMilliseconds();
            var existing = Find(component, ms);
            var current = existing is null || update.ResetToDefaults ? defaults : PolicyOf(existing, defaults);
            // Checked under the lock, so concurrent updates cannot combine into an invalid policy (the script does the same).
            BreakerService.ValidatePolicy(BreakerService.Apply(current, update));
            var e = existing ?? GetOrAdd(component, ms);
            if (update.ResetToDefaults) e.Policy.Clear();
            foreach (var (field, value) in BreakerPolicyFields.ToFields(update)) e.Policy[field] = value;
            e.TouchedMs = ms;
            e.ChangedMs = ms;
            return Task.FromResult(PolicyOf(e, defaults));
        }
    }

    public Task<BreakerPolicy> GetPolicyAsync(string component, BreakerPolicy defaults, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(Find(component, time.GetUtcNow().ToUnixTimeMilliseconds()) is { } e ? PolicyOf(e, defaults) : defaults);
        }
    }

    public Task<long> CountRecentCallsAsync(string component, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var ms = now.ToUnixTimeMilliseconds();
        lock (_gate)
        {
            return Task.FromResult(Find(component, ms) is { } e ? BreakerMachine.RecentCalls(e.Record, ms) : 0L);
        }
    }

    public Task<IReadOnlyList<string>> ReadTransitionsAsync(string component, int count, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IReadOnlyList<string> list = _entries.TryGetValue(component, out var e) ? e.Transitions.Take(count).ToList() : [];
            return Task.FromResult(list);
        }
    }

    /// <summary>A copy of the record with due transitions applied, for display; the stored record is unchanged.</summary>
    private static BreakerView Peek(string component, Entry e, BreakerPolicy p, long now)
    {
        var copy = Copy(e.Record);
        BreakerMachine.ApplyDue(copy, now);
        return BreakerMachine.View(component, copy, p, now);
    }

    private static BreakerRecord Copy(BreakerRecord r)
    {
        var c = new BreakerRecord
        {
            State = r.State, OpenedAtMs = r.OpenedAtMs, OpenUntilMs = r.OpenUntilMs, Reason = r.Reason, ChangedBy = r.ChangedBy,
            ChangedAtMs = r.ChangedAtMs, BreakMs = r.BreakMs, Consecutive = r.Consecutive, ProbeSuccesses = r.ProbeSuccesses, Trips = r.Trips,
        };
        Array.Copy(r.Window, c.Window, r.Window.Length);
        Array.Copy(r.Traffic, c.Traffic, r.Traffic.Length);
        foreach (var kv in r.Reporters) c.Reporters[kv.Key] = kv.Value;
        foreach (var kv in r.Permits) c.Permits[kv.Key] = kv.Value;
        return c;
    }

    private string? Emit(string component, Entry e, BreakerPolicy p, (string Type, BreakerState From, string Reason)? t, string eventId, string? agent,
        string? errorType, DateTimeOffset at, long now, out BreakerTransition? transition)
    {
        transition = null;
        if (t is not { } x) return null;
        e.ChangedMs = now;
        var ev = BreakerEvent.Create(eventId, x.Type, component, x.From, e.Record, BreakerMachine.Totals(e.Record, p, now), x.Reason, agent, at, errorType);
        var json = ev.ToJson();
        e.Transitions.AddFirst(json);
        while (e.Transitions.Count > options.Value.TransitionsKept) e.Transitions.RemoveLast();
        transition = ev.ToTransition();
        return json;
    }

    private static BreakerPolicy PolicyOf(Entry e, BreakerPolicy defaults) => BreakerPolicyFields.Merge(defaults, e.Policy);

    /// <summary>
    /// As the Redis keys' TTL: idle retention after the last write, counted from the end of a break or isolation when that
    /// is later; an isolation until reset never expires.
    /// </summary>
    private bool Expired(Entry e, long now)
    {
        var r = e.Record;
        if (r.State == BreakerState.Isolated && r.OpenUntilMs == 0) return false;
        var idle = (long)options.Value.IdleRetention.TotalMilliseconds;
        var from = r.State is BreakerState.Open or BreakerState.Isolated && r.OpenUntilMs > e.TouchedMs ? r.OpenUntilMs : e.TouchedMs;
        return now - from >= idle;
    }

    private Entry? Find(string component, long now)
    {
        if (!_entries.TryGetValue(component, out var e)) return null;
        if (!Expired(e, now)) return e;
        _entries.Remove(component);
        return null;
    }

    private Entry GetOrAdd(string component, long now)
    {
        if (Find(component, now) is { } e) return e;
        if (_entries.Count >= options.Value.MaxBreakers)
        {
            // The least recently used closed breaker is forgotten first; an open or isolated one only when none is closed.
            var victim = _entries.Where(kv => kv.Value.Record.State == BreakerState.Closed).MinBy(kv => kv.Value.TouchedMs).Key
                         ?? _entries.MinBy(kv => kv.Value.TouchedMs).Key;
            _entries.Remove(victim);
        }
        e = new Entry { TouchedMs = now, ChangedMs = now };
        _entries[component] = e;
        return e;
    }
}
