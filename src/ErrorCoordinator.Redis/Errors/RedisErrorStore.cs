using System.Globalization;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Signatures;
using ErrorCoordinator.Core.Storage.InMemory;
using ErrorCoordinator.Redis.Scripting;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Errors;

/// <summary>
/// The Redis error store. Every write is one Lua script (<c>recordFailure-18</c>, <c>updateGroupStatus-4</c>);
/// reads are pipelined commands. Same semantics as <see cref="InMemoryErrorStore"/>: both pass one contract suite.
/// Time comes from the injected <see cref="TimeProvider"/> and is passed to the scripts, never read from Redis.
/// </summary>
public sealed class RedisErrorStore(IConnectionMultiplexer mux, KeySchema keys, RedisScripts scripts, TimeProvider time) : IErrorStore
{
    /// <summary>Index entries fetched per round trip while scanning.</summary>
    internal const int ScanBatch = 200;
    internal const int MaxScanBatch = 2_000;

    /// <summary>At most this many index entries are examined per call; past it, a cursor is returned to continue.</summary>
    internal const int MaxScanPerCall = 5_000;

    private const long HourMs = 3_600_000L;

    private IDatabase Db => mux.GetDatabase();

    /// <inheritdoc />
    public async Task<RecordOutcome> RecordAsync(ErrorEvent e, RecordOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        var now = time.GetUtcNow();
        var l = options.Limits;
        var nowMs = now.ToUnixTimeMilliseconds();
        var json = CoreJson.Serialize(e);
        var groupExpires = now + options.GroupTtl;

        RedisKey[] k =
        [
            keys.Events, keys.EventExpiry, keys.TimeIndex,
            keys.AgentIndex(e.Agent), keys.ComponentIndex(e.Component), keys.GroupIndex(e.GroupId), keys.TaskIndex(e.TaskId),
            keys.Group(e.GroupId), keys.GroupAgents(e.GroupId), keys.GroupComponents(e.GroupId), keys.GroupSamples(e.GroupId), keys.GroupHistogram(e.GroupId),
            keys.GroupsByLastSeen, keys.GroupsByFirstSeen, keys.GroupsByCount, keys.GroupsByExpiry,
            keys.Audit, keys.TemplateBucket(options.Template?.BucketKey ?? ""),
        ];
        var t = options.Template;
        RedisValue[] v =
        [
            e.EventId, json, e.GroupId, e.OccurredAt.ToUnixTimeMilliseconds(), Ticks(e.OccurredAt),
            e.ExpiresAt.ToUnixTimeMilliseconds(), nowMs, Ticks(now),
            e.Agent, e.Component ?? "", e.Component is null ? 0 : 1, e.TaskId is null ? 0 : 1,
            e.Signature, e.ErrorType, ErrorShapes.Sample(e.Message), e.Severity.ToWire(), e.Category.ToWire(),
            Ms(options.GroupTtl), l.MaxEventsPerIndex, l.MaxEventsTotal, l.MaxGroups, l.MaxSamplesPerGroup, l.AuditStreamMaxLength,
            nowMs - Ms(l.LongestEventRetention), Ms(l.LongestEventRetention + Defaults.MaxFutureSkew),
            options.Channel, ErrorShapes.HourBucket(e.OccurredAt), ErrorShapes.HourBucket(now) - (Defaults.HistogramHours + 1) * HourMs,
            Ticks(groupExpires), groupExpires.ToUnixTimeMilliseconds(),
            t is null ? "" : ChangeName(t.Change), t?.ExpectedVersion ?? "", t?.NewVersion ?? "", t?.ClusterId ?? "", t?.ClusterData ?? "",
            t?.MaxClusters ?? 0,
        ];
        var result = (RedisResult[])(await scripts.EvaluateAsync(RedisScripts.RecordFailure, k, v).ConfigureAwait(false))!;
        if ((long)result[0] == -1) return RecordOutcome.Conflicted(ToSnapshot((RedisResult[])result[1]!));
        var evicted = (RedisResult[])result[3]!;
        return new RecordOutcome((long)result[0] == 1, (long)result[1], ParseStatus((string?)result[2]))
        {
            EvictedTemplates = evicted.Length == 0 ? null : evicted.Select(x => (string)x!).ToArray(),
        };
    }

    private static string ChangeName(TemplateChange change) => change switch
    {
        TemplateChange.Join => "join",
        TemplateChange.Update => "update",
        TemplateChange.Create => "create",
        _ => throw new ArgumentOutOfRangeException(nameof(change)),
    };

    private static TemplateBucketSnapshot ToSnapshot(RedisResult[] flat)
    {
        if (flat.Length == 0) return TemplateBucketSnapshot.Empty;
        var version = "";
        var clusters = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2)
        {
            var field = (string)flat[i]!;
            if (field == "v") version = (string)flat[i + 1]!;
            else if (field.StartsWith("c:", StringComparison.Ordinal)) clusters[field[2..]] = (string)flat[i + 1]!;
        }
        return new TemplateBucketSnapshot(version, clusters);
    }

    /// <inheritdoc />
    public async Task<Page<ErrorEvent>> QueryEventsAsync(ErrorQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var db = Db;
        var clock = time.GetUtcNow();
        var limit = Math.Max(1, query.Limit);

        RedisKey index;
        if (query.GroupId is not null)
        {
            if (!await IsLiveAsync(db, query.GroupId, clock).ConfigureAwait(false)) return new Page<ErrorEvent>([], null);
            index = keys.GroupIndex(query.GroupId);
        }
        else if (query.TaskId is not null) index = keys.TaskIndex(query.TaskId);
        else if (query.Agent is not null) index = keys.AgentIndex(query.Agent);
        else if (query.Component is not null) index = keys.ComponentIndex(query.Component);
        else index = keys.TimeIndex;

        var hasCursor = IndexCursor.TryDecode(query.Cursor, out var cursor);
        var upper = hasCursor ? cursor.Score : double.PositiveInfinity;
        if (query.Until is { } until) upper = Math.Min(upper, until.ToUnixTimeMilliseconds());
        var lower = query.Since is { } since ? since.ToUnixTimeMilliseconds() : double.NegativeInfinity;

        var items = new List<ErrorEvent>(Math.Min(limit, 256));
        // Large pages (correlation reads thousands of events) fetch in larger batches: fewer round trips.
        var batchSize = Math.Clamp(limit + 1, ScanBatch, MaxScanBatch);
        SortedSetEntry? lastReturned = null, lastScanned = null;
        var more = false;
        var exhausted = false;
        var scanned = 0;
        long skip = 0;
        while (!more && !exhausted && scanned < MaxScanPerCall && lower <= upper)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = await db.SortedSetRangeByScoreWithScoresAsync(index, lower, upper, Exclude.None, Order.Descending, skip, batchSize).ConfigureAwait(false);
            skip += batch.Length;
            scanned += batch.Length;
            if (batch.Length < batchSize) exhausted = true;
            var after = batch.Where(x => !hasCursor || IsAfter(x, cursor)).ToArray();
            if (after.Length == 0) continue;
            var bodies = await db.HashGetAsync(keys.Events, after.Select(x => x.Element).ToArray()).ConfigureAwait(false);
            for (var i = 0; i < after.Length; i++)
            {
                lastScanned = after[i];
                if (bodies[i].IsNull) continue;
                var ev = CoreJson.Deserialize<ErrorEvent>(bodies[i].ToString());
                if (ev.ExpiresAt <= clock || !query.Matches(ev)) continue;
                if (items.Count == limit)
                {
                    more = true;
                    break;
                }
                items.Add(ev);
                lastReturned = after[i];
            }
        }
        string? next = null;
        if (more) next = Encode(lastReturned!.Value);
        else if (!exhausted && lastScanned is { } ls && lower <= upper) next = Encode(ls);
        return new Page<ErrorEvent>(items, next);
    }

    /// <inheritdoc />
    public async Task<Page<ErrorGroup>> ListGroupsAsync(GroupQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var db = Db;
        var clockTicks = time.GetUtcNow().UtcTicks;
        var limit = Math.Max(1, query.Limit);
        var set = keys.GroupsBy(query.Sort);
        var hasCursor = IndexCursor.TryDecode(query.Cursor, out var cursor);
        var upper = hasCursor ? cursor.Score : double.PositiveInfinity;

        var matches = new List<SortedSetEntry>();
        SortedSetEntry? lastScanned = null;
        var more = false;
        var exhausted = false;
        var scanned = 0;
        long skip = 0;
        RedisValue[] probe = ["status", "expires_at"];
        while (!more && !exhausted && scanned < MaxScanPerCall)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = await db.SortedSetRangeByScoreWithScoresAsync(set, double.NegativeInfinity, upper, Exclude.None, Order.Descending, skip, ScanBatch).ConfigureAwait(false);
            skip += batch.Length;
            scanned += batch.Length;
            if (batch.Length < ScanBatch) exhausted = true;
            var after = batch.Where(x => !hasCursor || IsAfter(x, cursor)).ToArray();
            if (after.Length == 0) continue;

            var b = db.CreateBatch();
            var heads = new Task<RedisValue[]>[after.Length];
            var agentHits = new Task<double?>[after.Length];
            var componentHits = new Task<bool>[after.Length];
            for (var i = 0; i < after.Length; i++)
            {
                var id = (string)after[i].Element!;
                heads[i] = b.HashGetAsync(keys.Group(id), probe);
                if (query.Agent is not null) agentHits[i] = b.SortedSetScoreAsync(keys.GroupAgents(id), query.Agent);
                if (query.Component is not null) componentHits[i] = b.SetContainsAsync(keys.GroupComponents(id), query.Component);
            }
            b.Execute();
            await Task.WhenAll(heads).ConfigureAwait(false);
            for (var i = 0; i < after.Length; i++)
            {
                lastScanned = after[i];
                var head = heads[i].Result;
                if (head[0].IsNull || head[1].IsNull || ParseTicks(head[1]) <= clockTicks) continue;
                var status = ParseStatus(head[0]);
                if (query.Status is { } wanted ? status != wanted : status == GroupStatus.Ignored) continue;
                if (query.Agent is not null && await agentHits[i].ConfigureAwait(false) is null) continue;
                if (query.Component is not null && !await componentHits[i].ConfigureAwait(false)) continue;
                if (matches.Count == limit)
                {
                    more = true;
                    break;
                }
                matches.Add(after[i]);
            }
        }

        var groups = await ReadGroupsAsync(db, matches.Select(m => (string)m.Element!).ToArray()).ConfigureAwait(false);
        var items = new List<ErrorGroup>(groups.Length);
        foreach (var g in groups) if (g is not null) items.Add(g);
        string? next = null;
        if (more) next = Encode(matches[^1]);
        else if (!exhausted && lastScanned is { } ls) next = Encode(ls);
        return new Page<ErrorGroup>(items, next);
    }

    /// <inheritdoc />
    public async Task<ErrorGroupDetail?> GetGroupAsync(string groupId, DateTimeOffset now, int samples, int hours, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        var db = Db;
        var clock = time.GetUtcNow();
        var b = db.CreateBatch();
        var hash = b.HashGetAllAsync(keys.Group(groupId));
        var member = b.SortedSetScoreAsync(keys.GroupsByLastSeen, groupId);
        var agents = b.SortedSetRangeByRankWithScoresAsync(keys.GroupAgents(groupId), 0, Defaults.TopAgents - 1, Order.Descending);
        var distinct = b.SortedSetLengthAsync(keys.GroupAgents(groupId));
        var sampleIds = b.ListRangeAsync(keys.GroupSamples(groupId));
        var hist = b.HashGetAllAsync(keys.GroupHistogram(groupId));
        b.Execute();
        await Task.WhenAll(hash, member, agents, distinct, sampleIds, hist).ConfigureAwait(false);

        var fields = ToDictionary(hash.Result);
        if (member.Result is null || !IsLive(fields, clock.UtcTicks)) return null;
        var group = ToGroup(groupId, fields, agents.Result, distinct.Result);

        var recent = new List<ErrorEvent>();
        if (samples > 0 && sampleIds.Result.Length > 0)
        {
            var bodies = await db.HashGetAsync(keys.Events, sampleIds.Result).ConfigureAwait(false);
            foreach (var body in bodies)
            {
                if (body.IsNull) continue;
                var ev = CoreJson.Deserialize<ErrorEvent>(body.ToString());
                if (ev.ExpiresAt <= clock) continue;
                recent.Add(ev);
                if (recent.Count == samples) break;
            }
        }
        var hourly = new Dictionary<long, long>();
        foreach (var entry in hist.Result) hourly[(long)entry.Name] = (long)entry.Value;
        var histogram = ErrorShapes.Histogram(now, hours, h => hourly.GetValueOrDefault(h));
        return new ErrorGroupDetail(group, recent, histogram);
    }

    /// <inheritdoc />
    public async Task<ErrorGroup?> UpdateGroupStatusAsync(string groupId, GroupStatus status, string? note, DateTimeOffset now, string channel, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(groupId);
        ArgumentNullException.ThrowIfNull(channel);
        cancellationToken.ThrowIfCancellationRequested();
        var payload = CoreJson.Serialize(new GroupStatusEvent("group_status_changed", groupId, status, note, now));
        RedisKey[] k = [keys.Group(groupId), keys.GroupAgents(groupId), keys.GroupsByLastSeen, keys.Audit];
        RedisValue[] v =
        [
            groupId, status.ToWire(), note ?? "", note is null ? 0 : 1, Ticks(now), Ticks(time.GetUtcNow()),
            payload, channel, Defaults.AuditStreamMaxLength, Defaults.TopAgents,
        ];
        var result = await scripts.EvaluateAsync(RedisScripts.UpdateGroupStatus, k, v).ConfigureAwait(false);
        if (result.IsNull) return null;
        var parts = (RedisResult[])result!;
        var flat = (RedisResult[])parts[0]!;
        var fields = new Dictionary<string, RedisValue>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < flat.Length; i += 2) fields[(string)flat[i]!] = (RedisValue)flat[i + 1];
        var agentFlat = (RedisResult[])parts[1]!;
        var agents = new SortedSetEntry[agentFlat.Length / 2];
        for (var i = 0; i < agents.Length; i++) agents[i] = new SortedSetEntry((RedisValue)agentFlat[2 * i], (double)agentFlat[2 * i + 1]);
        return ToGroup(groupId, fields, agents, (long)parts[2]);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ReadAuditAsync(int count, CancellationToken cancellationToken = default)
    {
        if (count <= 0) return [];
        var entries = await Db.StreamRangeAsync(keys.Audit, "-", "+", count, Order.Descending).ConfigureAwait(false);
        var result = new List<string>(entries.Length);
        foreach (var entry in entries)
        {
            var json = entry["json"];
            if (!json.IsNull) result.Add(json.ToString());
        }
        return result;
    }

    private async Task<bool> IsLiveAsync(IDatabase db, string groupId, DateTimeOffset clock)
    {
        var b = db.CreateBatch();
        var expires = b.HashGetAsync(keys.Group(groupId), "expires_at");
        var member = b.SortedSetScoreAsync(keys.GroupsByLastSeen, groupId);
        b.Execute();
        await Task.WhenAll(expires, member).ConfigureAwait(false);
        return member.Result is not null && !expires.Result.IsNull && ParseTicks(expires.Result) > clock.UtcTicks;
    }

    private async Task<ErrorGroup?[]> ReadGroupsAsync(IDatabase db, string[] ids)
    {
        if (ids.Length == 0) return [];
        var b = db.CreateBatch();
        var hashes = new Task<HashEntry[]>[ids.Length];
        var tops = new Task<SortedSetEntry[]>[ids.Length];
        var counts = new Task<long>[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            hashes[i] = b.HashGetAllAsync(keys.Group(ids[i]));
            tops[i] = b.SortedSetRangeByRankWithScoresAsync(keys.GroupAgents(ids[i]), 0, Defaults.TopAgents - 1, Order.Descending);
            counts[i] = b.SortedSetLengthAsync(keys.GroupAgents(ids[i]));
        }
        b.Execute();
        await Task.WhenAll(hashes.Cast<Task>().Concat(tops).Concat(counts)).ConfigureAwait(false);
        var result = new ErrorGroup?[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            var fields = ToDictionary(hashes[i].Result);
            // The group may have expired (by Redis TTL) between the scan and this read.
            result[i] = fields.ContainsKey("signature") ? ToGroup(ids[i], fields, tops[i].Result, counts[i].Result) : null;
        }
        return result;
    }

    private static bool IsLive(Dictionary<string, RedisValue> fields, long clockTicks) =>
        fields.TryGetValue("expires_at", out var e) && ParseTicks(e) > clockTicks && fields.ContainsKey("signature");

    private static ErrorGroup ToGroup(string id, Dictionary<string, RedisValue> f, SortedSetEntry[] topAgents, long distinctAgents) => new()
    {
        Id = id,
        Signature = Str(f, "signature") ?? "",
        ErrorType = Str(f, "error_type") ?? "",
        Count = f.TryGetValue("count", out var c) ? (long)c : 0,
        FirstSeen = Time(f, "first_seen") ?? default,
        LastSeen = Time(f, "last_seen") ?? default,
        DistinctAgents = distinctAgents,
        TopAgents = topAgents
            .Select(a => new AgentCount(a.Element.ToString(), (long)a.Score))
            .OrderByDescending(a => a.Count).ThenByDescending(a => a.Agent, StringComparer.Ordinal)
            .ToList(),
        Status = ParseStatus(f.GetValueOrDefault("status")),
        SampleMessage = Str(f, "sample_message") ?? "",
        Component = Str(f, "component"),
        Severity = Taxonomy.TryParseSeverity(Str(f, "severity"), out var s) ? s : Severity.Error,
        Category = Taxonomy.TryParseCategory(Str(f, "category"), out var cat) ? cat : ErrorCategory.Application,
        Note = Str(f, "note"),
        StatusChangedAt = Time(f, "status_changed_at"),
        RegressedAt = Time(f, "regressed_at"),
    };

    private static Dictionary<string, RedisValue> ToDictionary(HashEntry[] entries)
    {
        var d = new Dictionary<string, RedisValue>(entries.Length, StringComparer.Ordinal);
        foreach (var e in entries) d[e.Name.ToString()] = e.Value;
        return d;
    }

    private static string? Str(Dictionary<string, RedisValue> f, string name) => f.TryGetValue(name, out var v) && !v.IsNull ? v.ToString() : null;

    private static DateTimeOffset? Time(Dictionary<string, RedisValue> f, string name) =>
        f.TryGetValue(name, out var v) && !v.IsNull ? new DateTimeOffset(ParseTicks(v), TimeSpan.Zero) : null;

    private static GroupStatus ParseStatus(RedisValue value) => Taxonomy.TryParseStatus(value.IsNull ? null : value.ToString(), out var s) ? s : GroupStatus.Unresolved;

    private static GroupStatus ParseStatus(string? value) => Taxonomy.TryParseStatus(value, out var s) ? s : GroupStatus.Unresolved;

    /// <summary>True when <paramref name="entry"/> comes after <paramref name="cursor"/> in (score desc, member desc ordinal) order.</summary>
    private static bool IsAfter(SortedSetEntry entry, IndexCursor cursor) =>
        entry.Score < cursor.Score || (entry.Score == cursor.Score && string.CompareOrdinal(entry.Element.ToString(), cursor.Member) < 0);

    private static string Encode(SortedSetEntry entry) => new IndexCursor(entry.Score, entry.Element.ToString()).Encode();

    /// <summary>UTC .NET ticks as 19 digits, so Lua compares timestamps as strings.</summary>
    internal static string Ticks(DateTimeOffset t) => t.UtcTicks.ToString("D19", CultureInfo.InvariantCulture);

    private static long ParseTicks(RedisValue v) => long.Parse(v.ToString(), NumberStyles.None, CultureInfo.InvariantCulture);

    private static long Ms(TimeSpan t) => (long)t.TotalMilliseconds;
}
