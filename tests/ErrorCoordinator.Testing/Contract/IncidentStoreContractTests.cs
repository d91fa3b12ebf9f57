using System.Collections.Concurrent;
using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Incidents;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ErrorCoordinator.Testing.Contract;

/// <summary>A store under test: the incident and dependency stores, their event bus and the fake clock they read.</summary>
public sealed class IncidentStoreHarness(IIncidentStore incidents, IDependencyStore dependencies, IEventBus bus, FakeTimeProvider time, Func<ValueTask>? dispose = null) : IAsyncDisposable
{
    public IIncidentStore Incidents { get; } = incidents;
    public IDependencyStore Dependencies { get; } = dependencies;
    public IEventBus Bus { get; } = bus;
    public FakeTimeProvider Time { get; } = time;

    public ValueTask DisposeAsync() => dispose?.Invoke() ?? ValueTask.CompletedTask;
}

/// <summary>
/// The one contract every <see cref="IIncidentStore"/> and <see cref="IDependencyStore"/> passes (Redis and in-memory).
/// A subclass supplies fresh, isolated stores; <see cref="CreateAsync"/> may be called twice to get a second "process"
/// on the same data.
/// </summary>
public abstract class IncidentStoreContractTests : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 30, 0, TimeSpan.Zero);
    protected static readonly IncidentLimits Limits = new(MaxTimelineEntries: 50, MaxEventIds: 200, MaxOpenIncidents: 5, ResolvedRetention: TimeSpan.FromDays(1));

    private IncidentStoreHarness? _harness;
    private readonly string _channel = TestPrefix.New() + "events:incidents";

    protected IncidentStoreHarness H => _harness ?? throw new InvalidOperationException("Not initialized.");
    protected IIncidentStore Store => H.Incidents;
    protected DateTimeOffset Now => H.Time.GetUtcNow();

    /// <summary>Stores reading <paramref name="time"/>; the same <paramref name="scope"/> gives the same data (another process).</summary>
    protected abstract ValueTask<IncidentStoreHarness> CreateAsync(FakeTimeProvider time, string scope);

    private readonly string _scope = TestPrefix.New();

    /// <summary>This test's data scope (the Redis key prefix).</summary>
    protected string Scope => _scope;

    public async ValueTask InitializeAsync() => _harness = await CreateAsync(new FakeTimeProvider(Start), _scope);

    public async ValueTask DisposeAsync()
    {
        if (_harness is not null) await _harness.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected Task<IncidentStoreHarness> SecondProcessAsync() => CreateAsync(H.Time, _scope).AsTask();

    private static int _ids;

    protected Incident New(string? id = null, Severity severity = Severity.Critical, DateTimeOffset? at = null) => new()
    {
        Id = id ?? "inc_" + Interlocked.Increment(ref _ids).ToString("D6", System.Globalization.CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..6],
        Title = "Critical failure",
        Severity = severity,
        Status = IncidentStatus.Triggered,
        Source = IncidentSources.CriticalEvent,
        DedupKey = "c:db",
        Components = [],
        CreatedAt = Now,
        FirstEventAt = at ?? Now,
        LastEventAt = at ?? Now,
        EventCount = 0,
        EventIds = [],
        Timeline = [],
        UpdatedAt = Now,
    };

    protected IncidentSignal Signal(string eventId, string[] claim, bool mayOpen = true, string[]? lookup = null, DateTimeOffset? at = null,
        Severity severity = Severity.Critical, string component = "db") => new()
    {
        ClaimKeys = claim,
        LookupKeys = lookup ?? [],
        NewIncident = mayOpen ? New(severity: severity, at: at) : null,
        Events = [new CitedEvent(eventId, at ?? Now)],
        Entry = new TimelineEntry(at ?? Now, TimelineTypes.Error, "error on " + component, []),
        Components = [component],
        Severity = severity,
        Now = Now,
        Channel = _channel,
    };

    protected IncidentTransition Ack(string by = "alice") => new()
    {
        To = IncidentStatus.Acknowledged, Now = Now, By = by, Channel = _channel,
        Entry = new TimelineEntry(Now, TimelineTypes.Acknowledged, "ack", ["iev_ack_" + Guid.NewGuid().ToString("N")[..8]], by),
    };

    protected IncidentTransition Resolve(string resolution = "rolled back", string? rootCause = "db") => new()
    {
        To = IncidentStatus.Resolved, Now = Now, Resolution = resolution, RootCause = rootCause, Channel = _channel,
        Entry = new TimelineEntry(Now, TimelineTypes.Resolved, "resolved", ["iev_res_" + Guid.NewGuid().ToString("N")[..8]]),
    };

    private async Task<Incident> Get(string? id) => await Store.GetAsync(id!) ?? throw new Xunit.Sdk.XunitException($"incident {id} missing");

    // ---- opening, attaching, dedup ------------------------------------------------------------------

    [Fact]
    public async Task A_critical_signal_opens_an_incident_with_its_event_and_timeline_entry()
    {
        var o = await Store.SignalAsync(Signal("evt_1", ["c:db", "t:trace-1"]), Limits);
        Assert.Equal(SignalResult.Opened, o.Result);
        var i = await Get(o.IncidentId);
        Assert.Equal(IncidentStatus.Triggered, i.Status);
        Assert.Equal(Severity.Critical, i.Severity);
        Assert.Equal(1, i.EventCount);
        Assert.Equal(["evt_1"], i.EventIds);
        Assert.Equal(["db"], i.Components);
        var entry = Assert.Single(i.Timeline);
        Assert.Equal(["evt_1"], entry.EventIds);
        Assert.Equal(TimelineTypes.Error, entry.Type);
        Assert.Equal(Start, i.CreatedAt);
    }

    [Fact]
    public async Task A_signal_on_a_claimed_key_attaches_and_a_neighbour_lookup_attaches_without_opening()
    {
        var first = await Store.SignalAsync(Signal("evt_1", ["c:db"]), Limits);
        H.Time.Advance(TimeSpan.FromSeconds(5));
        var second = await Store.SignalAsync(Signal("evt_2", ["c:db"], severity: Severity.Error), Limits);
        var neighbour = await Store.SignalAsync(Signal("evt_3", ["c:api"], mayOpen: false, lookup: ["c:db"], component: "api", severity: Severity.Warning), Limits);
        var unrelated = await Store.SignalAsync(Signal("evt_4", ["c:cache"], mayOpen: false, component: "cache"), Limits);

        Assert.Equal(SignalResult.Attached, second.Result);
        Assert.Equal(first.IncidentId, second.IncidentId);
        Assert.Equal(SignalResult.Attached, neighbour.Result);
        Assert.Equal(first.IncidentId, neighbour.IncidentId);
        Assert.Equal(SignalResult.None, unrelated.Result);
        var i = await Get(first.IncidentId);
        Assert.Equal(3, i.EventCount);
        Assert.Equal(["evt_1", "evt_2", "evt_3"], i.EventIds);
        Assert.Equal(["db", "api"], i.Components);
        Assert.Equal(Severity.Critical, i.Severity);
        Assert.Equal(3, i.Timeline.Count);
        Assert.All(i.Timeline, t => Assert.Single(t.EventIds));
        // The attaching signal claimed c:api, so a later api error joins too.
        var later = await Store.SignalAsync(Signal("evt_5", ["c:api"], mayOpen: false, component: "api"), Limits);
        Assert.Equal(first.IncidentId, later.IncidentId);
    }

    [Fact]
    public async Task The_same_event_signalled_twice_is_counted_once()
    {
        var a = await Store.SignalAsync(Signal("evt_1", ["c:db"]), Limits);
        var b = await Store.SignalAsync(Signal("evt_1", ["c:db"]), Limits);
        Assert.Equal(SignalResult.Duplicate, b.Result);
        Assert.Equal(a.IncidentId, b.IncidentId);
        var i = await Get(a.IncidentId);
        Assert.Equal(1, i.EventCount);
        Assert.Single(i.Timeline);
    }

    [Fact]
    public async Task Twenty_concurrent_critical_signals_for_one_cluster_from_two_processes_give_one_incident()
    {
        await using var other = await SecondProcessAsync();
        var stores = new[] { Store, other.Incidents };
        var outcomes = new ConcurrentBag<SignalOutcome>();
        using var go = new ManualResetEventSlim(false);
        var tasks = Enumerable.Range(0, 20).Select(n => Task.Run(async () =>
        {
            go.Wait();
            // Half claim the component, half only the shared trace and look the component up: one cluster either way.
            var claim = n % 2 == 0 ? new[] { "c:db", "t:trace-9" } : new[] { "t:trace-9" };
            outcomes.Add(await stores[n % 2].SignalAsync(Signal($"evt_{n:D2}", claim, lookup: ["c:db"]), Limits));
        })).ToArray();
        go.Set();
        await Task.WhenAll(tasks);

        Assert.Single(outcomes, o => o.Result == SignalResult.Opened);
        Assert.Equal(19, outcomes.Count(o => o.Result == SignalResult.Attached));
        var id = Assert.Single(outcomes.Select(o => o.IncidentId).Distinct());
        var page = await Store.ListAsync(new IncidentQuery { Limit = 50 });
        Assert.Equal(id, Assert.Single(page.Items).Id);
        var i = await Get(id);
        Assert.Equal(20, i.EventCount);
        Assert.Equal(20, i.EventIds.Distinct().Count());
        Assert.Equal(20, i.Timeline.Count);
    }

    [Fact]
    public async Task A_manual_incident_opens_even_when_a_key_matches_and_only_takes_free_keys()
    {
        var auto = await Store.SignalAsync(Signal("evt_1", ["c:db"]), Limits);
        var manual = await Store.SignalAsync(Signal("iev_1", ["c:db", "c:queue"]) with { AlwaysOpen = true }, Limits);
        Assert.Equal(SignalResult.Opened, manual.Result);
        Assert.NotEqual(auto.IncidentId, manual.IncidentId);
        Assert.Equal(auto.IncidentId, (await Store.SignalAsync(Signal("evt_2", ["c:db"], mayOpen: false), Limits)).IncidentId);
        Assert.Equal(manual.IncidentId, (await Store.SignalAsync(Signal("evt_3", ["c:queue"], mayOpen: false, component: "queue"), Limits)).IncidentId);
    }

    [Fact]
    public async Task The_open_incident_cap_stops_new_incidents_and_attaching_still_works()
    {
        var ids = new List<string>();
        for (var n = 0; n < Limits.MaxOpenIncidents; n++)
            ids.Add((await Store.SignalAsync(Signal($"evt_{n}", [$"c:svc{n}"], component: $"svc{n}"), Limits)).IncidentId!);
        var capped = await Store.SignalAsync(Signal("evt_x", ["c:other"], component: "other"), Limits);
        Assert.Equal(SignalResult.Capped, capped.Result);
        Assert.Equal(SignalResult.Attached, (await Store.SignalAsync(Signal("evt_y", ["c:svc0"], component: "svc0"), Limits)).Result);
        await Store.TransitionAsync(ids[0], Resolve(), Limits);
        Assert.Equal(SignalResult.Opened, (await Store.SignalAsync(Signal("evt_z", ["c:other"], component: "other"), Limits)).Result);
    }

    [Fact]
    public async Task The_timeline_is_capped_and_counts_what_it_dropped_but_keeps_acknowledgement_and_resolution()
    {
        var id = (await Store.SignalAsync(Signal("evt_0", ["c:db"]), Limits)).IncidentId!;
        for (var n = 1; n < Limits.MaxTimelineEntries + 10; n++)
            await Store.SignalAsync(Signal($"evt_{n}", ["c:db"], mayOpen: false), Limits);
        await Store.TransitionAsync(id, Ack(), Limits);
        await Store.TransitionAsync(id, Resolve(), Limits);
        var i = await Get(id);
        Assert.Equal(Limits.MaxTimelineEntries + 2, i.Timeline.Count);
        Assert.Equal(10, i.TimelineDropped);
        Assert.Equal(Limits.MaxTimelineEntries + 10, i.EventCount);
        Assert.Contains(i.Timeline, t => t.Type == TimelineTypes.Acknowledged);
        Assert.Contains(i.Timeline, t => t.Type == TimelineTypes.Resolved);
    }

    [Fact]
    public async Task An_incident_holds_at_most_the_dedup_key_cap()
    {
        var max = IncidentLimits.MaxDedupKeysPerIncident;
        var keys = Enumerable.Range(0, max + 5).Select(n => $"t:trace-{n:D5}").ToArray();
        var id = (await Store.SignalAsync(Signal("evt_1", keys), Limits)).IncidentId;
        Assert.Equal(id, (await Store.SignalAsync(Signal("evt_2", [keys[max - 1]], mayOpen: false), Limits)).IncidentId);
        Assert.Equal(SignalResult.None, (await Store.SignalAsync(Signal("evt_3", [keys[max]], mayOpen: false), Limits)).Result);
    }

    // ---- transitions --------------------------------------------------------------------------------

    [Fact]
    public async Task Acknowledge_then_resolve_records_times_and_who_and_refuses_going_back()
    {
        var id = (await Store.SignalAsync(Signal("evt_1", ["c:db"]), Limits)).IncidentId!;
        H.Time.Advance(TimeSpan.FromSeconds(90));
        Assert.Equal(TransitionResult.Applied, (await Store.TransitionAsync(id, Ack("alice"), Limits)).Result);
        Assert.Equal(TransitionResult.Unchanged, (await Store.TransitionAsync(id, Ack("bob"), Limits)).Result);
        H.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(TransitionResult.Applied, (await Store.TransitionAsync(id, Resolve("failed over", "db primary"), Limits)).Result);
        var again = await Store.TransitionAsync(id, Ack(), Limits);
        Assert.Equal(TransitionResult.NotAllowed, again.Result);
        Assert.Equal(IncidentStatus.Resolved, again.Current);
        Assert.Equal(TransitionResult.NotAllowed, (await Store.TransitionAsync(id, Resolve(), Limits)).Result);
        Assert.Equal(TransitionResult.NotFound, (await Store.TransitionAsync("inc_missing", Ack(), Limits)).Result);

        var i = await Get(id);
        Assert.Equal(IncidentStatus.Resolved, i.Status);
        Assert.Equal(Start.AddSeconds(90), i.AcknowledgedAt);
        Assert.Equal("alice", i.AcknowledgedBy);
        Assert.Equal(Start.AddSeconds(90).AddMinutes(10), i.ResolvedAt);
        Assert.Equal("failed over", i.Resolution);
        Assert.Equal("db primary", i.RootCause);
        Assert.Equal([TimelineTypes.Error, TimelineTypes.Acknowledged, TimelineTypes.Resolved], i.Timeline.Select(t => t.Type));
        Assert.All(i.Timeline, t => Assert.All(t.EventIds, e => Assert.Contains(e, i.EventIds)));
    }

    [Fact]
    public async Task Resolving_releases_the_cluster_so_the_next_failure_opens_a_new_incident()
    {
        var first = (await Store.SignalAsync(Signal("evt_1", ["c:db"]), Limits)).IncidentId!;
        await Store.TransitionAsync(first, Resolve(), Limits);
        Assert.Equal(SignalResult.None, (await Store.SignalAsync(Signal("evt_2", ["c:db"], mayOpen: false), Limits)).Result);
        var second = await Store.SignalAsync(Signal("evt_3", ["c:db"]), Limits);
        Assert.Equal(SignalResult.Opened, second.Result);
        Assert.NotEqual(first, second.IncidentId);
    }

    [Fact]
    public async Task Listing_is_newest_first_filtered_by_status_and_paged_without_repeats()
    {
        var ids = new List<string>();
        for (var n = 0; n < 5; n++)
        {
            ids.Add((await Store.SignalAsync(Signal($"evt_{n}", [$"c:s{n}"], component: $"s{n}"), Limits)).IncidentId!);
            H.Time.Advance(TimeSpan.FromSeconds(1));
        }
        await Store.TransitionAsync(ids[1], Ack(), Limits);
        await Store.TransitionAsync(ids[2], Resolve(), Limits);

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Store.ListAsync(new IncidentQuery { Limit = 2, Cursor = cursor });
            Assert.True(page.Items.Count <= 2);
            seen.AddRange(page.Items.Select(i => i.Id));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(Enumerable.Reverse(ids), seen);
        Assert.Equal([ids[2]], (await Store.ListAsync(new IncidentQuery { Status = IncidentStatus.Resolved })).Items.Select(i => i.Id));
        Assert.Equal([ids[1]], (await Store.ListAsync(new IncidentQuery { Status = IncidentStatus.Acknowledged })).Items.Select(i => i.Id));
        Assert.Equal([ids[4], ids[3], ids[0]], (await Store.ListAsync(new IncidentQuery { Status = IncidentStatus.Triggered })).Items.Select(i => i.Id));
    }

    [Fact]
    public async Task Every_change_is_published_on_the_channel()
    {
        var messages = System.Threading.Channels.Channel.CreateUnbounded<BusMessage>();
        await using var sub = await H.Bus.SubscribeAsync(_channel, m => messages.Writer.TryWrite(m));
        var id = (await Store.SignalAsync(Signal("evt_1", ["c:db"]), Limits)).IncidentId!;
        await Store.SignalAsync(Signal("evt_2", ["c:db"]), Limits);
        await Store.TransitionAsync(id, Ack(), Limits);
        await Store.TransitionAsync(id, Resolve(), Limits);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var changes = new List<IncidentChange>();
        for (var n = 0; n < 4; n++) changes.Add(Core.Common.CoreJson.Deserialize<IncidentChange>((await messages.Reader.ReadAsync(cts.Token)).Payload));
        Assert.Equal(["incident_opened", "incident_updated", "incident_acknowledged", "incident_resolved"], changes.Select(c => c.Type));
        Assert.All(changes, c => Assert.Equal(id, c.IncidentId));
    }

    [Fact]
    public async Task Resolved_incidents_and_post_mortems_expire_after_their_retention()
    {
        var id = (await Store.SignalAsync(Signal("evt_1", ["c:db"]), Limits)).IncidentId!;
        await Store.TransitionAsync(id, Resolve(), Limits);
        await Store.SavePostmortemAsync("pm_" + id, "{\"id\":\"pm\"}", TimeSpan.FromDays(1));
        Assert.Equal("{\"id\":\"pm\"}", await Store.GetPostmortemAsync("pm_" + id));
        Assert.NotNull(await Store.GetAsync(id));
        await ExpireAsync(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        Assert.Null(await Store.GetAsync(id));
        Assert.Null(await Store.GetPostmortemAsync("pm_" + id));
        Assert.Empty((await Store.ListAsync(new IncidentQuery())).Items);
    }

    /// <summary>Moves time past a TTL: the fake clock for the embedded store, real expiry for Redis (overridden).</summary>
    protected virtual Task ExpireAsync(TimeSpan after)
    {
        H.Time.Advance(after);
        return Task.CompletedTask;
    }

    // ---- dependency graph ---------------------------------------------------------------------------

    [Fact]
    public async Task Dependencies_are_replaced_idempotently_and_capped()
    {
        var deps = H.Dependencies;
        var at = Now;
        Assert.Equal(DependencyWriteStatus.Stored, await deps.RegisterAsync(new("api", ["cache", "db"], at), 3));
        Assert.Equal(DependencyWriteStatus.Unchanged, await deps.RegisterAsync(new("api", ["cache", "db"], at.AddSeconds(1)), 3));
        Assert.Equal(DependencyWriteStatus.Stored, await deps.RegisterAsync(new("api", ["db"], at.AddSeconds(2)), 3));
        Assert.Equal(DependencyWriteStatus.Stored, await deps.RegisterAsync(new("db", ["api"], at), 3));
        Assert.Equal(DependencyWriteStatus.Stored, await deps.RegisterAsync(new("web", [], at), 3));
        Assert.Equal(DependencyWriteStatus.GraphFull, await deps.RegisterAsync(new("extra", ["db"], at), 3));
        Assert.Equal(DependencyWriteStatus.Stored, await deps.RegisterAsync(new("web", ["api"], at), 3));

        var all = await deps.GetAllAsync();
        Assert.Equal(["api", "db", "web"], all.Select(r => r.Component));
        Assert.Equal(["db"], all[0].DependsOn);
        Assert.Equal(at.AddSeconds(2), all[0].UpdatedAt);
        var graph = new DependencyGraph(all.ToDictionary(r => r.Component, r => r.DependsOn));
        Assert.Equal(["api", "db", "api"], Assert.Single(graph.FindCycles()));
    }
}
