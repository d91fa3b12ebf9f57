using System.Text;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis;

/// <summary>
/// Every Redis key the coordinator uses, in one place. All error-store keys share the hash tag <c>{err}</c>
/// so one Lua script may touch them together (cluster-safe). User-supplied names are percent-encoded
/// (<see cref="Encode"/>) so they can neither add a separator, a glob character nor a hash tag.
/// </summary>
public sealed class KeySchema
{
    /// <summary>Stands in for an optional index key a script is told to skip; no encoded name can equal it.</summary>
    private const string Absent = "~";

    private readonly string _err;

    /// <summary>Creates the schema for <paramref name="prefix"/> (default <c>ec:</c>).</summary>
    /// <exception cref="ArgumentException">The prefix contains a brace, whitespace or a control character.</exception>
    public KeySchema(string prefix = Defaults.KeyPrefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Any(c => c is '{' or '}' || char.IsWhiteSpace(c) || char.IsControl(c)))
            throw new ArgumentException($"Key prefix '{prefix}' may not contain braces, whitespace or control characters.", nameof(prefix));
        Prefix = prefix;
        _err = prefix + "{err}:";
    }

    /// <summary>The prefix every key starts with.</summary>
    public string Prefix { get; }

    /// <summary>HASH eventId -> event JSON.</summary>
    public RedisKey Events => _err + "events";
    /// <summary>ZSET eventId scored by expires_at (Unix ms).</summary>
    public RedisKey EventExpiry => _err + "events:expiry";
    /// <summary>ZSET eventId scored by occurred_at (Unix ms): every event.</summary>
    public RedisKey TimeIndex => _err + "idx:time";
    /// <summary>ZSET of one agent's events, scored by occurred_at.</summary>
    public RedisKey AgentIndex(string agent) => _err + "idx:agent:" + Encode(agent);
    /// <summary>ZSET of one component's events; with null, a placeholder key the script skips.</summary>
    public RedisKey ComponentIndex(string? component) => _err + "idx:component:" + (component is null ? Absent : Encode(component));
    /// <summary>ZSET of one group's events.</summary>
    public RedisKey GroupIndex(string groupId) => _err + "idx:group:" + Encode(groupId);
    /// <summary>ZSET of one task's events; with null, a placeholder key the script skips.</summary>
    public RedisKey TaskIndex(string? taskId) => _err + "idx:task:" + (taskId is null ? Absent : Encode(taskId));

    /// <summary>HASH of one group's fields.</summary>
    public RedisKey Group(string groupId) => _err + "group:" + Encode(groupId);
    /// <summary>ZSET agent -> event count of one group.</summary>
    public RedisKey GroupAgents(string groupId) => Group(groupId).Append(":agents");
    /// <summary>SET of the components one group was seen in.</summary>
    public RedisKey GroupComponents(string groupId) => Group(groupId).Append(":components");
    /// <summary>LIST of a group's recent event ids, newest first, capped.</summary>
    public RedisKey GroupSamples(string groupId) => Group(groupId).Append(":samples");
    /// <summary>HASH hour start (Unix ms) -> count, the last 25 hours.</summary>
    public RedisKey GroupHistogram(string groupId) => Group(groupId).Append(":hist");

    /// <summary>ZSET groupId scored by last_seen (Unix ms).</summary>
    public RedisKey GroupsByLastSeen => _err + "groups:last_seen";
    /// <summary>ZSET groupId scored by first_seen (Unix ms).</summary>
    public RedisKey GroupsByFirstSeen => _err + "groups:first_seen";
    /// <summary>ZSET groupId scored by event count.</summary>
    public RedisKey GroupsByCount => _err + "groups:count";
    /// <summary>ZSET groupId scored by the time (Unix ms) the group expires.</summary>
    public RedisKey GroupsByExpiry => _err + "groups:expiry";
    /// <summary>STREAM of reports and status changes (JSON), capped.</summary>
    public RedisKey Audit => _err + "audit";

    /// <summary>A template bucket (the miner's tree leaf, by its hash): version and clusters, recorded with reports.</summary>
    public RedisKey TemplateBucket(string bucketKey) => _err + "tpl:" + Encode(bucketKey);

    // ---- Correlation and incidents -------------------------------------------------------------------------------
    // The dependency graph shares the hash tag {dep}; every incident key shares {inc}, so one script may touch the dedup
    // map, the indexes and one incident's keys together.

    /// <summary>HASH component -> JSON array of the components it depends on.</summary>
    public RedisKey DependencyGraph => Prefix + "{dep}:graph";
    /// <summary>HASH component -> when its dependency list last changed (Unix ms).</summary>
    public RedisKey DependencyUpdated => Prefix + "{dep}:graph:updated";

    /// <summary>HASH dedup key (c:&lt;component&gt;, t:&lt;trace&gt;, ...) -> id of the open incident holding it.</summary>
    public RedisKey IncidentDedup => Prefix + "{inc}:dedup";
    /// <summary>HASH of one incident's fields.</summary>
    public RedisKey Incident(string incidentId) => Prefix + "{inc}:i:" + Encode(incidentId);
    /// <summary>LIST of one incident's timeline entries (JSON), capped.</summary>
    public RedisKey IncidentTimeline(string incidentId) => Incident(incidentId).Append(":timeline");
    /// <summary>ZSET of the event ids one incident cites, scored by occurred ms, capped.</summary>
    public RedisKey IncidentEvents(string incidentId) => Incident(incidentId).Append(":events");
    /// <summary>SET of the dedup keys one incident holds.</summary>
    public RedisKey IncidentKeys(string incidentId) => Incident(incidentId).Append(":keys");
    /// <summary>ZSET of one incident's components, scored by when they joined.</summary>
    public RedisKey IncidentComponents(string incidentId) => Incident(incidentId).Append(":components");
    /// <summary>ZSET of every incident id by created ms.</summary>
    public RedisKey IncidentsAll => Prefix + "{inc}:idx:all";
    /// <summary>ZSET of the incident ids in one status (triggered, acknowledged, resolved) by created ms.</summary>
    public RedisKey IncidentsByStatus(string status) => Prefix + "{inc}:idx:" + Encode(status);
    /// <summary>ZSET of resolved incident ids by resolved ms (retention sweep).</summary>
    public RedisKey IncidentsResolvedAt => Prefix + "{inc}:idx:resolved_at";
    /// <summary>STRING: one post-mortem (JSON), with a TTL.</summary>
    public RedisKey Postmortem(string postmortemId) => Prefix + "{inc}:pm:" + Encode(postmortemId);

    // ----------------------------------------------------------------------------------------------------------------

    /// <summary>The ZSET that orders groups for <paramref name="sort"/>.</summary>
    public RedisKey GroupsBy(GroupSort sort) => sort switch
    {
        GroupSort.Count => GroupsByCount,
        GroupSort.FirstSeen => GroupsByFirstSeen,
        _ => GroupsByLastSeen,
    };

    /// <summary>STRING of one run's last N steps (16-byte loss/grad-norm records, newest first; see recordTrainingStep-1.lua), with an idle TTL.</summary>
    public RedisKey TrainingWindow(string project, string run) => Prefix + "{tr:" + Encode(project) + "/" + Encode(run) + "}:window";
    /// <summary>LIST of one project's training anomalies (JSON), newest first, capped, 30-day TTL (the original design's errors:training:&lt;project&gt;:log).</summary>
    public RedisKey TrainingLog(string project) => Prefix + "{trlog:" + Encode(project) + "}:log";

    /// <summary>LIST of GPU hardware findings (JSON), newest first, capped, 7-day TTL (the original design's errors:hardware:gpu:log).</summary>
    public RedisKey HardwareLog => Prefix + "{hw}:gpu:log";
    /// <summary>STRING marking a finding signature as reported; expires after the dedup window (same hash tag as the log).</summary>
    public RedisKey HardwareSeen(string signature) => Prefix + "{hw}:gpu:seen:" + Encode(signature);

    // --- Circuit breakers: the keys of one component share the hash tag {cb:<component>} ---------------------------

    /// <summary>The six keys of one component's breaker, in the order the breaker scripts take them (see Lua/breaker.lib.lua).</summary>
    public RedisKey[] BreakerKeys(string component)
    {
        var tag = Prefix + "{cb:" + Encode(component) + "}:";
        return [tag + "state", tag + "window", tag + "reporters", tag + "permits", tag + "policy", tag + "audit"];
    }

    /// <summary>ZSET component -> last change (Unix ms): the directory list_breakers pages through.</summary>
    public RedisKey BreakerIndex => Prefix + "{cb}:index";
    // ---- Retry queue -------------------------------------------------------------------------------------------
    // Every retry-queue key shares the hash tag {rq}, so each queue script may touch them together (cluster-safe).

    private string Rq => Prefix + "{rq}:";

    /// <summary>ZSET taskId scored by due time (Unix ms): pending tasks.</summary>
    public RedisKey RetryDue => Rq + "due";
    /// <summary>ZSET taskId scored by lease deadline (Unix ms): tasks a worker holds.</summary>
    public RedisKey RetryInFlight => Rq + "inflight";
    /// <summary>HASH taskId -> task JSON (state, attempt, deliveries, lease, failure workers ...).</summary>
    public RedisKey RetryTasks => Rq + "tasks";
    /// <summary>HASH taskId -> the caller's payload.</summary>
    public RedisKey RetryPayloads => Rq + "payloads";
    /// <summary>HASH taskId -> JSON array of history entries, capped per task.</summary>
    public RedisKey RetryHistory => Rq + "history";
    /// <summary>HASH idempotency key -> taskId, while the task is pending or in flight.</summary>
    public RedisKey RetryIdempotency => Rq + "idem";
    /// <summary>ZSET taskId scored by dead-lettered time (Unix ms), capped by age and count.</summary>
    public RedisKey RetryDeadLetters => Rq + "dlq";
    /// <summary>HASH of counters: name, name|a|&lt;agent&gt;, name|c|&lt;component&gt;.</summary>
    public RedisKey RetryStats => Rq + "stats";
    /// <summary>STREAM of queue events (JSON), capped.</summary>
    public RedisKey RetryAudit => Rq + "audit";
    /// <summary>ZSET of one component's retries in the budget window (scored by Unix ms), with a TTL.</summary>
    public RedisKey RetryBudget(string? component) => Rq + "budget:" + (component is null ? Absent : Encode(component));
    /// <summary>ZSET of dead letters replayed in the last minute (the fleet-wide replay rate).</summary>
    public RedisKey RetryReplays => Rq + "replays";

    /// <summary>The keys every queue script takes first, in this order.</summary>
    public RedisKey[] RetryQueueKeys() =>
        [RetryDue, RetryInFlight, RetryTasks, RetryPayloads, RetryHistory, RetryIdempotency, RetryDeadLetters, RetryStats, RetryAudit];

    // ---- end of retry queue ---------------------------------------------------------------------------------------

    /// <summary>
    /// Percent-encodes every character outside <c>[A-Za-z0-9._-]</c> as the %XX of its UTF-8 bytes, so a name
    /// can contain no ':', '*', '{', '}', whitespace or non-ASCII in the key. Injective: different names give different keys.
    /// </summary>
    public static string Encode(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.All(IsSafe)) return name;
        var bytes = StrictUtf8.GetBytes(name);
        var sb = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b < 0x80 && IsSafe((char)b)) sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static bool IsSafe(char c) => c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-';
}
