using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Signatures;

namespace ErrorCoordinator.Core.Storage.InMemory;

/// <summary>
/// The embedded error store: one process, not durable, the same semantics as the Redis store
/// (atomic records, retention by time and count, the same paging and ordering). One lock makes every
/// operation atomic, as one Lua script is in Redis.
/// </summary>
public sealed class InMemoryErrorStore(InMemoryEventBus bus, TimeProvider time) : IErrorStore
{
    private static readonly Comparer<(long Ms, string Id)> NewestFirst = Comparer<(long Ms, string Id)>.Create((a, b) =>
    {
        var c = b.Ms.CompareTo(a.Ms);
        return c != 0 ? c : string.CompareOrdinal(b.Id, a.Id);
    });

    private readonly Lock _gate = new();
    private readonly Dictionary<string, ErrorEvent> _events = new(StringComparer.Ordinal);
    private readonly SortedSet<(long Ms, string Id)> _timeIndex = new(NewestFirst);
    private readonly SortedSet<(long Ms, string Id)> _expiry = new(Comparer<(long Ms, string Id)>.Create((a, b) =>
    {
        var c = a.Ms.CompareTo(b.Ms);
        return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
    }));
    private readonly Dictionary<string, GroupState> _groups = new(StringComparer.Ordinal);
    // Per-filter indexes (agent, component, task, severity, category), each capped like Redis's idx:* sets.
    private readonly Dictionary<(string Kind, string Name), SortedSet<(long Ms, string Id)>> _indexes = [];
    private readonly LinkedList<string> _audit = new();
    // Template buckets (the source of truth the engines' replicas follow): version, clusters with last use, expiry.
    private readonly Dictionary<string, TemplateBucket> _buckets = new(StringComparer.Ordinal);
    private long _records;

    private sealed class TemplateBucket
    {
        public string Version = "";
        public readonly Dictionary<string, (string Data, long LastUsedMs)> Clusters = new(StringComparer.Ordinal);
        public DateTimeOffset ExpiresAt;
    }

    private sealed class GroupState
    {
        public required string Id;
        public required string Signature;
        public required string ErrorType;
        public long Count;
        public DateTimeOffset FirstSeen;
        public DateTimeOffset LastSeen;
        public readonly Dictionary<string, long> Agents = new(StringComparer.Ordinal);
        public readonly HashSet<string> Components = new(StringComparer.Ordinal);
        public readonly LinkedList<string> Samples = new();
        public readonly Dictionary<long, long> Hourly = [];
        public GroupStatus Status;
        public string SampleMessage = "";
        public string? Component;
        public Severity Severity;
        public ErrorCategory Category;
        public string? Note;
        public DateTimeOffset? StatusChangedAt;
        public DateTimeOffset? RegressedAt;
        public DateTimeOffset ExpiresAt;
        public readonly SortedSet<(long Ms, string Id)> Index = new(NewestFirst);
    }

    public Task<RecordOutcome> RecordAsync(ErrorEvent e, RecordOptions options, CancellationToken cancellationToken = default)
    {
        string json;
        RecordOutcome outcome;
        IReadOnlyList<string>? evicted = null;
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (options.Template is { } decision && CheckBucket(decision, now) is { } conflict)
                return Task.FromResult(RecordOutcome.Conflicted(conflict));
            var limits = options.Limits;
            Purge(now, limits);

            var occurredMs = e.OccurredAt.ToUnixTimeMilliseconds();
            _events[e.EventId] = e;
            _timeIndex.Add((occurredMs, e.EventId));
            _expiry.Add((e.ExpiresAt.ToUnixTimeMilliseconds(), e.EventId));
            TrimTotal(limits.MaxEventsTotal);

            var isNew = !_groups.TryGetValue(e.GroupId, out var g) || g.ExpiresAt <= now;
            if (isNew)
            {
                g = new GroupState
                {
                    Id = e.GroupId, Signature = e.Signature, ErrorType = e.ErrorType,
                    FirstSeen = e.OccurredAt, LastSeen = e.OccurredAt, Status = GroupStatus.Unresolved,
                };
                _groups[e.GroupId] = g;
                // Expired groups must not count towards the cap (the Redis script sweeps them here too).
                if (_groups.Count > limits.MaxGroups) SweepGroups(now, keep: e.GroupId);
                TrimGroups(limits.MaxGroups, keep: e.GroupId);
            }
            else if (options.Template?.Change == TemplateChange.Update) g!.Signature = e.Signature;
            if (!isNew && g!.Status == GroupStatus.Resolved)
            {
                g.Status = GroupStatus.Regressed;
                g.RegressedAt = now;
                g.StatusChangedAt = now;
            }

            g!.Count++;
            if (e.OccurredAt < g.FirstSeen) g.FirstSeen = e.OccurredAt;
            if (e.OccurredAt >= g.LastSeen)
            {
                g.LastSeen = e.OccurredAt;
                g.SampleMessage = ErrorShapes.Sample(e.Message);
                g.Severity = e.Severity;
                g.Category = e.Category;
                if (e.Component is not null) g.Component = e.Component;
            }
            if (isNew)
            {
                g.SampleMessage = ErrorShapes.Sample(e.Message);
                g.Severity = e.Severity;
                g.Category = e.Category;
                g.Component = e.Component;
            }
            g.Agents[e.Agent] = g.Agents.GetValueOrDefault(e.Agent) + 1;
            if (e.Component is not null) g.Components.Add(e.Component);
            g.Samples.AddFirst(e.EventId);
            while (g.Samples.Count > limits.MaxSamplesPerGroup) g.Samples.RemoveLast();
            var hour = ErrorShapes.HourBucket(e.OccurredAt);
            g.Hourly[hour] = g.Hourly.GetValueOrDefault(hour) + 1;
            var horizon = ErrorShapes.HourBucket(now) - (Defaults.HistogramHours + 1) * 3_600_000L;
            foreach (var old in g.Hourly.Keys.Where(k => k < horizon).ToList()) g.Hourly.Remove(old);
            g.Index.Add((occurredMs, e.EventId));
            while (g.Index.Count > limits.MaxEventsPerIndex) g.Index.Remove(g.Index.Max);
            var indexHorizon = now.ToUnixTimeMilliseconds() - (long)limits.LongestEventRetention.TotalMilliseconds;
            foreach (var name in IndexNames(e))
            {
                if (!_indexes.TryGetValue(name, out var index)) _indexes[name] = index = new SortedSet<(long Ms, string Id)>(NewestFirst);
                index.Add((occurredMs, e.EventId));
                while (index.Count > 0 && index.Max.Ms < indexHorizon) index.Remove(index.Max);
                while (index.Count > limits.MaxEventsPerIndex) index.Remove(index.Max);
            }
            g.ExpiresAt = now + options.GroupTtl;

            json = CoreJson.Serialize(e);
            AppendAudit(json, limits.AuditStreamMaxLength);
            if (options.Template is { } applied) evicted = ApplyBucket(applied, now, options.GroupTtl);
            outcome = new RecordOutcome(isNew, g.Count, g.Status) { EvictedTemplates = evicted };
        }
        bus.Publish(options.Channel, json);
        return Task.FromResult(outcome);
    }

    public Task<Page<ErrorEvent>> QueryEventsAsync(ErrorQuery query, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            // The most selective index, as the Redis store chooses: group > task > agent > component > severity > category > time.
            IEnumerable<(long Ms, string Id)> source = query.GroupId is not null
                ? _groups.TryGetValue(query.GroupId, out var g) && g.ExpiresAt > now ? g.Index : []
                : FilterIndex(query) is { } key ? _indexes.GetValueOrDefault(key) ?? [] : _timeIndex;
            if (IndexCursor.TryDecode(query.Cursor, out var cursor))
                source = source.Where(x => NewestFirst.Compare(x, ((long)cursor.Score, cursor.Member)) > 0);

            var items = new List<ErrorEvent>(query.Limit);
            (long Ms, string Id) last = default;
            var more = false;
            foreach (var entry in source)
            {
                if (!_events.TryGetValue(entry.Id, out var e) || e.ExpiresAt <= now || !query.Matches(e)) continue;
                if (items.Count == query.Limit)
                {
                    more = true;
                    break;
                }
                items.Add(e);
                last = entry;
            }
            var next = more ? new IndexCursor(last.Ms, last.Id!).Encode() : null;
            return Task.FromResult(new Page<ErrorEvent>(items, next));
        }
    }

    public Task<Page<ErrorGroup>> ListGroupsAsync(GroupQuery query, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var ordered = _groups.Values
                .Where(g => g.ExpiresAt > now)
                .Select(g => (Score: SortScore(g, query.Sort), g))
                .OrderByDescending(x => x.Score)
                .ThenByDescending(x => x.g.Id, StringComparer.Ordinal)
                .AsEnumerable();
            if (IndexCursor.TryDecode(query.Cursor, out var cursor))
                ordered = ordered.Where(x => x.Score < cursor.Score || (x.Score == cursor.Score && string.CompareOrdinal(x.g.Id, cursor.Member) < 0));

            var items = new List<ErrorGroup>(query.Limit);
            (double Score, string Id) last = default;
            var more = false;
            foreach (var (score, g) in ordered)
            {
                if (!GroupMatches(g, query)) continue;
                if (items.Count == query.Limit)
                {
                    more = true;
                    break;
                }
                items.Add(ToGroup(g));
                last = (score, g.Id);
            }
            return Task.FromResult(new Page<ErrorGroup>(items, more ? new IndexCursor(last.Score, last.Id!).Encode() : null));
        }
    }

    public Task<ErrorGroupDetail?> GetGroupAsync(string groupId, DateTimeOffset now, int samples, int hours, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var clock = time.GetUtcNow();
            if (!_groups.TryGetValue(groupId, out var g) || g.ExpiresAt <= clock) return Task.FromResult<ErrorGroupDetail?>(null);
            var recent = g.Samples
                .Select(id => _events.GetValueOrDefault(id))
                .Where(e => e is not null && e.ExpiresAt > clock)
                .Take(samples)
                .Select(e => e!)
                .ToList();
            var histogram = ErrorShapes.Histogram(now, hours, h => g.Hourly.GetValueOrDefault(h));
            return Task.FromResult<ErrorGroupDetail?>(new ErrorGroupDetail(ToGroup(g), recent, histogram));
        }
    }

    public Task<ErrorGroup?> UpdateGroupStatusAsync(string groupId, GroupStatus status, string? note, DateTimeOffset now, string channel, CancellationToken cancellationToken = default)
    {
        ErrorGroup group;
        string json;
        lock (_gate)
        {
            if (!_groups.TryGetValue(groupId, out var g) || g.ExpiresAt <= time.GetUtcNow()) return Task.FromResult<ErrorGroup?>(null);
            g.Status = status;
            g.StatusChangedAt = now;
            if (note is not null) g.Note = note;
            group = ToGroup(g);
            json = CoreJson.Serialize(new GroupStatusEvent("group_status_changed", groupId, status, note, now));
            AppendAudit(json, Defaults.AuditStreamMaxLength);
        }
        bus.Publish(channel, json);
        return Task.FromResult<ErrorGroup?>(group);
    }

    public Task<IReadOnlyList<string>> ReadAuditAsync(int count, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<string>>(_audit.Take(count).ToList());
    }

    /// <summary>The bucket compare-and-set: null when the decision applies, else the bucket as held (nothing is written).</summary>
    private TemplateBucketSnapshot? CheckBucket(TemplateDecision d, DateTimeOffset now)
    {
        // An expired bucket reads as empty; only a create that succeeds replaces it, so a conflict writes nothing.
        if (_buckets.TryGetValue(d.BucketKey, out var b) && b.ExpiresAt <= now) b = null;
        var version = b?.Version ?? "";
        var has = b is not null && b.Clusters.ContainsKey(d.ClusterId);
        // A join needs only its cluster (a template generalised or a cluster added since still admits the message);
        // a create or an update needs the bucket exactly as the caller saw it.
        var ok = d.Change switch
        {
            TemplateChange.Join => has,
            TemplateChange.Create => version == d.ExpectedVersion && !has,
            _ => version == d.ExpectedVersion && has,
        };
        if (ok) return null;
        return b is null ? TemplateBucketSnapshot.Empty
            : new TemplateBucketSnapshot(b.Version, b.Clusters.ToDictionary(c => c.Key, c => c.Value.Data, StringComparer.Ordinal));
    }

    private List<string>? ApplyBucket(TemplateDecision d, DateTimeOffset now, TimeSpan ttl)
    {
        if (!_buckets.TryGetValue(d.BucketKey, out var b) || b.ExpiresAt <= now) _buckets[d.BucketKey] = b = new TemplateBucket();
        var nowMs = now.ToUnixTimeMilliseconds();
        List<string>? evicted = null;
        if (d.Change == TemplateChange.Join) b.Clusters[d.ClusterId] = (b.Clusters[d.ClusterId].Data, nowMs);
        else
        {
            b.Version = d.NewVersion;
            b.Clusters[d.ClusterId] = (d.ClusterData!, nowMs);
            while (d.Change == TemplateChange.Create && b.Clusters.Count > d.MaxClusters)
            {
                // The least recently used other cluster (ties: the smallest id), as the Redis script picks it.
                var victim = b.Clusters.Where(c => c.Key != d.ClusterId)
                    .OrderBy(c => c.Value.LastUsedMs).ThenBy(c => c.Key, StringComparer.Ordinal).First().Key;
                b.Clusters.Remove(victim);
                (evicted ??= []).Add(victim);
            }
        }
        b.ExpiresAt = now + ttl;
        // Buckets past their TTL go, as Redis expires them (swept here when a new one is made, bounded work).
        if (_buckets.Count % 64 == 0)
            foreach (var key in _buckets.Where(x => x.Value.ExpiresAt <= now).Select(x => x.Key).ToList()) _buckets.Remove(key);
        return evicted;
    }

    private void Purge(DateTimeOffset now, RetentionLimits limits)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        while (_expiry.Count > 0 && _expiry.Min.Ms <= nowMs)
        {
            var (ms, id) = _expiry.Min;
            _expiry.Remove((ms, id));
            if (_events.Remove(id, out var e)) _timeIndex.Remove((e.OccurredAt.ToUnixTimeMilliseconds(), id));
        }
        var horizon = nowMs - (long)limits.LongestEventRetention.TotalMilliseconds;
        while (_timeIndex.Count > 0 && _timeIndex.Max.Ms < horizon) RemoveOldest();
        // The sweeps below walk every group and index, so (as in the Redis script) they run on one report in 16;
        // reads skip expired groups and events themselves, so this changes no answer, only when memory is returned.
        if (++_records % 16 != 0) return;
        SweepGroups(now);
        // An index whose newest entry is past the horizon only points at expired events (Redis lets such keys expire).
        foreach (var stale in _indexes.Where(kv => kv.Value.Count == 0 || kv.Value.Min.Ms < horizon).Select(kv => kv.Key).ToList()) _indexes.Remove(stale);
    }

    /// <summary>Drops expired groups; <paramref name="keep"/> is a group being created (its expiry is set later).</summary>
    private void SweepGroups(DateTimeOffset now, string? keep = null)
    {
        foreach (var expired in _groups.Values.Where(g => g.ExpiresAt <= now && g.Id != keep).Select(g => g.Id).ToList()) _groups.Remove(expired);
    }

    private static IEnumerable<(string Kind, string Name)> IndexNames(ErrorEvent e)
    {
        yield return ("agent", e.Agent);
        if (e.Component is not null) yield return ("component", e.Component);
        if (e.TaskId is not null) yield return ("task", e.TaskId);
    }

    private static (string Kind, string Name)? FilterIndex(ErrorQuery q) =>
        q.TaskId is not null ? ("task", q.TaskId)
        : q.Agent is not null ? ("agent", q.Agent)
        : q.Component is not null ? ("component", q.Component)
        : null;

    private void TrimTotal(int max)
    {
        while (_timeIndex.Count > max) RemoveOldest();
    }

    private void RemoveOldest()
    {
        var (ms, id) = _timeIndex.Max;
        _timeIndex.Remove((ms, id));
        if (_events.Remove(id, out var e)) _expiry.Remove((e.ExpiresAt.ToUnixTimeMilliseconds(), id));
    }

    /// <summary>Evicts the least recently seen groups beyond <paramref name="max"/>, never the group just reported.</summary>
    private void TrimGroups(int max, string keep)
    {
        while (_groups.Count > max)
        {
            var stalest = _groups.Values.Where(g => g.Id != keep).MinBy(g => g.LastSeen);
            if (stalest is null) break;
            _groups.Remove(stalest.Id);
        }
    }

    private void AppendAudit(string json, int max)
    {
        _audit.AddFirst(json);
        while (_audit.Count > max) _audit.RemoveLast();
    }

    private static double SortScore(GroupState g, GroupSort sort) => sort switch
    {
        GroupSort.Count => g.Count,
        GroupSort.FirstSeen => g.FirstSeen.ToUnixTimeMilliseconds(),
        _ => g.LastSeen.ToUnixTimeMilliseconds(),
    };

    private static bool GroupMatches(GroupState g, GroupQuery q) =>
        (q.Status is { } s ? g.Status == s : g.Status != GroupStatus.Ignored) &&
        (q.Agent is null || g.Agents.ContainsKey(q.Agent)) &&
        (q.Component is null || g.Components.Contains(q.Component));

    private static ErrorGroup ToGroup(GroupState g) => new()
    {
        Id = g.Id,
        Signature = g.Signature,
        ErrorType = g.ErrorType,
        Count = g.Count,
        FirstSeen = g.FirstSeen,
        LastSeen = g.LastSeen,
        DistinctAgents = g.Agents.Count,
        TopAgents = g.Agents.OrderByDescending(a => a.Value).ThenByDescending(a => a.Key, StringComparer.Ordinal)
            .Take(Defaults.TopAgents).Select(a => new AgentCount(a.Key, a.Value)).ToList(),
        Status = g.Status,
        SampleMessage = g.SampleMessage,
        Component = g.Component,
        Severity = g.Severity,
        Category = g.Category,
        Note = g.Note,
        StatusChangedAt = g.StatusChangedAt,
        RegressedAt = g.RegressedAt,
    };
}

/// <summary>Published when a group's status is changed by a person or agent.</summary>
public sealed record GroupStatusEvent(string Type, string GroupId, GroupStatus Status, string? Note, DateTimeOffset At);
