using System.Globalization;
using System.Text.Json;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Incidents;
using ErrorCoordinator.Redis.Scripting;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Incidents;

/// <summary>
/// The Redis incident store. A signal is one <c>signalIncident-9</c> script that checks the dedup map and opens or attaches
/// atomically; when the incident it finds is not the one the caller looked up, the caller retries with that incident's keys
/// (so every key a script touches is in KEYS). Transitions are one <c>transitionIncident-11</c> script. Same semantics as
/// the embedded store; both pass one contract suite.
/// </summary>
public sealed class RedisIncidentStore(IConnectionMultiplexer mux, KeySchema keys, RedisScripts scripts) : IIncidentStore
{
    private const int MaxAttempts = 8;
    private const string Placeholder = "\"event_ids\":[]";

    private IDatabase Db => mux.GetDatabase();

    public async Task<SignalOutcome> SignalAsync(IncidentSignal signal, IncidentLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signal);
        string? target = null;
        if (!signal.AlwaysOpen)
        {
            var all = signal.ClaimKeys.Concat(signal.LookupKeys).Select(k => (RedisValue)k).ToArray();
            if (all.Length > 0)
                target = (await Db.HashGetAsync(keys.IncidentDedup, all).ConfigureAwait(false)).Where(v => !v.IsNull).Select(v => (string?)v).FirstOrDefault();
        }
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string mode, expected;
            if (target is not null) (mode, expected) = ("attach", target);
            else if (signal.NewIncident is { } n) (mode, expected) = (signal.AlwaysOpen ? "always" : "open", n.Id);
            else return new SignalOutcome(SignalResult.None, null);

            var r = (RedisResult[])(await scripts.EvaluateAsync(RedisScripts.SignalIncident, IncidentKeys(expected), Arguments(signal, limits, mode, expected)).ConfigureAwait(false))!;
            var code = (long)r[0];
            var id = (string?)r[1];
            switch (code)
            {
                case 1: return new SignalOutcome(SignalResult.Opened, id);
                case 2: return new SignalOutcome(SignalResult.Attached, id);
                case 0: return new SignalOutcome(SignalResult.Duplicate, id);
                case -3: return new SignalOutcome(SignalResult.Capped, null);
                default:
                    target = string.IsNullOrEmpty(id) ? null : id;
                    break;
            }
        }
        throw new TransientException($"the incident for {signal.ClaimKeys.FirstOrDefault() ?? "this signal"} kept changing under {MaxAttempts} tries");
    }

    private RedisKey[] IncidentKeys(string id) =>
    [
        keys.IncidentDedup, keys.Incident(id), keys.IncidentTimeline(id), keys.IncidentEvents(id), keys.IncidentKeys(id), keys.IncidentComponents(id),
        keys.IncidentsAll, keys.IncidentsByStatus("triggered"), keys.IncidentsByStatus("acknowledged"),
    ];

    private static RedisValue[] Arguments(IncidentSignal s, IncidentLimits limits, string mode, string expected)
    {
        var entry = CoreJson.Serialize(s.Entry with { EventIds = [] });
        var cut = entry.IndexOf(Placeholder, StringComparison.Ordinal);
        if (cut < 0) throw new InvalidOperationException("A timeline entry serializes without its event_ids.");
        var head = entry[..(cut + Placeholder.Length - 2)];
        var tail = entry[(cut + Placeholder.Length)..];
        var n = s.NewIncident;
        var fields = n is null ? "{}" : JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["id"] = n.Id, ["title"] = n.Title, ["severity"] = n.Severity.ToWire(), ["source"] = n.Source, ["dedup_key"] = n.DedupKey,
            ["created_ms"] = Ms(n.CreatedAt), ["first_event_ms"] = Ms(n.FirstEventAt), ["last_event_ms"] = Ms(n.LastEventAt),
        });
        var args = new List<RedisValue>
        {
            expected, mode, s.Now.ToUnixTimeMilliseconds(), s.Now.ToString("O", CultureInfo.InvariantCulture), fields, head, tail,
            (int)s.Severity, s.Severity.ToWire(), limits.MaxTimelineEntries, limits.MaxEventIds, limits.MaxOpenIncidents,
            s.Channel, s.SuspectedRootCause ?? "", s.ClaimKeys.Count, s.LookupKeys.Count, s.Events.Count, s.Components.Count,
            IncidentLimits.MaxDedupKeysPerIncident,
        };
        args.AddRange(s.ClaimKeys.Select(k => (RedisValue)k));
        args.AddRange(s.LookupKeys.Select(k => (RedisValue)k));
        foreach (var e in s.Events)
        {
            args.Add(e.EventId);
            args.Add(e.At.ToUnixTimeMilliseconds());
        }
        args.AddRange(s.Components.Select(c => (RedisValue)c));
        return args.ToArray();
    }

    public async Task<TransitionOutcome> TransitionAsync(string incidentId, IncidentTransition t, IncidentLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(t);
        cancellationToken.ThrowIfCancellationRequested();
        var to = t.To switch
        {
            IncidentStatus.Acknowledged => "acknowledged",
            IncidentStatus.Resolved => "resolved",
            _ => throw new ArgumentOutOfRangeException(nameof(t), "Only acknowledged and resolved can be requested."),
        };
        RedisKey[] k =
        [
            keys.Incident(incidentId), keys.IncidentTimeline(incidentId), keys.IncidentEvents(incidentId), keys.IncidentKeys(incidentId),
            keys.IncidentComponents(incidentId), keys.IncidentDedup, keys.IncidentsByStatus("triggered"), keys.IncidentsByStatus("acknowledged"),
            keys.IncidentsByStatus("resolved"), keys.IncidentsResolvedAt, keys.IncidentsAll,
        ];
        var nowMs = t.Now.ToUnixTimeMilliseconds();
        var retention = (long)limits.ResolvedRetention.TotalMilliseconds;
        RedisValue[] v =
        [
            incidentId, to, nowMs, t.By ?? "", t.Resolution ?? "", t.RootCause ?? "", CoreJson.Serialize(t.Entry), t.Entry.EventIds.FirstOrDefault() ?? "",
            limits.MaxEventIds, retention, t.Channel, t.Now.ToString("O", CultureInfo.InvariantCulture), nowMs - retention,
        ];
        var r = (RedisResult[])(await scripts.EvaluateAsync(RedisScripts.TransitionIncident, k, v).ConfigureAwait(false))!;
        var status = ParseStatus((string?)r[1]);
        return (long)r[0] switch
        {
            1 => new TransitionOutcome(TransitionResult.Applied, status),
            0 => new TransitionOutcome(TransitionResult.Unchanged, status),
            -2 => new TransitionOutcome(TransitionResult.NotAllowed, status),
            _ => new TransitionOutcome(TransitionResult.NotFound, null),
        };
    }

    public async Task<Incident?> GetAsync(string incidentId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var db = Db;
        var batch = db.CreateBatch();
        var header = batch.HashGetAllAsync(keys.Incident(incidentId));
        var timeline = batch.ListRangeAsync(keys.IncidentTimeline(incidentId));
        var events = batch.SortedSetRangeByScoreWithScoresAsync(keys.IncidentEvents(incidentId));
        var components = batch.SortedSetRangeByScoreAsync(keys.IncidentComponents(incidentId));
        batch.Execute();
        var h = await header.ConfigureAwait(false);
        if (h.Length == 0) return null;
        var incident = FromHash(h);
        return incident with
        {
            Components = (await components.ConfigureAwait(false)).Select(c => (string)c!).ToList(),
            EventIds = (await events.ConfigureAwait(false)).OrderBy(e => e.Score).ThenBy(e => (string)e.Element!, StringComparer.Ordinal).Select(e => (string)e.Element!).ToList(),
            Timeline = (await timeline.ConfigureAwait(false)).Select(x => CoreJson.Deserialize<TimelineEntry>((string)x!)).OrderBy(x => x.At).ToList(),
        };
    }

    public async Task<Page<Incident>> ListAsync(IncidentQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        cancellationToken.ThrowIfCancellationRequested();
        var db = Db;
        var index = query.Status is { } s ? keys.IncidentsByStatus(IncidentServiceWire(s)) : keys.IncidentsAll;
        var hasCursor = IndexCursor.TryDecode(query.Cursor, out var cursor);
        var items = new List<Incident>();
        var upper = hasCursor ? cursor.Score : double.PositiveInfinity;
        long skip = 0;
        var more = false;
        while (items.Count <= query.Limit)
        {
            var batch = await db.SortedSetRangeByScoreWithScoresAsync(index, double.NegativeInfinity, upper, Exclude.None, Order.Descending, skip, query.Limit + 20).ConfigureAwait(false);
            skip += batch.Length;
            var after = batch.Where(x => !hasCursor || x.Score < cursor.Score || string.CompareOrdinal((string)x.Element!, cursor.Member) < 0).ToArray();
            var pipe = db.CreateBatch();
            var reads = after.Select(x => pipe.HashGetAllAsync(keys.Incident((string)x.Element!))).ToArray();
            pipe.Execute();
            foreach (var read in reads)
            {
                var h = await read.ConfigureAwait(false);
                if (h.Length == 0) continue; // expired with its retention; the index entry is swept by a later resolve
                var i = FromHash(h);
                if (query.OpenOnly && !i.IsOpen) continue;
                if (items.Count == query.Limit)
                {
                    more = true;
                    break;
                }
                items.Add(i);
            }
            if (more || batch.Length < query.Limit + 20) break;
        }
        var next = more ? new IndexCursor(items[^1].CreatedAt.ToUnixTimeMilliseconds(), items[^1].Id).Encode() : null;
        return new Page<Incident>(items, next);
    }

    public Task SavePostmortemAsync(string postmortemId, string json, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Db.StringSetAsync(keys.Postmortem(postmortemId), json, ttl);
    }

    public async Task<string?> GetPostmortemAsync(string postmortemId, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return (string?)await Db.StringGetAsync(keys.Postmortem(postmortemId)).ConfigureAwait(false);
    }

    private static string IncidentServiceWire(IncidentStatus s) => s switch
    {
        IncidentStatus.Triggered => "triggered",
        IncidentStatus.Acknowledged => "acknowledged",
        _ => "resolved",
    };

    private static IncidentStatus? ParseStatus(string? s) => s switch
    {
        "triggered" => IncidentStatus.Triggered,
        "acknowledged" => IncidentStatus.Acknowledged,
        "resolved" => IncidentStatus.Resolved,
        _ => null,
    };

    private static Incident FromHash(HashEntry[] entries)
    {
        var h = entries.ToDictionary(e => (string)e.Name!, e => (string?)e.Value, StringComparer.Ordinal);
        string? S(string k) => h.TryGetValue(k, out var v) && !string.IsNullOrEmpty(v) ? v : null;
        DateTimeOffset? T(string k) => S(k) is { } v ? DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(v, CultureInfo.InvariantCulture)) : null;
        Taxonomy.TryParseSeverity(S("severity"), out var severity);
        return new Incident
        {
            Id = S("id")!,
            Title = S("title") ?? "",
            Severity = severity,
            Status = ParseStatus(S("status")) ?? IncidentStatus.Triggered,
            Source = S("source") ?? "",
            DedupKey = S("dedup_key") ?? "",
            Components = [],
            CreatedAt = T("created_ms")!.Value,
            FirstEventAt = T("first_event_ms") ?? T("created_ms")!.Value,
            LastEventAt = T("last_event_ms") ?? T("created_ms")!.Value,
            AcknowledgedAt = T("acknowledged_ms"),
            AcknowledgedBy = S("acknowledged_by"),
            ResolvedAt = T("resolved_ms"),
            Resolution = S("resolution"),
            RootCause = S("root_cause"),
            SuspectedRootCause = S("suspected_root_cause"),
            EventCount = long.Parse(S("event_count") ?? "0", CultureInfo.InvariantCulture),
            EventIds = [],
            Timeline = [],
            TimelineDropped = long.Parse(S("timeline_dropped") ?? "0", CultureInfo.InvariantCulture),
            UpdatedAt = T("updated_ms") ?? T("created_ms")!.Value,
        };
    }

    private static string Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
}
