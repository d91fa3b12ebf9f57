using System.Collections.Concurrent;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Signatures;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ErrorCoordinator.Testing.Contract;

/// <summary>
/// The one contract every <see cref="IErrorStore"/> passes (Redis and in-memory). A subclass supplies a fresh,
/// isolated store per test; the suite drives time with a <see cref="FakeTimeProvider"/>.
/// </summary>
public abstract class ErrorStoreContractTests : IAsyncLifetime
{
    /// <summary>12:30 UTC, so hour buckets are easy to reason about.</summary>
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 30, 0, TimeSpan.Zero);

    private ErrorStoreHarness? _harness;

    protected ErrorStoreHarness H => _harness ?? throw new InvalidOperationException("Not initialized.");
    protected IErrorStore Store => H.Store;
    protected FakeTimeProvider Time => H.Time;
    protected DateTimeOffset Now => H.Time.GetUtcNow();
    protected EventFactory F { get; private set; } = null!;

    /// <summary>Creates a store that reads <paramref name="time"/> and shares no data with any other test.</summary>
    protected abstract ValueTask<ErrorStoreHarness> CreateAsync(FakeTimeProvider time, string channelPrefix);

    public async ValueTask InitializeAsync()
    {
        _harness = await CreateAsync(new FakeTimeProvider(Start), TestPrefix.New());
        F = new EventFactory(_harness.Time, _harness.Channels);
    }

    public async ValueTask DisposeAsync()
    {
        if (_harness is not null) await _harness.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected Task<RecordOutcome> Record(ErrorEvent e, RecordOptions? options = null) => Store.RecordAsync(e, options ?? F.Options());

    protected async Task<ErrorGroup> Group(string id) => (await Store.GetGroupAsync(id, Now, 50, 24))?.Group ?? throw new Xunit.Sdk.XunitException($"group {id} missing");

    /// <summary>Follows cursors to the end, asserting pages are bounded and nothing repeats.</summary>
    protected async Task<List<ErrorEvent>> AllEvents(ErrorQuery query)
    {
        var all = new List<ErrorEvent>();
        var q = query;
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = await Store.QueryEventsAsync(q);
            Assert.True(page.Items.Count <= q.Limit, $"page of {page.Items.Count} exceeds limit {q.Limit}");
            all.AddRange(page.Items);
            if (page.NextCursor is null)
            {
                Assert.Equal(all.Count, all.Select(e => e.EventId).Distinct().Count());
                return all;
            }
            q = q with { Cursor = page.NextCursor };
        }
        throw new Xunit.Sdk.XunitException("paging did not terminate");
    }

    /// <inheritdoc cref="AllEvents"/>
    protected async Task<List<ErrorGroup>> AllGroups(GroupQuery query)
    {
        var all = new List<ErrorGroup>();
        var q = query;
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = await Store.ListGroupsAsync(q);
            Assert.True(page.Items.Count <= q.Limit, $"page of {page.Items.Count} exceeds limit {q.Limit}");
            all.AddRange(page.Items);
            if (page.NextCursor is null)
            {
                Assert.Equal(all.Count, all.Select(g => g.Id).Distinct().Count());
                return all;
            }
            q = q with { Cursor = page.NextCursor };
        }
        throw new Xunit.Sdk.XunitException("paging did not terminate");
    }

    private static List<string> NewestFirst(IEnumerable<ErrorEvent> events) =>
        events.OrderByDescending(e => e.OccurredAt.ToUnixTimeMilliseconds()).ThenByDescending(e => e.EventId, StringComparer.Ordinal)
            .Select(e => e.EventId).ToList();

    // ---- recording and groups -------------------------------------------------------------------------

    [Fact]
    public async Task First_report_opens_a_group_and_later_reports_count_up()
    {
        var o1 = await Record(F.Event("g1"));
        var o2 = await Record(F.Event("g1"));
        var o3 = await Record(F.Event("g2"));
        var o4 = await Record(F.Event("g1"));

        Assert.Equal(new RecordOutcome(true, 1, GroupStatus.Unresolved), o1);
        Assert.Equal(new RecordOutcome(false, 2, GroupStatus.Unresolved), o2);
        Assert.Equal(new RecordOutcome(true, 1, GroupStatus.Unresolved), o3);
        Assert.Equal(new RecordOutcome(false, 3, GroupStatus.Unresolved), o4);
        var g = await Group("g1");
        Assert.Equal(3, g.Count);
        Assert.Equal("RuntimeError:g1", g.Signature);
        Assert.Equal("RuntimeError", g.ErrorType);
        Assert.Equal(GroupStatus.Unresolved, g.Status);
        Assert.Equal(1, (await Group("g2")).Count);
    }

    [Fact]
    public async Task First_and_last_seen_track_min_and_max_and_the_latest_event_shapes_the_group()
    {
        var t0 = Now;
        await Record(F.Event(occurredAt: t0, message: "middle", severity: Severity.Error, component: "c1"));
        await Record(F.Event(occurredAt: t0.AddHours(-2), message: "oldest", severity: Severity.Critical, component: "c0"));
        var g = await Group("g1");
        Assert.Equal(t0.AddHours(-2), g.FirstSeen);
        Assert.Equal(t0, g.LastSeen);
        Assert.Equal("middle", g.SampleMessage);
        Assert.Equal(Severity.Error, g.Severity);
        Assert.Equal("c1", g.Component);

        Time.Advance(TimeSpan.FromHours(1));
        var longMessage = new string('x', 3000);
        await Record(F.Event(occurredAt: Now, message: longMessage, severity: Severity.Warning, category: ErrorCategory.Timeout, component: null));
        g = await Group("g1");
        Assert.Equal(t0.AddHours(-2), g.FirstSeen);
        Assert.Equal(t0.AddHours(1), g.LastSeen);
        Assert.Equal(ErrorShapes.Sample(longMessage), g.SampleMessage);
        Assert.Equal(ErrorShapes.MaxSampleChars + 1, g.SampleMessage.Length);
        Assert.Equal(Severity.Warning, g.Severity);
        Assert.Equal(ErrorCategory.Timeout, g.Category);
        Assert.Equal("c1", g.Component); // an event without a component keeps the group's
        Assert.Equal(3, g.Count);
    }

    [Fact]
    public async Task Distinct_agents_and_top_five_agents_by_count_then_name_descending()
    {
        foreach (var a in new[] { "a", "a", "a", "c", "c", "b", "d", "e", "f", "g" })
            await Record(F.Event(agent: a));
        var g = await Group("g1");
        Assert.Equal(7, g.DistinctAgents);
        Assert.Equal(
            [new AgentCount("a", 3), new AgentCount("c", 2), new AgentCount("g", 1), new AgentCount("f", 1), new AgentCount("e", 1)],
            g.TopAgents);
    }

    [Fact]
    public async Task A_resolved_group_regresses_on_its_next_event()
    {
        await Record(F.Event());
        Time.Advance(TimeSpan.FromHours(1));
        var resolvedAt = Now;
        var updated = await Store.UpdateGroupStatusAsync("g1", GroupStatus.Resolved, "fixed in 1.2", resolvedAt, H.Channels.Groups);
        Assert.NotNull(updated);
        Assert.Equal(GroupStatus.Resolved, updated.Status);
        Assert.Equal("fixed in 1.2", updated.Note);
        Assert.Equal(resolvedAt, updated.StatusChangedAt);
        Assert.Null(updated.RegressedAt);
        Assert.Equal(1, updated.Count);

        Time.Advance(TimeSpan.FromHours(1));
        var outcome = await Record(F.Event());
        Assert.Equal(new RecordOutcome(false, 2, GroupStatus.Regressed), outcome);
        var g = await Group("g1");
        Assert.Equal(GroupStatus.Regressed, g.Status);
        Assert.Equal(Now, g.RegressedAt);
        Assert.Equal(Now, g.StatusChangedAt);
        Assert.Equal("fixed in 1.2", g.Note);

        Assert.Equal(new RecordOutcome(false, 3, GroupStatus.Regressed), await Record(F.Event()));
    }

    [Fact]
    public async Task Status_update_keeps_the_note_when_none_is_given()
    {
        await Record(F.Event());
        await Store.UpdateGroupStatusAsync("g1", GroupStatus.Resolved, "first note", Now, H.Channels.Groups);
        Time.Advance(TimeSpan.FromMinutes(5));
        var g = await Store.UpdateGroupStatusAsync("g1", GroupStatus.Unresolved, null, Now, H.Channels.Groups);
        Assert.NotNull(g);
        Assert.Equal(GroupStatus.Unresolved, g.Status);
        Assert.Equal("first note", g.Note);
        Assert.Equal(Now, g.StatusChangedAt);
        Assert.Equal(GroupStatus.Unresolved, (await Group("g1")).Status);
    }

    [Fact]
    public async Task Updating_a_missing_group_returns_null()
    {
        Assert.Null(await Store.UpdateGroupStatusAsync("nope", GroupStatus.Resolved, "x", Now, H.Channels.Groups));
        Assert.Null(await Store.GetGroupAsync("nope", Now, 10, 24));
        Assert.Empty(await Store.ReadAuditAsync(10));
    }

    [Fact]
    public async Task Ignored_groups_are_left_out_of_the_default_listing_but_still_counted()
    {
        await Record(F.Event("g1"));
        await Record(F.Event("g2"));
        await Store.UpdateGroupStatusAsync("g1", GroupStatus.Ignored, null, Now, H.Channels.Groups);
        var outcome = await Record(F.Event("g1"));
        Assert.Equal(new RecordOutcome(false, 2, GroupStatus.Ignored), outcome);

        Assert.Equal(["g2"], (await AllGroups(new GroupQuery())).Select(g => g.Id));
        var ignored = await AllGroups(new GroupQuery { Status = GroupStatus.Ignored });
        Assert.Equal(["g1"], ignored.Select(g => g.Id));
        Assert.Equal(2, ignored[0].Count);
        Assert.Equal(2, (await Group("g1")).Count);
    }

    // ---- group listing ---------------------------------------------------------------------------------

    [Fact]
    public async Task Groups_sort_by_count_last_seen_and_first_seen()
    {
        var t = Now;
        await Record(F.Event("ga", occurredAt: t.AddMinutes(-50)));
        foreach (var m in new[] { -40, -10 }) await Record(F.Event("gb", occurredAt: t.AddMinutes(m)));
        foreach (var m in new[] { -30, -30, -30 }) await Record(F.Event("gc", occurredAt: t.AddMinutes(m)));
        foreach (var m in new[] { -60, -20, -20, -5 }) await Record(F.Event("gd", occurredAt: t.AddMinutes(m)));

        Assert.Equal(["gd", "gc", "gb", "ga"], (await AllGroups(new GroupQuery { Sort = GroupSort.Count })).Select(g => g.Id));
        Assert.Equal(["gd", "gb", "gc", "ga"], (await AllGroups(new GroupQuery { Sort = GroupSort.LastSeen })).Select(g => g.Id));
        Assert.Equal(["gc", "gb", "ga", "gd"], (await AllGroups(new GroupQuery { Sort = GroupSort.FirstSeen })).Select(g => g.Id));
        var gd = (await AllGroups(new GroupQuery { Sort = GroupSort.Count, Limit = 1 }))[0];
        Assert.Equal(4, gd.Count);
        Assert.Equal(t.AddMinutes(-60), gd.FirstSeen);
        Assert.Equal(t.AddMinutes(-5), gd.LastSeen);
    }

    [Fact]
    public async Task Group_listing_pages_through_ties_without_duplicates_or_misses()
    {
        var t = Now;
        var expected = new List<(long Score, string Id)>();
        for (var i = 0; i < 23; i++)
        {
            var id = $"p{i:D2}";
            var at = t.AddMinutes(-(i / 3)); // ties in threes
            await Record(F.Event(id, occurredAt: at));
            expected.Add((at.ToUnixTimeMilliseconds(), id));
        }
        var order = expected.OrderByDescending(x => x.Score).ThenByDescending(x => x.Id, StringComparer.Ordinal).Select(x => x.Id).ToList();

        var firstPage = await Store.ListGroupsAsync(new GroupQuery { Limit = 4 });
        Assert.Equal(4, firstPage.Items.Count);
        Assert.NotNull(firstPage.NextCursor);
        Assert.Equal(order, (await AllGroups(new GroupQuery { Limit = 4 })).Select(g => g.Id));
        Assert.Equal(order, (await AllGroups(new GroupQuery { Limit = 1 })).Select(g => g.Id));
        Assert.Equal(order, (await AllGroups(new GroupQuery { Limit = 500 })).Select(g => g.Id));
    }

    [Fact]
    public async Task Group_listing_filters_by_status_agent_and_component_across_pages()
    {
        var expectedEven = new List<(long Count, string Id)>();
        for (var i = 0; i < 14; i++)
        {
            var id = $"f{i:D2}";
            var count = i % 4 + 1;
            for (var n = 0; n < count; n++)
                await Record(F.Event(id, agent: i % 2 == 0 ? "even" : "odd", component: i % 3 == 0 ? "db" : "web"));
            if (i % 2 == 0) expectedEven.Add((count, id));
        }
        await Record(F.Event("f01", agent: "even")); // f01 now has both agents: count 3
        expectedEven.Add((3, "f01"));
        foreach (var id in new[] { "f03", "f06", "f09" })
            await Store.UpdateGroupStatusAsync(id, GroupStatus.Resolved, null, Now, H.Channels.Groups);

        var byAgent = await AllGroups(new GroupQuery { Agent = "even", Sort = GroupSort.Count, Limit = 3 });
        Assert.Equal(expectedEven.OrderByDescending(x => x.Count).ThenByDescending(x => x.Id, StringComparer.Ordinal).Select(x => x.Id), byAgent.Select(g => g.Id));

        var db = await AllGroups(new GroupQuery { Component = "db", Limit = 2 });
        Assert.Equal(["f00", "f03", "f06", "f09", "f12"], db.Select(g => g.Id).Order(StringComparer.Ordinal));

        var resolved = await AllGroups(new GroupQuery { Status = GroupStatus.Resolved, Limit = 2 });
        Assert.Equal(["f03", "f06", "f09"], resolved.Select(g => g.Id).Order(StringComparer.Ordinal));
        Assert.All(resolved, g => Assert.Equal(GroupStatus.Resolved, g.Status));

        var resolvedDb = await AllGroups(new GroupQuery { Status = GroupStatus.Resolved, Component = "db", Agent = "odd", Limit = 1 });
        Assert.Equal(["f03", "f09"], resolvedDb.Select(g => g.Id).Order(StringComparer.Ordinal));

        Assert.Empty(await AllGroups(new GroupQuery { Agent = "nobody" }));
        Assert.Equal(14, (await AllGroups(new GroupQuery { Limit = 5 })).Count);
    }

    // ---- event queries ---------------------------------------------------------------------------------

    [Fact]
    public async Task Each_query_filter_selects_exactly_the_matching_events()
    {
        var t = Now;
        var e1 = F.Event("g1", "a1", t.AddMinutes(-4), component: "c1", taskId: "t1", severity: Severity.Error, category: ErrorCategory.Application);
        var e2 = F.Event("g2", "a2", t.AddMinutes(-3), component: "c1", taskId: "t2", severity: Severity.Critical, category: ErrorCategory.Timeout);
        var e3 = F.Event("g1", "a1", t.AddMinutes(-2), component: null, taskId: null, severity: Severity.Warning, category: ErrorCategory.Data);
        var e4 = F.Event("g3", "a3", t.AddMinutes(-1), component: "c2", taskId: "t1", severity: Severity.Error, category: ErrorCategory.Timeout);
        foreach (var e in new[] { e1, e2, e3, e4 }) await Record(e);

        async Task Expect(ErrorQuery q, params ErrorEvent[] expected) =>
            Assert.Equal(expected.Select(e => e.EventId), (await AllEvents(q)).Select(e => e.EventId));

        await Expect(new ErrorQuery(), e4, e3, e2, e1);
        await Expect(new ErrorQuery { Agent = "a1" }, e3, e1);
        await Expect(new ErrorQuery { Component = "c1" }, e2, e1);
        await Expect(new ErrorQuery { GroupId = "g1" }, e3, e1);
        await Expect(new ErrorQuery { Severity = Severity.Error }, e4, e1);
        await Expect(new ErrorQuery { Category = ErrorCategory.Timeout }, e4, e2);
        await Expect(new ErrorQuery { TaskId = "t1" }, e4, e1);
        await Expect(new ErrorQuery { Agent = "a1", Severity = Severity.Warning }, e3);
        await Expect(new ErrorQuery { GroupId = "g1", TaskId = "t1" }, e1);
        await Expect(new ErrorQuery { Component = "c1", Category = ErrorCategory.Timeout, Severity = Severity.Critical }, e2);
        await Expect(new ErrorQuery { Agent = "nobody" });
        await Expect(new ErrorQuery { GroupId = "nope" });
        await Expect(new ErrorQuery { Severity = Severity.Info });

        var stored = (await AllEvents(new ErrorQuery { TaskId = "t2" })).Single();
        Assert.Equal(CoreJson.Serialize(e2), CoreJson.Serialize(stored));
    }

    [Fact]
    public async Task Since_and_until_are_inclusive_and_combine_with_paging()
    {
        var t = Now;
        var events = new List<ErrorEvent>();
        for (var i = 10; i >= 1; i--)
        {
            var e = F.Event(occurredAt: t.AddMinutes(-i));
            events.Add(e);
            await Record(e);
        }
        var q = new ErrorQuery { Since = t.AddMinutes(-6), Until = t.AddMinutes(-3), Limit = 3 };
        var got = await AllEvents(q);
        Assert.Equal(NewestFirst(events.Where(e => e.OccurredAt >= t.AddMinutes(-6) && e.OccurredAt <= t.AddMinutes(-3))), got.Select(e => e.EventId));
        Assert.Equal(4, got.Count);
        Assert.Equal(3, (await AllEvents(new ErrorQuery { Since = t.AddMinutes(-3) })).Count);
        Assert.Equal(2, (await AllEvents(new ErrorQuery { Until = t.AddMinutes(-9) })).Count);
        Assert.Empty(await AllEvents(new ErrorQuery { Since = t.AddMinutes(-3), Until = t.AddMinutes(-6) }));
        Assert.Empty(await AllEvents(new ErrorQuery { Since = t.AddMinutes(-3).AddMilliseconds(1), Until = t.AddMinutes(-2).AddMilliseconds(-1) }));
    }

    [Fact]
    public async Task Events_page_newest_first_through_ties_with_and_without_filters()
    {
        var t = Now;
        var events = new List<ErrorEvent>();
        for (var i = 0; i < 37; i++)
        {
            var e = F.Event(group: i % 2 == 0 ? "even" : "odd", agent: i % 3 == 0 ? "three" : "other",
                occurredAt: t.AddSeconds(-(i / 4)), category: i % 5 == 0 ? ErrorCategory.Data : ErrorCategory.Application);
            events.Add(e);
            await Record(e);
        }

        var first = await Store.QueryEventsAsync(new ErrorQuery { Limit = 5 });
        Assert.Equal(5, first.Items.Count);
        Assert.NotNull(first.NextCursor);
        Assert.Equal(NewestFirst(events), (await AllEvents(new ErrorQuery { Limit = 5 })).Select(e => e.EventId));
        Assert.Equal(NewestFirst(events), (await AllEvents(new ErrorQuery { Limit = 1 })).Select(e => e.EventId));
        Assert.Equal(NewestFirst(events.Where(e => e.GroupId == "even")), (await AllEvents(new ErrorQuery { GroupId = "even", Limit = 4 })).Select(e => e.EventId));
        Assert.Equal(NewestFirst(events.Where(e => e.Agent == "three")), (await AllEvents(new ErrorQuery { Agent = "three", Limit = 2 })).Select(e => e.EventId));
        Assert.Equal(NewestFirst(events.Where(e => e.Agent == "other" && e.Category == ErrorCategory.Data)),
            (await AllEvents(new ErrorQuery { Agent = "other", Category = ErrorCategory.Data, Limit = 2 })).Select(e => e.EventId));
        Assert.Equal(NewestFirst(events.Where(e => e.GroupId == "odd" && e.Category == ErrorCategory.Data)),
            (await AllEvents(new ErrorQuery { Category = ErrorCategory.Data, GroupId = "odd", Limit = 1 })).Select(e => e.EventId));
    }

    // ---- retention -------------------------------------------------------------------------------------

    [Fact]
    public async Task Events_expire_at_their_expires_at()
    {
        var shortLived = F.Event(ttl: TimeSpan.FromHours(1), occurredAt: Now.AddMinutes(-1));
        var longLived = F.Event(ttl: TimeSpan.FromDays(7));
        await Record(shortLived);
        await Record(longLived);
        Assert.Equal(2, (await AllEvents(new ErrorQuery())).Count);

        Time.Advance(TimeSpan.FromHours(2));
        Assert.Equal([longLived.EventId], (await AllEvents(new ErrorQuery())).Select(e => e.EventId));
        Assert.Equal([longLived.EventId], (await AllEvents(new ErrorQuery { GroupId = "g1" })).Select(e => e.EventId));
        Assert.Equal([longLived.EventId], (await AllEvents(new ErrorQuery { Agent = "agent-1" })).Select(e => e.EventId));
        var detail = await Store.GetGroupAsync("g1", Now, 10, 24);
        Assert.NotNull(detail);
        Assert.Equal([longLived.EventId], detail.RecentEvents.Select(e => e.EventId));
        Assert.Equal(2, detail.Group.Count);

        await Record(F.Event()); // a write purges; the expired event stays gone
        Assert.DoesNotContain(shortLived.EventId, (await AllEvents(new ErrorQuery())).Select(e => e.EventId));

        Time.Advance(TimeSpan.FromDays(8));
        Assert.Empty(await AllEvents(new ErrorQuery()));
    }

    [Fact]
    public async Task Groups_expire_group_ttl_after_their_last_report()
    {
        var ttl = TimeSpan.FromDays(1);
        await Record(F.Event(), F.Options(groupTtl: ttl));
        Time.Advance(TimeSpan.FromHours(20));
        await Record(F.Event(), F.Options(groupTtl: ttl)); // refreshes the TTL
        Time.Advance(TimeSpan.FromHours(20));
        Assert.Equal(2, (await Group("g1")).Count);

        Time.Advance(TimeSpan.FromHours(5));
        Assert.Null(await Store.GetGroupAsync("g1", Now, 10, 24));
        Assert.Empty(await AllGroups(new GroupQuery()));
        Assert.Empty(await AllGroups(new GroupQuery { Status = GroupStatus.Unresolved }));
        Assert.Null(await Store.UpdateGroupStatusAsync("g1", GroupStatus.Resolved, null, Now, H.Channels.Groups));
        Assert.Empty(await AllEvents(new ErrorQuery { GroupId = "g1" }));

        var again = await Record(F.Event(), F.Options(groupTtl: ttl));
        Assert.Equal(new RecordOutcome(true, 1, GroupStatus.Unresolved), again);
        var g = await Group("g1");
        Assert.Equal(Now, g.FirstSeen);
        Assert.Equal(1, g.DistinctAgents);
        Assert.Single(await AllEvents(new ErrorQuery { GroupId = "g1" }));
    }

    [Fact]
    public async Task Total_event_cap_drops_the_oldest_events()
    {
        var limits = EventFactory.Generous with { MaxEventsTotal = 5 };
        var events = new List<ErrorEvent>();
        for (var i = 8; i >= 1; i--)
        {
            var e = F.Event(group: "g" + (i % 2), occurredAt: Now.AddMinutes(-i));
            events.Add(e);
            await Record(e, F.Options(limits));
        }
        var newest5 = NewestFirst(events).Take(5).ToList();
        Assert.Equal(newest5, (await AllEvents(new ErrorQuery())).Select(e => e.EventId));
        Assert.Equal(newest5, (await AllEvents(new ErrorQuery { Agent = "agent-1", Limit = 2 })).Select(e => e.EventId));
        var g0 = await Store.GetGroupAsync("g0", Now, 20, 24);
        Assert.Equal(newest5.Intersect(events.Where(e => e.GroupId == "g0").Select(e => e.EventId)).Order(), g0!.RecentEvents.Select(e => e.EventId).Order());
        Assert.Equal(4, g0.Group.Count); // counts are not trimmed
    }

    [Fact]
    public async Task Per_index_cap_keeps_the_newest_events_of_a_group()
    {
        var limits = EventFactory.Generous with { MaxEventsPerIndex = 3 };
        var events = new List<ErrorEvent>();
        for (var i = 6; i >= 1; i--)
        {
            var e = F.Event(occurredAt: Now.AddMinutes(-i));
            events.Add(e);
            await Record(e, F.Options(limits));
        }
        Assert.Equal(NewestFirst(events).Take(3), (await AllEvents(new ErrorQuery { GroupId = "g1" })).Select(e => e.EventId));
        Assert.Equal(NewestFirst(events), (await AllEvents(new ErrorQuery())).Select(e => e.EventId));
        Assert.Equal(6, (await Group("g1")).Count);
    }

    [Fact]
    public async Task Group_cap_evicts_the_stalest_group()
    {
        var limits = EventFactory.Generous with { MaxGroups = 3 };
        for (var i = 1; i <= 4; i++) await Record(F.Event("g" + i, occurredAt: Now.AddMinutes(-10 + i)), F.Options(limits));

        Assert.Null(await Store.GetGroupAsync("g1", Now, 10, 24));
        Assert.Equal(["g4", "g3", "g2"], (await AllGroups(new GroupQuery())).Select(g => g.Id));
        Assert.Null(await Store.UpdateGroupStatusAsync("g1", GroupStatus.Resolved, null, Now, H.Channels.Groups));

        var back = await Record(F.Event("g1", occurredAt: Now), F.Options(limits));
        Assert.Equal(new RecordOutcome(true, 1, GroupStatus.Unresolved), back);
        Assert.Equal(["g1", "g4", "g3"], (await AllGroups(new GroupQuery())).Select(g => g.Id));
    }

    [Fact]
    public async Task Group_cap_never_evicts_the_group_just_reported()
    {
        var limits = EventFactory.Generous with { MaxGroups = 3 };
        for (var i = 1; i <= 3; i++) await Record(F.Event("g" + i, occurredAt: Now.AddMinutes(-6 + i)), F.Options(limits));

        // A new group whose event is older than every other group's: the stalest *other* group goes.
        var late = await Record(F.Event("g0", occurredAt: Now.AddMinutes(-60)), F.Options(limits));
        Assert.Equal(new RecordOutcome(true, 1, GroupStatus.Unresolved), late);
        Assert.NotNull(await Store.GetGroupAsync("g0", Now, 10, 24));
        Assert.Null(await Store.GetGroupAsync("g1", Now, 10, 24));
        Assert.Equal(["g3", "g2", "g0"], (await AllGroups(new GroupQuery())).Select(g => g.Id));
    }

    [Fact]
    public async Task Per_index_cap_applies_to_every_indexed_filter()
    {
        var limits = EventFactory.Generous with { MaxEventsPerIndex = 3 };
        var events = new List<ErrorEvent>();
        for (var i = 6; i >= 1; i--)
        {
            var e = F.Event(group: "g" + i, agent: "a", component: "c", taskId: "t", severity: Severity.Critical,
                category: ErrorCategory.Data, occurredAt: Now.AddMinutes(-i));
            events.Add(e);
            await Record(e, F.Options(limits));
        }
        var newest3 = NewestFirst(events).Take(3).ToList();
        Assert.Equal(newest3, (await AllEvents(new ErrorQuery { Agent = "a" })).Select(e => e.EventId));
        Assert.Equal(newest3, (await AllEvents(new ErrorQuery { Component = "c" })).Select(e => e.EventId));
        Assert.Equal(newest3, (await AllEvents(new ErrorQuery { TaskId = "t" })).Select(e => e.EventId));
        // Severity and category have no index of their own (a handful of values, each as large as the time index):
        // they filter the time index, which only the total cap bounds.
        Assert.Equal(NewestFirst(events), (await AllEvents(new ErrorQuery { Severity = Severity.Critical })).Select(e => e.EventId));
        Assert.Equal(NewestFirst(events), (await AllEvents(new ErrorQuery { Category = ErrorCategory.Data })).Select(e => e.EventId));
        Assert.Equal(NewestFirst(events), (await AllEvents(new ErrorQuery())).Select(e => e.EventId));
    }

    [Fact]
    public async Task Samples_are_capped_newest_first()
    {
        var limits = EventFactory.Generous with { MaxSamplesPerGroup = 3 };
        var ids = new List<string>();
        for (var i = 5; i >= 1; i--)
        {
            var e = F.Event(occurredAt: Now.AddMinutes(-i));
            ids.Add(e.EventId);
            await Record(e, F.Options(limits));
        }
        ids.Reverse();
        var detail = await Store.GetGroupAsync("g1", Now, 10, 24);
        Assert.Equal(ids.Take(3), detail!.RecentEvents.Select(e => e.EventId));
        Assert.Equal(ids.Take(2), (await Store.GetGroupAsync("g1", Now, 2, 24))!.RecentEvents.Select(e => e.EventId));
        Assert.Equal(5, detail.Group.Count);
    }

    [Fact]
    public async Task Histogram_counts_events_per_hour_for_the_last_24_hours()
    {
        var t = Now;
        foreach (var h in new[] { 0, 0, 3, 23, 23, 23, 23, 30 })
            await Record(F.Event(occurredAt: t.AddHours(-h)));

        var hist = (await Store.GetGroupAsync("g1", t, 0, 24))!.Histogram;
        Assert.Equal(24, hist.Count);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(ErrorShapes.HourBucket(t)), hist[^1].Hour);
        Assert.Equal(hist[^1].Hour.AddHours(-23), hist[0].Hour);
        Assert.Equal(2, hist[23].Count);
        Assert.Equal(1, hist[20].Count);
        Assert.Equal(4, hist[0].Count);
        Assert.Equal(7, hist.Sum(x => x.Count));

        Time.Advance(TimeSpan.FromHours(2));
        var later = (await Store.GetGroupAsync("g1", Now, 0, 24))!.Histogram;
        Assert.Equal(2, later[21].Count);
        Assert.Equal(1, later[18].Count);
        Assert.Equal(3, later.Sum(x => x.Count)); // the 23-hour-old bucket fell out of the window
        Assert.Equal(8, (await Group("g1")).Count);
    }

    // ---- audit and events ------------------------------------------------------------------------------

    [Fact]
    public async Task Reports_and_status_changes_are_appended_to_the_audit_stream_newest_first()
    {
        var e1 = F.Event();
        var e2 = F.Event();
        await Record(e1);
        await Record(e2);
        await Store.UpdateGroupStatusAsync("g1", GroupStatus.Resolved, "done", Now, H.Channels.Groups);

        var audit = await Store.ReadAuditAsync(10);
        Assert.Equal(3, audit.Count);
        Assert.Contains("group_status_changed", audit[0]);
        Assert.Contains("\"g1\"", audit[0]);
        Assert.Contains("\"resolved\"", audit[0]);
        Assert.Equal(e2.EventId, CoreJson.Deserialize<ErrorEvent>(audit[1]).EventId);
        Assert.Equal(CoreJson.Serialize(e1), audit[2]);
        Assert.Single(await Store.ReadAuditAsync(1));
    }

    [Fact]
    public async Task Reports_and_status_changes_are_published_to_pattern_subscribers()
    {
        var messages = new ConcurrentQueue<BusMessage>();
        var gotReport = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gotStatus = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (await H.Bus.SubscribeAsync(H.Channels.AllErrors, m =>
                     {
                         messages.Enqueue(m);
                         if (m.Channel == H.Channels.Errors("training")) gotReport.TrySetResult();
                         if (m.Channel == H.Channels.Groups) gotStatus.TrySetResult();
                     }))
        {
            var other = new ChannelNames("someone-else:");
            await using var foreign = await H.Bus.SubscribeAsync(other.AllErrors, m => messages.Enqueue(m with { Channel = "FOREIGN " + m.Channel }));

            var e = F.Event(kind: "training");
            await Record(e, F.Options(kind: "training"));
            await gotReport.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
            await Store.UpdateGroupStatusAsync("g1", GroupStatus.Ignored, null, Now, H.Channels.Groups);
            await gotStatus.Task.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

            var report = Assert.Single(messages, m => m.Channel == H.Channels.Errors("training"));
            Assert.Equal(CoreJson.Serialize(e), report.Payload);
            var status = Assert.Single(messages, m => m.Channel == H.Channels.Groups);
            Assert.Contains("group_status_changed", status.Payload);
            Assert.Contains("\"ignored\"", status.Payload);
            Assert.DoesNotContain(messages, m => m.Channel.StartsWith("FOREIGN", StringComparison.Ordinal));
        }
    }

    // ---- names -----------------------------------------------------------------------------------------

    public static readonly string[] OddNames = ["a:b", "a", "a%3Ab", "*", "{x}", "x}:idx:time", "line\nbreak", "名前", "a b", "🙂"];

    [Fact]
    public async Task Odd_names_round_trip_exactly_and_never_collide()
    {
        var byName = new Dictionary<string, ErrorEvent>();
        foreach (var name in OddNames)
        {
            var e = F.Event(group: name, agent: name, component: name, taskId: name, message: "msg " + name);
            byName[name] = e;
            Assert.True((await Record(e)).IsNewGroup, $"'{name}' should open its own group");
        }
        foreach (var name in OddNames)
        {
            var id = byName[name].EventId;
            Assert.Equal([id], (await AllEvents(new ErrorQuery { Agent = name })).Select(e => e.EventId));
            Assert.Equal([id], (await AllEvents(new ErrorQuery { Component = name })).Select(e => e.EventId));
            Assert.Equal([id], (await AllEvents(new ErrorQuery { TaskId = name })).Select(e => e.EventId));
            Assert.Equal([id], (await AllEvents(new ErrorQuery { GroupId = name })).Select(e => e.EventId));
            var g = await Group(name);
            Assert.Equal(name, g.Id);
            Assert.Equal(name, g.Component);
            Assert.Equal([new AgentCount(name, 1)], g.TopAgents);
            Assert.Equal("msg " + name, g.SampleMessage);
            Assert.Equal([name], (await AllGroups(new GroupQuery { Agent = name })).Select(x => x.Id));
            Assert.Equal([name], (await AllGroups(new GroupQuery { Component = name })).Select(x => x.Id));
            var stored = (await Store.GetGroupAsync(name, Now, 5, 24))!.RecentEvents.Single();
            Assert.Equal(CoreJson.Serialize(byName[name]), CoreJson.Serialize(stored));
        }
        Assert.Equal(OddNames.Order(StringComparer.Ordinal), (await AllGroups(new GroupQuery())).Select(g => g.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_agent_named_like_another_agent_plus_a_separator_sees_only_its_own_events()
    {
        await Record(F.Event("g1", agent: "a:b"));
        await Record(F.Event("g1", agent: "a:b"));
        await Record(F.Event("g2", agent: "a"));

        Assert.All(await AllEvents(new ErrorQuery { Agent = "a" }), e => Assert.Equal("a", e.Agent));
        Assert.Single(await AllEvents(new ErrorQuery { Agent = "a" }));
        Assert.Equal(2, (await AllEvents(new ErrorQuery { Agent = "a:b" })).Count);
        Assert.Empty(await AllEvents(new ErrorQuery { Agent = "b" }));
        Assert.Empty(await AllEvents(new ErrorQuery { Agent = "a*" }));
        Assert.Equal(["g2"], (await AllGroups(new GroupQuery { Agent = "a" })).Select(g => g.Id));
        Assert.Equal(["g1"], (await AllGroups(new GroupQuery { Agent = "a:b" })).Select(g => g.Id));
    }

    // ---- template buckets (compare-and-set with the report) ---------------------------------------------

    private static TemplateDecision Decision(string bucket, string expected, string next, TemplateChange change, string cluster,
        string? data = "[\"a\",\"b\"]", int max = 100) =>
        new(bucket, expected, next, change, cluster, change == TemplateChange.Join ? null : data, max);

    private Task<RecordOutcome> RecordTemplate(string group, TemplateDecision decision, TimeSpan? groupTtl = null) =>
        Record(F.Event(group), F.Options(groupTtl: groupTtl) with { Template = decision });

    [Fact]
    public async Task A_template_decision_on_the_expected_version_is_recorded_with_the_report()
    {
        var created = await RecordTemplate("c1", Decision("b1", "", "v1", TemplateChange.Create, "c1"));
        Assert.Null(created.Conflict);
        Assert.Equal((true, 1L), (created.IsNewGroup, created.GroupCount));

        var joined = await RecordTemplate("c1", Decision("b1", "v1", "v1", TemplateChange.Join, "c1"));
        Assert.Null(joined.Conflict);
        Assert.Equal((false, 2L), (joined.IsNewGroup, joined.GroupCount));

        var updated = await RecordTemplate("c1", Decision("b1", "v1", "v2", TemplateChange.Update, "c1", "[\"a\",null]"));
        Assert.Null(updated.Conflict);
        Assert.Equal(3, updated.GroupCount);

        // A stale update now conflicts and gets the bucket as it is.
        var stale = await RecordTemplate("c1", Decision("b1", "v1", "v3", TemplateChange.Update, "c1", "[null,null]"));
        var bucket = Assert.IsType<TemplateBucketSnapshot>(stale.Conflict);
        Assert.Equal("v2", bucket.Version);
        Assert.Equal("[\"a\",null]", Assert.Single(bucket.Clusters, c => c.Key == "c1").Value);
        Assert.Equal(3, (await Group("c1")).Count);
    }

    [Fact]
    public async Task A_join_needs_only_its_cluster_so_concurrent_joins_do_not_conflict()
    {
        await RecordTemplate("c1", Decision("b1", "", "v1", TemplateChange.Create, "c1"));
        await RecordTemplate("c2", Decision("b1", "v1", "v2", TemplateChange.Create, "c2", "[\"y\"]"));
        // A caller that last saw v1 still joins c1: the template it matched is still there.
        var joined = await RecordTemplate("c1", Decision("b1", "v1", "v1", TemplateChange.Join, "c1"));
        Assert.Null(joined.Conflict);
        Assert.Equal(2, joined.GroupCount);
        // The join changed nothing in the bucket: an update against v2 still applies.
        Assert.Null((await RecordTemplate("c2", Decision("b1", "v2", "v3", TemplateChange.Update, "c2", "[null]"))).Conflict);
    }

    [Fact]
    public async Task A_conflicting_template_decision_writes_nothing()
    {
        await RecordTemplate("c1", Decision("b1", "", "v1", TemplateChange.Create, "c1"));
        var audit = (await Store.ReadAuditAsync(100)).Count;
        var before = await AllEvents(new ErrorQuery { Limit = 100 });

        // Update on a wrong version; create of an existing cluster; join of a missing cluster; create in a bucket thought empty.
        var conflicts = new[]
        {
            await RecordTemplate("c1", Decision("b1", "v0", "v2", TemplateChange.Update, "c1", "[null]")),
            await RecordTemplate("c1", Decision("b1", "v1", "v2", TemplateChange.Create, "c1")),
            await RecordTemplate("c2", Decision("b1", "v1", "v1", TemplateChange.Join, "c2")),
            await RecordTemplate("c2", Decision("b1", "", "v9", TemplateChange.Create, "c2")),
        };
        foreach (var c in conflicts)
        {
            Assert.NotNull(c.Conflict);
            Assert.Equal("v1", c.Conflict!.Version);
            Assert.Equal(["c1"], c.Conflict.Clusters.Keys.ToArray());
        }
        Assert.Equal(before.Select(e => e.EventId), (await AllEvents(new ErrorQuery { Limit = 100 })).Select(e => e.EventId));
        Assert.Equal(audit, (await Store.ReadAuditAsync(100)).Count);
        Assert.Equal(1, (await Group("c1")).Count);
        Assert.Null(await Store.GetGroupAsync("c2", Now, 10, 24));
        // The bucket itself is unchanged: the original version still applies.
        Assert.Null((await RecordTemplate("c1", Decision("b1", "v1", "v1", TemplateChange.Join, "c1"))).Conflict);
    }

    [Fact]
    public async Task An_unknown_bucket_conflicts_empty_and_a_refreshed_proposal_succeeds()
    {
        var empty = await RecordTemplate("c1", Decision("b9", "v5", "v6", TemplateChange.Update, "c1"));
        Assert.Equal(TemplateBucketSnapshot.Empty.Version, empty.Conflict!.Version);
        Assert.Empty(empty.Conflict.Clusters);

        Assert.Null((await RecordTemplate("c1", Decision("b9", "", "v1", TemplateChange.Create, "c1"))).Conflict);
        var other = await RecordTemplate("c2", Decision("b9", "", "w1", TemplateChange.Create, "c2"));
        Assert.Equal("v1", other.Conflict!.Version);
        // After the refresh the second writer proposes against v1 and is accepted; the bucket now holds both.
        Assert.Null((await RecordTemplate("c2", Decision("b9", "v1", "v2", TemplateChange.Create, "c2", "[\"x\"]"))).Conflict);
        var probe = await RecordTemplate("c2", Decision("b9", "stale", "v3", TemplateChange.Update, "c2", "[null]"));
        Assert.Equal("v2", probe.Conflict!.Version);
        Assert.Equal(["c1", "c2"], probe.Conflict.Clusters.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal("[\"x\"]", probe.Conflict.Clusters["c2"]);
        // Buckets are independent.
        Assert.Null((await RecordTemplate("c3", Decision("b8", "", "u1", TemplateChange.Create, "c3"))).Conflict);
    }

    [Fact]
    public async Task A_bucket_keeps_at_most_its_cap_of_clusters_evicting_the_least_recently_used()
    {
        Assert.Null((await RecordTemplate("c1", Decision("b1", "", "v1", TemplateChange.Create, "c1", max: 2))).Conflict);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null((await RecordTemplate("c2", Decision("b1", "v1", "v2", TemplateChange.Create, "c2", max: 2))).Conflict);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null((await RecordTemplate("c1", Decision("b1", "v2", "v2", TemplateChange.Join, "c1", max: 2))).Conflict); // c1 used last
        Time.Advance(TimeSpan.FromSeconds(1));
        var third = await RecordTemplate("c3", Decision("b1", "v2", "v3", TemplateChange.Create, "c3", max: 2));
        Assert.Null(third.Conflict);
        Assert.Equal(["c2"], third.EvictedTemplates);

        var probe = await RecordTemplate("c1", Decision("b1", "?", "?", TemplateChange.Update, "c1", "[null]", max: 2));
        Assert.Equal("v3", probe.Conflict!.Version);
        Assert.Equal(["c1", "c3"], probe.Conflict.Clusters.Keys.Order(StringComparer.Ordinal).ToArray());
        // The evicted cluster's group is untouched; a join to it now conflicts.
        Assert.Equal(1, (await Group("c2")).Count);
        Assert.NotNull((await RecordTemplate("c2", Decision("b1", "v3", "v3", TemplateChange.Join, "c2", max: 2))).Conflict);
    }

    [Fact]
    public async Task A_bucket_expires_a_group_ttl_after_its_last_use()
    {
        var ttl = TimeSpan.FromHours(2);
        Assert.Null((await RecordTemplate("c1", Decision("b1", "", "v1", TemplateChange.Create, "c1"), ttl)).Conflict);
        Time.Advance(TimeSpan.FromHours(1.5));
        Assert.Null((await RecordTemplate("c1", Decision("b1", "v1", "v1", TemplateChange.Join, "c1"), ttl)).Conflict); // refreshes the TTL
        Time.Advance(TimeSpan.FromHours(1.5));
        Assert.Null((await RecordTemplate("c1", Decision("b1", "v1", "v1", TemplateChange.Join, "c1"), ttl)).Conflict);
        Time.Advance(TimeSpan.FromHours(2)); // two hours after the last use: gone
        var gone = await RecordTemplate("c1", Decision("b1", "v1", "v1", TemplateChange.Join, "c1"), ttl);
        Assert.Equal("", gone.Conflict!.Version);
        Assert.Empty(gone.Conflict.Clusters);
    }
}
