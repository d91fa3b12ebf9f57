using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Incidents;

namespace ErrorCoordinator.Core.Storage.InMemory;

/// <summary>
/// The embedded incident store: one lock makes every signal and transition atomic, with the same semantics as the Redis
/// scripts (one contract suite). Resolved incidents and post-mortems are dropped when their retention ends.
/// </summary>
public sealed class InMemoryIncidentStore(InMemoryEventBus bus, TimeProvider time) : IIncidentStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, State> _incidents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _dedup = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Json, DateTimeOffset ExpiresAt)> _postmortems = new(StringComparer.Ordinal);

    public Task<SignalOutcome> SignalAsync(IncidentSignal signal, IncidentLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(signal);
        SignalOutcome outcome;
        lock (_gate)
        {
            Sweep(signal.Now);
            State? target = null;
            if (!signal.AlwaysOpen)
            {
                foreach (var key in signal.ClaimKeys.Concat(signal.LookupKeys))
                {
                    if (_dedup.TryGetValue(key, out var id) && _incidents.TryGetValue(id, out var s) && s.Incident.IsOpen)
                    {
                        target = s;
                        break;
                    }
                }
            }
            if (target is null)
            {
                if (signal.NewIncident is not { } template) return Task.FromResult(new SignalOutcome(SignalResult.None, null));
                if (_incidents.Values.Count(s => s.Incident.IsOpen) >= limits.MaxOpenIncidents)
                    return Task.FromResult(new SignalOutcome(SignalResult.Capped, null));
                target = new State(template with { EventIds = [], Timeline = [], EventCount = 0, Components = [] });
                _incidents[template.Id] = target;
                Attach(target, signal, limits, opening: true);
                outcome = new SignalOutcome(SignalResult.Opened, template.Id);
            }
            else
            {
                var added = Attach(target, signal, limits, opening: false);
                outcome = new SignalOutcome(added ? SignalResult.Attached : SignalResult.Duplicate, target.Incident.Id);
            }
            foreach (var key in signal.ClaimKeys)
            {
                if (target.Keys.Count >= IncidentLimits.MaxDedupKeysPerIncident) break;
                if (_dedup.TryGetValue(key, out var holder) && _incidents.TryGetValue(holder, out var h) && h.Incident.IsOpen) continue;
                _dedup[key] = target.Incident.Id;
                target.Keys.Add(key);
            }
        }
        if (outcome.Result is SignalResult.Opened or SignalResult.Attached)
            Publish(signal.Channel, outcome.Result == SignalResult.Opened ? "incident_opened" : "incident_updated", outcome.IncidentId!, signal.Now);
        return Task.FromResult(outcome);
    }

    /// <summary>Adds the signal's new events (and its entry citing them); false when every cited event was already attached.</summary>
    private static bool Attach(State s, IncidentSignal signal, IncidentLimits limits, bool opening)
    {
        var fresh = signal.Events.Where(e => s.Seen.Add(e.EventId)).ToList();
        if (fresh.Count == 0 && !opening) return false;
        var i = s.Incident;
        foreach (var e in fresh)
        {
            if (s.EventIds.Count < limits.MaxEventIds) s.EventIds.Add(e);
        }
        var components = i.Components.Concat(signal.Components.Where(c => !i.Components.Contains(c, StringComparer.Ordinal))).ToList();
        var first = fresh.Count == 0 ? i.FirstEventAt : fresh.Min(e => e.At);
        var last = fresh.Count == 0 ? i.LastEventAt : fresh.Max(e => e.At);
        AppendEntry(s, signal.Entry with { EventIds = fresh.Select(e => e.EventId).ToList() }, limits, always: false);
        s.Incident = i with
        {
            Components = components,
            Severity = signal.Severity < i.Severity ? signal.Severity : i.Severity,
            EventCount = i.EventCount + fresh.Count,
            FirstEventAt = opening || first < i.FirstEventAt ? first : i.FirstEventAt,
            LastEventAt = opening || last > i.LastEventAt ? last : i.LastEventAt,
            SuspectedRootCause = i.SuspectedRootCause ?? signal.SuspectedRootCause,
            UpdatedAt = signal.Now,
        };
        return true;
    }

    private static void AppendEntry(State s, TimelineEntry entry, IncidentLimits limits, bool always)
    {
        if (always || s.Timeline.Count < limits.MaxTimelineEntries) s.Timeline.Add(entry);
        else s.Dropped++;
    }

    public Task<TransitionOutcome> TransitionAsync(string incidentId, IncidentTransition t, IncidentLimits limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(t);
        lock (_gate)
        {
            Sweep(t.Now);
            if (!_incidents.TryGetValue(incidentId, out var s)) return Task.FromResult(new TransitionOutcome(TransitionResult.NotFound, null));
            var i = s.Incident;
            var result = (i.Status, t.To) switch
            {
                (IncidentStatus.Resolved, _) => TransitionResult.NotAllowed,
                (IncidentStatus.Acknowledged, IncidentStatus.Acknowledged) => TransitionResult.Unchanged,
                (_, IncidentStatus.Triggered) => TransitionResult.NotAllowed,
                _ => TransitionResult.Applied,
            };
            if (result != TransitionResult.Applied) return Task.FromResult(new TransitionOutcome(result, i.Status));
            foreach (var id in t.Entry.EventIds)
            {
                if (s.Seen.Add(id) && s.EventIds.Count < limits.MaxEventIds) s.EventIds.Add(new CitedEvent(id, t.Now));
            }
            AppendEntry(s, t.Entry, limits, always: true);
            s.Incident = t.To == IncidentStatus.Acknowledged
                ? i with { Status = IncidentStatus.Acknowledged, AcknowledgedAt = t.Now, AcknowledgedBy = t.By, UpdatedAt = t.Now }
                : i with { Status = IncidentStatus.Resolved, ResolvedAt = t.Now, Resolution = t.Resolution, RootCause = t.RootCause, UpdatedAt = t.Now };
            if (t.To == IncidentStatus.Resolved)
            {
                foreach (var key in s.Keys.Where(k => _dedup.GetValueOrDefault(k) == incidentId).ToList()) _dedup.Remove(key);
                s.ExpiresAt = t.Now + limits.ResolvedRetention;
            }
        }
        Publish(t.Channel, t.To == IncidentStatus.Acknowledged ? "incident_acknowledged" : "incident_resolved", incidentId, t.Now);
        return Task.FromResult(new TransitionOutcome(TransitionResult.Applied, t.To));
    }

    public Task<Incident?> GetAsync(string incidentId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Sweep(time.GetUtcNow());
            return Task.FromResult(_incidents.TryGetValue(incidentId, out var s) ? s.Snapshot() : null);
        }
    }

    public Task<Page<Incident>> ListAsync(IncidentQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_gate)
        {
            Sweep(time.GetUtcNow());
            IEnumerable<Incident> all = _incidents.Values.Select(s => s.Incident with { Timeline = [], EventIds = [] })
                .Where(i => (query.Status is null || i.Status == query.Status) && (!query.OpenOnly || i.IsOpen))
                .OrderByDescending(i => i.CreatedAt.ToUnixTimeMilliseconds()).ThenByDescending(i => i.Id, StringComparer.Ordinal);
            if (IndexCursor.TryDecode(query.Cursor, out var c))
                all = all.Where(i => i.CreatedAt.ToUnixTimeMilliseconds() < c.Score || (i.CreatedAt.ToUnixTimeMilliseconds() == (long)c.Score && string.CompareOrdinal(i.Id, c.Member) < 0));
            var items = all.Take(query.Limit + 1).ToList();
            string? next = null;
            if (items.Count > query.Limit)
            {
                items.RemoveAt(items.Count - 1);
                next = new IndexCursor(items[^1].CreatedAt.ToUnixTimeMilliseconds(), items[^1].Id).Encode();
            }
            return Task.FromResult(new Page<Incident>(items, next));
        }
    }

    public Task SavePostmortemAsync(string postmortemId, string json, TimeSpan ttl, CancellationToken cancellationToken = default)
    {
        lock (_gate) _postmortems[postmortemId] = (json, time.GetUtcNow() + ttl);
        return Task.CompletedTask;
    }

    public Task<string?> GetPostmortemAsync(string postmortemId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_postmortems.TryGetValue(postmortemId, out var p) && p.ExpiresAt > time.GetUtcNow() ? p.Json : null);
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var id in _incidents.Where(p => p.Value.ExpiresAt <= now).Select(p => p.Key).ToList()) _incidents.Remove(id);
        foreach (var id in _postmortems.Where(p => p.Value.ExpiresAt <= now).Select(p => p.Key).ToList()) _postmortems.Remove(id);
    }

    private void Publish(string channel, string type, string id, DateTimeOffset at)
    {
        var status = "";
        lock (_gate) if (_incidents.TryGetValue(id, out var s)) status = s.Incident.Status switch
        {
            IncidentStatus.Triggered => "triggered", IncidentStatus.Acknowledged => "acknowledged", _ => "resolved",
        };
        bus.Publish(channel, CoreJson.Serialize(new IncidentChange(type, id, status, at)));
    }

    private sealed class State(Incident incident)
    {
        public Incident Incident { get; set; } = incident;
        public HashSet<string> Seen { get; } = new(StringComparer.Ordinal);
        public List<CitedEvent> EventIds { get; } = [];
        public List<TimelineEntry> Timeline { get; } = [];
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);
        public long Dropped { get; set; }
        public DateTimeOffset ExpiresAt { get; set; } = DateTimeOffset.MaxValue;

        public Incident Snapshot() => Incident with
        {
            EventIds = EventIds.OrderBy(e => e.At).ThenBy(e => e.EventId, StringComparer.Ordinal).Select(e => e.EventId).ToList(),
            Timeline = Timeline.OrderBy(e => e.At).ToList(),
            TimelineDropped = Dropped,
        };
    }
}
