using System.Globalization;
using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Redis.Scripting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Breakers;

/// <summary>
/// Circuit breakers in Redis. Every check, outcome and transition is one Lua script (one round trip) over the six keys of
/// the component's hash tag (<see cref="KeySchema.BreakerKeys"/>); the scripts publish each transition and append it to the
/// component's audit stream in the same atomic step. The directory of breakers (<see cref="KeySchema.BreakerIndex"/>)
/// lives in its own slot and is updated without waiting, when a breaker is created, changes state or is configured.
/// Reads (<see cref="GetAsync"/>, <see cref="ListAsync"/>) pipeline plain reads and apply due transitions for display only.
/// </summary>
public sealed class RedisBreakerStore(IConnectionMultiplexer mux, RedisScripts scripts, KeySchema keys, IOptions<BreakerOptions> options) : IBreakerStore
{
    private BreakerOptions Options => options.Value;

    // The default policy as script arguments, formatted once per policy object (the service hands out a few, reused).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<BreakerPolicy, RedisValue[]> DefaultArgs = new();

    public async Task<BreakerCheck> CheckAsync(string component, BreakerPolicy defaults, CheckArgs args, CancellationToken cancellationToken = default)
    {
        var reply = await RunAsync(RedisScripts.CheckBreaker, component, defaults, args.Now, args.Channel, args.TransitionEventId,
            args.PermitToken, args.Agent ?? "");
        var permit = reply.Op(1);
        var retry = long.Parse(reply.Op(3), NumberStyles.Float, CultureInfo.InvariantCulture);
        return new BreakerCheck(reply.View, reply.Op(0) == "1", permit.Length == 0 ? null : permit,
            permit.Length == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(reply.Op(2), NumberStyles.Float, CultureInfo.InvariantCulture)),
            retry < 0 ? null : retry, reply.Transition);
    }

    public async Task<OutcomeResult> RecordAsync(BreakerPolicy defaults, RecordArgs args, CancellationToken cancellationToken = default)
    {
        var o = args.Outcome;
        var reply = await RunAsync(RedisScripts.RecordOutcome, o.Component, defaults, args.Now, args.Channel, args.TransitionEventId,
            o.Success ? "1" : "0", o.Permit ?? "", o.DurationMs is { } d ? d.ToString(CultureInfo.InvariantCulture) : "", o.ErrorType ?? "", o.Agent ?? "");
        var permit = reply.Op(2) switch
        {
            "accepted" => PermitStatus.Accepted,
            "invalid" => PermitStatus.Invalid,
            _ => PermitStatus.None,
        };
        var note = reply.Op(3);
        return new OutcomeResult(reply.View, reply.Op(0) == "1", reply.Op(1) == "1", permit, reply.Transition, note.Length == 0 ? null : note);
    }

    public async Task<(BreakerView Breaker, BreakerTransition? Transition)> TransitionAsync(string component, BreakerPolicy defaults, TransitionArgs args, CancellationToken cancellationToken = default)
    {
        var command = args.Command switch
        {
            BreakerCommand.Isolate => "isolate",
            BreakerCommand.Open => "open",
            _ => "reset",
        };
        var reply = await RunAsync(RedisScripts.TransitionBreaker, component, defaults, args.Now, args.Channel, args.TransitionEventId,
            command, args.Reason, args.Duration is { } d ? ((long)d.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : "", args.Agent ?? "");
        return (reply.View, reply.Transition);
    }

    public async Task<BreakerView> GetAsync(string component, BreakerPolicy defaults, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        (await ReadAsync([component], _ => defaults, now))[0].View;

    public async Task<Page<BreakerView>> ListAsync(BreakerState? state, int limit, string? cursor, Func<string, BreakerPolicy> defaults, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var db = mux.GetDatabase();
        // The directory is read newest first (score = last change, ties by member descending, as Redis orders them), from
        // just after the cursor's position. A filtered page scans a bounded number of entries and then returns a cursor
        // at the last one scanned, so it never claims to be the last page when it is not.
        var position = IndexCursor.TryDecode(cursor, out var c) ? c : (IndexCursor?)null;
        var items = new List<BreakerView>(limit);
        (double Score, string Member)? lastReturned = null, lastScanned = null;
        var take = Math.Min(limit * 2 + 1, 500);
        var skip = 0;
        var scanned = 0;
        var maxScan = Math.Max(limit * 20, 1000);
        while (true)
        {
            var maxScore = position?.Score ?? double.PositiveInfinity;
            var batch = await db.SortedSetRangeByScoreWithScoresAsync(keys.BreakerIndex, double.NegativeInfinity, maxScore, Exclude.None, Order.Descending, skip, take);
            if (batch.Length == 0) return new Page<BreakerView>(items, null);
            // At the cursor's score, members at or after the cursor's member were on earlier pages.
            var fresh = batch.Where(e => position is not { } p || e.Score < p.Score || string.CompareOrdinal((string)e.Element!, p.Member) < 0).ToList();
            if (fresh.Count == 0)
            {
                skip += batch.Length; // a run of equal scores already returned: look past it
                continue;
            }
            var names = fresh.Select(e => (string)e.Element!).ToList();
            var views = await ReadAsync(names, defaults, now);
            var gone = new List<RedisValue>();
            for (var i = 0; i < fresh.Count; i++)
            {
                var here = (fresh[i].Score, names[i]);
                if (!views[i].Exists)
                {
                    gone.Add(fresh[i].Element); // expired breaker: drop it from the directory
                    lastScanned = here;
                    continue;
                }
                if (state is { } s && views[i].View.State != s)
                {
                    lastScanned = here;
                    continue;
                }
                if (items.Count == limit)
                {
                    if (gone.Count > 0) _ = db.SortedSetRemoveAsync(keys.BreakerIndex, gone.ToArray(), CommandFlags.FireAndForget);
                    return new Page<BreakerView>(items, new IndexCursor(lastReturned!.Value.Score, lastReturned.Value.Member).Encode());
                }
                items.Add(views[i].View);
                lastReturned = lastScanned = here;
            }
            if (gone.Count > 0) _ = db.SortedSetRemoveAsync(keys.BreakerIndex, gone.ToArray(), CommandFlags.FireAndForget);
            scanned += fresh.Count;
            if (batch.Length < take) return new Page<BreakerView>(items, null);
            if (scanned >= maxScan)
                return new Page<BreakerView>(items, new IndexCursor(lastScanned!.Value.Score, lastScanned.Value.Member).Encode());
            position = new IndexCursor(fresh[^1].Score, names[^1]);
            skip = 0;
        }
    }

    public async Task<BreakerPolicy> ConfigureAsync(string component, BreakerPolicyUpdate update, BreakerPolicy defaults, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var args = new List<RedisValue>
        {
            update.ResetToDefaults ? "1" : "0", (long)Options.IdleRetention.TotalMilliseconds, defaults.BreakSeconds, defaults.MaxBreakSeconds,
        };
        foreach (var (field, value) in BreakerPolicyFields.ToFields(update)) { args.Add(field); args.Add(value); }
        var result = (RedisResult[])(await scripts.EvaluateAsync(RedisScripts.ConfigureBreaker, keys.BreakerKeys(component), [.. args]))!;
        if (result.Length == 3 && (string?)result[0] == "conflict")
            throw new ValidationException("max_break_seconds",
                $"'max_break_seconds' ({(string?)result[2]}) must be at least 'break_seconds' ({(string?)result[1]}) once combined with the policy stored for '{component}'.");
        Touch(component, now);
        return BreakerPolicyFields.Merge(defaults, Pairs(result));
    }

    public async Task<BreakerPolicy> GetPolicyAsync(string component, BreakerPolicy defaults, CancellationToken cancellationToken = default)
    {
        var stored = await mux.GetDatabase().HashGetAllAsync(keys.BreakerKeys(component)[4]);
        return BreakerPolicyFields.Merge(defaults, stored.ToDictionary(e => (string)e.Name!, e => (string)e.Value!, StringComparer.Ordinal));
    }

    public async Task<long> CountRecentCallsAsync(string component, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var window = await mux.GetDatabase().HashGetAllAsync(keys.BreakerKeys(component)[1]);
        var r = new BreakerRecord();
        Fill(r, window);
        return BreakerMachine.RecentCalls(r, now.ToUnixTimeMilliseconds());
    }

    public async Task<IReadOnlyList<string>> ReadTransitionsAsync(string component, int count, CancellationToken cancellationToken = default)
    {
        var entries = await mux.GetDatabase().StreamRangeAsync(keys.BreakerKeys(component)[5], "-", "+", count, Order.Descending);
        return entries.Select(e => (string)e["json"]!).Where(j => j is not null).ToList();
    }

    private async Task<Reply> RunAsync(string script, string component, BreakerPolicy defaults, DateTimeOffset now, string channel, string eventId, params RedisValue[] op)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var values = new RedisValue[18 + op.Length];
        values[0] = nowMs;
        values[1] = now.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        values[2] = component;
        values[3] = channel;
        values[4] = eventId;
        values[5] = (long)Options.IdleRetention.TotalMilliseconds;
        values[6] = Options.TransitionsKept;
        DefaultArgs.GetValue(defaults, static p => BreakerPolicyFields.Values(p).Select(v => (RedisValue)v).ToArray()).CopyTo(values, 7);
        op.CopyTo(values, 18);
        var result = await scripts.EvaluateAsync(script, keys.BreakerKeys(component), values);
        var reply = Reply.Parse(component, result, defaults);
        if (reply.Created || reply.Transition is not null) Touch(component, now);
        return reply;
    }

    /// <summary>Records the breaker in the directory (not awaited; the directory is a listing aid, not state).</summary>
    private void Touch(string component, DateTimeOffset now)
    {
        var db = mux.GetDatabase();
        _ = db.SortedSetAddAsync(keys.BreakerIndex, component, now.ToUnixTimeMilliseconds(), CommandFlags.FireAndForget);
        _ = db.SortedSetRemoveRangeByRankAsync(keys.BreakerIndex, 0, -(Options.MaxBreakers + 1), CommandFlags.FireAndForget);
    }

    /// <summary>One pipelined round trip reading each component's five data keys; due transitions applied for display only.</summary>
    private async Task<IReadOnlyList<(BreakerView View, bool Exists)>> ReadAsync(IReadOnlyList<string> components, Func<string, BreakerPolicy> defaults, DateTimeOffset now)
    {
        var db = mux.GetDatabase();
        var batch = db.CreateBatch();
        var pending = new List<(Task<HashEntry[]> State, Task<HashEntry[]> Window, Task<SortedSetEntry[]> Reporters, Task<SortedSetEntry[]> Permits, Task<HashEntry[]> Policy)>(components.Count);
        foreach (var component in components)
        {
            var k = keys.BreakerKeys(component);
            pending.Add((batch.HashGetAllAsync(k[0]), batch.HashGetAllAsync(k[1]), batch.SortedSetRangeByRankWithScoresAsync(k[2]),
                batch.SortedSetRangeByRankWithScoresAsync(k[3]), batch.HashGetAllAsync(k[4])));
        }
        batch.Execute();
        var ms = now.ToUnixTimeMilliseconds();
        var views = new List<(BreakerView, bool)>(components.Count);
        for (var i = 0; i < components.Count; i++)
        {
            var (stateTask, windowTask, reportersTask, permitsTask, policyTask) = pending[i];
            var stored = (await policyTask).ToDictionary(e => (string)e.Name!, e => (string)e.Value!, StringComparer.Ordinal);
            var p = BreakerPolicyFields.Merge(defaults(components[i]), stored);
            var r = new BreakerRecord();
            var state = (await stateTask).ToDictionary(e => (string)e.Name!, e => (string)e.Value!, StringComparer.Ordinal);
            if (state.Count > 0) FillState(r, state);
            var window = await windowTask;
            Fill(r, window);
            foreach (var e in await reportersTask) r.Reporters[(string)e.Element!] = (long)e.Score;
            foreach (var e in await permitsTask) r.Permits[(string)e.Element!] = (long)e.Score;
            BreakerMachine.ApplyDue(r, ms);
            views.Add((BreakerMachine.View(components[i], r, p, ms), state.Count > 0 || stored.Count > 0 || window.Length > 0));
        }
        return views;
    }

    private static void FillState(BreakerRecord r, Dictionary<string, string> s)
    {
        long L(string f) => s.TryGetValue(f, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : 0;
        r.State = BreakerService.ParseState(s.GetValueOrDefault("st")) ?? BreakerState.Closed;
        r.OpenedAtMs = L("oa");
        r.OpenUntilMs = L("ou");
        r.Reason = s.GetValueOrDefault("rs");
        r.ChangedBy = s.GetValueOrDefault("cb");
        r.ChangedAtMs = L("ca");
        r.BreakMs = L("bm");
        r.Consecutive = L("cf");
        r.ProbeSuccesses = (int)L("ps");
        r.Trips = L("tr");
    }

    private static void Fill(BreakerRecord r, HashEntry[] window)
    {
        foreach (var e in window)
        {
            var name = (string)e.Name!;
            var parts = ((string)e.Value!).Split(':');
            if (name.Length != 2 || !int.TryParse(name.AsSpan(1), out var slot)) continue;
            var n = parts.Select(p => long.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : 0).ToArray();
            if (name[0] == 'w' && slot < BreakerRecord.Buckets && n.Length == 5)
                r.Window[slot] = new BreakerRecord.WindowBucket(n[0], n[1], n[2], n[3], n[4]);
            else if (name[0] == 't' && slot < BreakerRecord.TrafficBuckets && n.Length == 2)
                r.Traffic[slot] = (n[0], n[1]);
        }
    }

    private static Dictionary<string, string> Pairs(RedisResult[] flat)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2) d[(string)flat[i]!] = (string)flat[i + 1]!;
        return d;
    }

    /// <summary>A breaker script's reply (see the layout in Lua/breaker.lib.lua): the record, window totals, transitions and op values.</summary>
    private sealed class Reply
    {
        private RedisResult[] _values = [];
        public BreakerView View { get; private init; } = null!;
        public BreakerTransition? Transition { get; private init; }
        public bool Created { get; private init; }

        /// <summary>Op-specific value <paramref name="i"/> (0-based; reply positions 20..23).</summary>
        public string Op(int i) => (string?)_values[19 + i] ?? "";

        public static Reply Parse(string component, RedisResult result, BreakerPolicy defaults)
        {
            var v = (RedisResult[])result!;
            long L(int i) => long.TryParse((string?)v[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x
                : double.TryParse((string?)v[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? (long)d : 0;
            var p = defaults with { SamplingSeconds = (int)L(16), HalfOpenPermits = (int)L(17), BreakSeconds = (int)L(18) };
            var r = new BreakerRecord
            {
                State = BreakerService.ParseState((string?)v[0]) ?? BreakerState.Closed,
                OpenedAtMs = L(1), OpenUntilMs = L(2), Reason = (string?)v[3], ChangedBy = (string?)v[4], ChangedAtMs = L(5),
                BreakMs = L(6), Consecutive = L(7), ProbeSuccesses = (int)L(8), Trips = L(9),
            };
            var calls = L(10);
            var failures = L(11);
            var window = new BreakerWindow(calls, failures, L(12), BreakerMachine.Ratio(calls, failures), L(13), p.SamplingSeconds);
            BreakerTransition? transition = null;
            var n = (int)L(23);
            for (var i = 0; i < n; i++) transition = CoreJson.Deserialize<BreakerEvent>((string)v[24 + i]!).ToTransition();
            return new Reply
            {
                _values = v,
                View = BreakerMachine.Compose(component, r, window, (int)L(14), p),
                Transition = transition,
                Created = L(15) == 1,
            };
        }
    }
}
