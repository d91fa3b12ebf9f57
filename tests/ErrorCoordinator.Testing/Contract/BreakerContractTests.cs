using System.Collections.Concurrent;
using System.Text.Json;
using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ErrorCoordinator.Testing.Contract;

/// <summary>
/// The one breaker contract both stores pass (Redis scripts and the embedded store), driven through
/// <see cref="BreakerService"/> with a <see cref="FakeTimeProvider"/>: every transition, the backoff of the break,
/// probe permits and their leases, distinct reporters, isolation, events and listing.
/// </summary>
public abstract class BreakerContractTests : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private ServiceProvider? _provider;
    private IAsyncDisposable? _subscription;
    protected readonly ConcurrentQueue<BreakerEvent> Published = new();

    protected FakeTimeProvider Time { get; } = new(Start);
    protected BreakerService Breakers => _provider!.GetRequiredService<BreakerService>();
    protected DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>Registers the store under test (and its event bus); null keeps the embedded store. Each test gets a fresh key prefix.</summary>
    protected abstract ValueTask<Action<IServiceCollection>?> StoreAsync();

    public async ValueTask InitializeAsync()
    {
        var prefix = TestPrefix.New();
        var settings = new Dictionary<string, string?>
        {
            ["ErrorCoordinator:Storage:KeyPrefix"] = prefix,
            ["ErrorCoordinator:Storage:ChannelPrefix"] = prefix,
        };
        var store = await StoreAsync();
        _provider = CoordinationTestServices.Build(Time, settings, store);
        var channels = _provider.GetRequiredService<ChannelNames>();
        _subscription = await _provider.GetRequiredService<IEventBus>().SubscribeAsync(channels.Breakers,
            m => Published.Enqueue(CoreJson.Deserialize<BreakerEvent>(m.Payload)));
    }

    public async ValueTask DisposeAsync()
    {
        if (_subscription is not null) await _subscription.DisposeAsync();
        if (_provider is not null) await _provider.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private static string C() => "svc-" + Guid.NewGuid().ToString("N")[..8];

    protected Task<OutcomeResult> Fail(string component, string? agent = "a1", string? permit = null) =>
        Breakers.RecordOutcomeAsync(new BreakerOutcome { Component = component, Success = false, Agent = agent, Permit = permit, ErrorType = "TimeoutError" });

    protected Task<OutcomeResult> Succeed(string component, string? agent = "a1", string? permit = null, long? durationMs = null) =>
        Breakers.RecordOutcomeAsync(new BreakerOutcome { Component = component, Success = true, Agent = agent, Permit = permit, DurationMs = durationMs });

    /// <summary>Opens <paramref name="component"/> with the default policy: 10 failures in a row reach ratio 1.0 at minimum throughput.</summary>
    protected async Task<OutcomeResult> OpenByFailures(string component)
    {
        OutcomeResult last = null!;
        for (var i = 0; i < 10; i++) last = await Fail(component);
        Assert.Equal(BreakerState.Open, last.Breaker.State);
        return last;
    }

    /// <summary>Waits until the bus delivered <paramref name="count"/> transitions for the component (the Redis bus is asynchronous).</summary>
    protected async Task<List<BreakerEvent>> EventsOf(string component, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var list = Published.Where(e => e.Component == component).ToList();
            if (list.Count >= count || DateTime.UtcNow > deadline) return list;
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task An_unknown_component_is_closed_with_the_default_policy_and_a_check_creates_nothing()
    {
        var c = C();
        var check = await Breakers.CheckAsync(c);
        Assert.True(check.Allowed);
        Assert.Equal(BreakerState.Closed, check.Breaker.State);
        Assert.Null(check.Permit);
        Assert.Null(check.RetryAfterMs);
        Assert.Equal(0, check.Breaker.Window.Calls);
        Assert.Equal(30, check.Breaker.Window.Seconds);
        Assert.Equal(new BreakerPolicy(), await Breakers.GetPolicyAsync(c));
        Assert.DoesNotContain((await Breakers.ListAsync()).Items, b => b.Component == c);
    }

    [Fact]
    public async Task Failure_ratio_opens_only_at_minimum_throughput()
    {
        var c = C();
        for (var i = 0; i < 5; i++) await Succeed(c);
        for (var i = 0; i < 4; i++) Assert.Equal(BreakerState.Closed, (await Fail(c)).Breaker.State); // 9 calls, ratio 0.44
        var opening = await Fail(c); // 10 calls, 5 failures: ratio 0.5 >= 0.5
        Assert.Equal(BreakerState.Open, opening.Breaker.State);
        Assert.NotNull(opening.Transition);
        Assert.Equal(BreakerEventTypes.Opened, opening.Transition!.Type);
        Assert.Equal(BreakerState.Closed, opening.Transition.From);
        Assert.Contains("failure ratio 0.50 >= 0.50 over 10 calls", opening.Breaker.Reason);
        Assert.Equal(new BreakerWindow(10, 5, 0, 0.5, 1, 30), opening.Breaker.Window);
        Assert.Equal(Now, opening.Breaker.OpenedAt);
        Assert.Equal(Now.AddSeconds(30), opening.Breaker.OpenUntil);

        var denied = await Breakers.CheckAsync(c);
        Assert.False(denied.Allowed);
        Assert.Equal(BreakerState.Open, denied.Breaker.State);
        Assert.Equal(30_000, denied.RetryAfterMs);
        Time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(20_000, (await Breakers.CheckAsync(c)).RetryAfterMs);
    }

    [Fact]
    public async Task Below_minimum_throughput_even_all_failures_keep_it_closed()
    {
        var c = C();
        for (var i = 0; i < 9; i++) Assert.Null((await Fail(c)).Transition);
        Assert.True((await Breakers.CheckAsync(c)).Allowed);
        Assert.Equal(9, (await Breakers.GetAsync(c)).ConsecutiveFailures);
    }

    [Fact]
    public async Task Consecutive_failures_rule_opens_whatever_the_ratio()
    {
        var c = C();
        await Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { ConsecutiveFailures = 3, MinimumThroughput = 1000 });
        for (var i = 0; i < 20; i++) await Succeed(c);
        await Fail(c);
        await Fail(c);
        await Succeed(c); // resets the run
        await Fail(c);
        await Fail(c);
        var third = await Fail(c);
        Assert.Equal(BreakerState.Open, third.Breaker.State);
        Assert.Equal("3 consecutive failures (limit 3)", third.Breaker.Reason);
    }

    [Fact]
    public async Task The_window_slides_old_failures_out()
    {
        var c = C();
        for (var i = 0; i < 6; i++) await Fail(c);
        Time.Advance(TimeSpan.FromSeconds(15));
        for (var i = 0; i < 3; i++) await Succeed(c);
        Assert.Equal(9, (await Breakers.GetAsync(c)).Window.Calls);
        Assert.Equal(9, (await Breakers.CheckAsync(c)).Breaker.Window.Calls);
        Time.Advance(TimeSpan.FromSeconds(16)); // the first six are now older than 30 s
        var w = (await Breakers.GetAsync(c)).Window;
        Assert.Equal(3, w.Calls);
        Assert.Equal(0, w.Failures);
        // check_breaker reads the same totals (no write since the slide: its stored sum is stale and must not be used).
        var checkedWindow = (await Breakers.CheckAsync(c)).Breaker.Window;
        Assert.Equal(3, checkedWindow.Calls);
        Assert.Equal(0, checkedWindow.Failures);
        Assert.Equal(0, checkedWindow.DistinctReporters); // the failures were 31 s ago
        Time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(0, (await Breakers.CheckAsync(c)).Breaker.Window.Calls);
        for (var i = 0; i < 6; i++) await Fail(c); // 9 calls: still under minimum throughput
        Assert.Equal(BreakerState.Closed, (await Breakers.GetAsync(c)).State);
    }

    [Fact]
    public async Task A_slow_success_counts_as_a_failure()
    {
        var c = C();
        await Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { SlowCallMs = 500, MinimumThroughput = 4 });
        var fast = await Succeed(c, durationMs: 100);
        Assert.False(fast.CountedAsFailure);
        var slow = await Succeed(c, durationMs: 800);
        Assert.True(slow.CountedAsFailure);
        Assert.True(slow.Slow);
        await Succeed(c, durationMs: 900);
        var opened = await Succeed(c, durationMs: 501); // 4 calls, 3 slow: ratio 0.75
        Assert.Equal(BreakerState.Open, opened.Breaker.State);
        Assert.Equal(3, opened.Breaker.Window.SlowCalls);
    }

    [Fact]
    public async Task After_the_break_one_permit_is_granted_and_its_success_closes()
    {
        var c = C();
        await OpenByFailures(c);
        Time.Advance(TimeSpan.FromSeconds(30));
        var probe = await Breakers.CheckAsync(c, "prober");
        Assert.Equal(BreakerState.HalfOpen, probe.Breaker.State);
        Assert.True(probe.Allowed);
        Assert.NotNull(probe.Permit);
        Assert.Equal(Now.AddSeconds(30), probe.PermitExpiresAt);
        Assert.Equal(BreakerEventTypes.HalfOpen, probe.Transition!.Type);
        Assert.Equal(1, probe.Breaker.PermitsLeased);

        var second = await Breakers.CheckAsync(c);
        Assert.False(second.Allowed);
        Assert.Null(second.Permit);
        Assert.Equal(30_000, second.RetryAfterMs);

        var closed = await Succeed(c, "prober", probe.Permit);
        Assert.Equal(PermitStatus.Accepted, closed.Permit);
        Assert.Equal(BreakerState.Closed, closed.Breaker.State);
        Assert.Equal(BreakerEventTypes.Closed, closed.Transition!.Type);
        Assert.Equal("probe succeeded", closed.Breaker.Reason);
        Assert.Equal(0, closed.Breaker.Window.Calls); // closing clears the window
        Assert.True((await Breakers.CheckAsync(c)).Allowed);

        var events = await EventsOf(c, 3);
        Assert.Equal([BreakerEventTypes.Opened, BreakerEventTypes.HalfOpen, BreakerEventTypes.Closed], events.Select(e => e.Type));
        Assert.Equal("prober", events[2].Agent);
        var audit = await Breakers.ReadTransitionsAsync(c);
        Assert.Equal([BreakerEventTypes.Closed, BreakerEventTypes.HalfOpen, BreakerEventTypes.Opened],
            audit.Select(j => JsonDocument.Parse(j).RootElement.GetProperty("type").GetString()));
        Assert.Equal(events.Select(e => e.EventId).Reverse(), audit.Select(j => JsonDocument.Parse(j).RootElement.GetProperty("event_id").GetString()));
    }

    [Fact]
    public async Task A_failed_probe_reopens_with_the_break_doubled_up_to_the_maximum()
    {
        var c = C();
        await OpenByFailures(c);
        var expected = new[] { 60, 120, 240, 300, 300 };
        var wait = 30;
        foreach (var next in expected)
        {
            Time.Advance(TimeSpan.FromSeconds(wait));
            var probe = await Breakers.CheckAsync(c);
            Assert.NotNull(probe.Permit);
            var failed = await Fail(c, permit: probe.Permit);
            Assert.Equal(BreakerState.Open, failed.Breaker.State);
            Assert.Equal(BreakerEventTypes.Reopened, failed.Transition!.Type);
            Assert.Equal(next, failed.Breaker.BreakSeconds);
            Assert.Equal(Now.AddSeconds(next), failed.Breaker.OpenUntil);
            Time.Advance(TimeSpan.FromSeconds(next - 1));
            Assert.False((await Breakers.CheckAsync(c)).Allowed); // still open one second before the end
            wait = 1;
        }
        // A success closes and the next open starts from the policy's break again.
        Time.Advance(TimeSpan.FromSeconds(1));
        var last = await Breakers.CheckAsync(c);
        await Succeed(c, permit: last.Permit);
        var reopened = await OpenByFailures(c);
        Assert.Equal(30, reopened.Breaker.BreakSeconds);
    }

    [Fact]
    public async Task Outcomes_without_a_valid_permit_are_counted_but_cannot_close_or_reopen()
    {
        var c = C();
        await OpenByFailures(c);
        Time.Advance(TimeSpan.FromSeconds(30));
        var probe = await Breakers.CheckAsync(c);
        Assert.NotNull(probe.Permit);
        var before = (await Breakers.GetAsync(c)).Window.Calls;

        var plain = await Succeed(c);
        Assert.Equal(PermitStatus.None, plain.Permit);
        Assert.Equal(BreakerState.HalfOpen, plain.Breaker.State);
        Assert.Null(plain.Transition);
        Assert.Contains("valid permit", plain.Note);
        var forged = await Fail(c, permit: "0123456789abcdef0123456789abcdef");
        Assert.Equal(PermitStatus.Invalid, forged.Permit);
        Assert.Equal(BreakerState.HalfOpen, forged.Breaker.State);
        Assert.Equal(before + 2, forged.Breaker.Window.Calls);

        // The real probe still decides.
        var closed = await Succeed(c, permit: probe.Permit);
        Assert.Equal(BreakerState.Closed, closed.Breaker.State);
        // Its permit is spent.
        Assert.Equal(PermitStatus.Invalid, (await Succeed(c, permit: probe.Permit)).Permit);
    }

    [Fact]
    public async Task A_probe_that_never_reports_frees_its_slot_when_its_lease_expires()
    {
        var c = C();
        await Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { PermitLeaseSeconds = 5 });
        await OpenByFailures(c);
        Time.Advance(TimeSpan.FromSeconds(30));
        var lost = await Breakers.CheckAsync(c);
        Assert.NotNull(lost.Permit);
        Time.Advance(TimeSpan.FromSeconds(4));
        var blocked = await Breakers.CheckAsync(c);
        Assert.False(blocked.Allowed);
        Assert.Equal(1000, blocked.RetryAfterMs);
        Time.Advance(TimeSpan.FromSeconds(1));
        var next = await Breakers.CheckAsync(c);
        Assert.True(next.Allowed);
        Assert.NotNull(next.Permit);
        Assert.NotEqual(lost.Permit, next.Permit);
        Assert.Equal(BreakerState.HalfOpen, next.Breaker.State);
        // The expired permit no longer decides anything.
        Assert.Equal(PermitStatus.Invalid, (await Succeed(c, permit: lost.Permit)).Permit);
        Assert.Equal(BreakerState.Closed, (await Succeed(c, permit: next.Permit)).Breaker.State);
    }

    [Fact]
    public async Task Several_permits_are_granted_and_all_must_succeed_to_close()
    {
        var c = C();
        await Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { HalfOpenPermits = 3 });
        await OpenByFailures(c);
        Time.Advance(TimeSpan.FromSeconds(30));
        var permits = new List<string>();
        for (var i = 0; i < 5; i++)
            if ((await Breakers.CheckAsync(c)).Permit is { } p) permits.Add(p);
        Assert.Equal(3, permits.Count);
        var first = await Succeed(c, permit: permits[0]);
        Assert.Equal(BreakerState.HalfOpen, first.Breaker.State);
        Assert.Equal(1, first.Breaker.ProbeSuccesses);
        Assert.False((await Breakers.CheckAsync(c)).Allowed); // a spent slot is not handed out again
        await Succeed(c, permit: permits[1]);
        var closed = await Succeed(c, permit: permits[2]);
        Assert.Equal(BreakerState.Closed, closed.Breaker.State);
        Assert.Equal("3 probes succeeded", closed.Breaker.Reason);
    }

    [Fact]
    public async Task Distinct_reporters_rule_needs_failures_from_enough_agents()
    {
        var c = C();
        await Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { MinDistinctReporters = 3 });
        OutcomeResult r = null!;
        for (var i = 0; i < 12; i++) r = await Fail(c, "node-a");
        Assert.Equal(BreakerState.Closed, r.Breaker.State);
        Assert.Contains("only 1 of the 3 distinct reporters", r.Note);
        r = await Fail(c, "node-b");
        Assert.Equal(BreakerState.Closed, r.Breaker.State);
        Assert.Contains("only 2 of the 3", r.Note);
        r = await Fail(c, "node-c");
        Assert.Equal(BreakerState.Open, r.Breaker.State);
        Assert.Contains("from 3 distinct reporters", r.Breaker.Reason);
        Assert.Equal("node-c", r.Breaker.ChangedBy);
        Assert.Equal(3, r.Breaker.Window.DistinctReporters);
    }

    [Fact]
    public async Task Reporters_older_than_the_window_do_not_count_toward_the_quorum()
    {
        var c = C();
        await Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { MinDistinctReporters = 2, MinimumThroughput = 1 });
        await Fail(c, "node-a");
        Time.Advance(TimeSpan.FromSeconds(31));
        var r = await Fail(c, "node-b");
        Assert.Equal(BreakerState.Closed, r.Breaker.State);
        Assert.Equal(1, r.Breaker.Window.DistinctReporters);
        Assert.Equal(BreakerState.Open, (await Fail(c, "node-a")).Breaker.State);
    }

    [Fact]
    public async Task Isolation_holds_until_reset_whatever_the_outcomes()
    {
        var c = C();
        var (tripped, t) = await Breakers.TripAsync(c, "maintenance window", agent: "ops");
        Assert.Equal(BreakerState.Isolated, tripped.State);
        Assert.Equal(BreakerEventTypes.Opened, t!.Type);
        Assert.Null(tripped.OpenUntil);
        Assert.Equal("maintenance window", tripped.Reason);
        Time.Advance(TimeSpan.FromDays(2));
        var check = await Breakers.CheckAsync(c);
        Assert.False(check.Allowed);
        Assert.Null(check.RetryAfterMs);
        Assert.Null(check.Permit);
        for (var i = 0; i < 5; i++) Assert.Equal(BreakerState.Isolated, (await Succeed(c)).Breaker.State);
        // Other capabilities cannot shorten an isolation.
        var (stillIsolated, none) = await Breakers.OpenAsync(c, "gpu", TimeSpan.FromMinutes(5));
        Assert.Equal(BreakerState.Isolated, stillIsolated.State);
        Assert.Null(none);

        var (reset, rt) = await Breakers.ResetAsync(c, "maintenance over", "ops");
        Assert.Equal(BreakerState.Closed, reset.State);
        Assert.Equal(BreakerEventTypes.Closed, rt!.Type);
        Assert.Equal(BreakerState.Isolated, rt.From);
        Assert.Equal(0, reset.Window.Calls);
        Assert.True((await Breakers.CheckAsync(c)).Allowed);
    }

    [Fact]
    public async Task Isolation_with_a_duration_ends_by_itself()
    {
        var c = C();
        await Breakers.TripAsync(c, "deploy", durationSeconds: 120);
        Time.Advance(TimeSpan.FromSeconds(60));
        var during = await Breakers.CheckAsync(c);
        Assert.False(during.Allowed);
        Assert.Equal(60_000, during.RetryAfterMs);
        Time.Advance(TimeSpan.FromSeconds(60));
        var after = await Breakers.CheckAsync(c);
        Assert.True(after.Allowed);
        Assert.Equal(BreakerState.Closed, after.Breaker.State);
        Assert.Equal(BreakerEventTypes.Closed, after.Transition!.Type);
        Assert.Equal("isolation ended", after.Breaker.Reason);
    }

    [Fact]
    public async Task Another_capability_opens_a_breaker_for_a_fixed_break_then_it_probes()
    {
        var c = C();
        var (opened, t) = await Breakers.OpenAsync(c, "GPU memory exhausted (96% used)", TimeSpan.FromMinutes(5), "gpu-watch");
        Assert.Equal(BreakerState.Open, opened.State);
        Assert.Equal(BreakerEventTypes.Opened, t!.Type);
        Assert.Equal(300, opened.BreakSeconds);
        Time.Advance(TimeSpan.FromMinutes(4));
        Assert.False((await Breakers.CheckAsync(c)).Allowed);
        // Opening again while open keeps one break (no second transition) and never shortens it.
        var (again, none) = await Breakers.OpenAsync(c, "still exhausted", TimeSpan.FromMinutes(5));
        Assert.Null(none);
        Assert.Equal(Now.AddMinutes(5), again.OpenUntil);
        Time.Advance(TimeSpan.FromMinutes(5));
        var probe = await Breakers.CheckAsync(c);
        Assert.Equal(BreakerState.HalfOpen, probe.Breaker.State);
        Assert.NotNull(probe.Permit);
    }

    [Fact]
    public async Task Reset_of_a_closed_breaker_clears_the_window_without_a_transition()
    {
        var c = C();
        for (var i = 0; i < 4; i++) await Fail(c);
        var (reset, t) = await Breakers.ResetAsync(c);
        Assert.Null(t);
        Assert.Equal(0, reset.Window.Calls);
        Assert.Equal(0, reset.ConsecutiveFailures);
    }

    [Fact]
    public async Task Listing_filters_by_state_and_pages_without_repeats()
    {
        var open = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var c = C();
            await OpenByFailures(c);
            open.Add(c);
            Time.Advance(TimeSpan.FromMilliseconds(5));
        }
        var closed = C();
        await Fail(closed);
        Time.Advance(TimeSpan.FromMilliseconds(5));
        var isolated = C();
        await Breakers.TripAsync(isolated, "manual");

        var onlyOpen = await Breakers.ListAsync("open");
        Assert.Equal(open.OrderBy(x => x), onlyOpen.Items.Select(b => b.Component).OrderBy(x => x));
        Assert.Equal([isolated], (await Breakers.ListAsync("isolated")).Items.Select(b => b.Component));

        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = await Breakers.ListAsync(limit: 2, cursor: cursor);
            Assert.True(page.Items.Count <= 2);
            seen.AddRange(page.Items.Select(b => b.Component));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(5, seen.Count);
        Assert.Equal(seen.Distinct().Count(), seen.Count);
        Assert.Equal(isolated, seen[0]); // most recently changed first

        // An open breaker whose break has elapsed lists as half_open (evaluated lazily, nothing written).
        Time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(3, (await Breakers.ListAsync("half_open")).Items.Count);
        Assert.Empty((await Breakers.ListAsync("open")).Items);
    }

    [Fact]
    public async Task Listing_pages_through_ties_and_long_filtered_scans_without_losing_an_entry()
    {
        // One open breaker, older than 1,100 closed ones that all changed in the same millisecond.
        var open = C();
        await OpenByFailures(open);
        Time.Advance(TimeSpan.FromMilliseconds(10));
        var closed = Enumerable.Range(0, 1100).Select(_ => C()).ToList();
        foreach (var c in closed) await Fail(c);

        var found = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Breakers.ListAsync("open", limit: 1, cursor: cursor);
            found.AddRange(page.Items.Select(b => b.Component));
            cursor = page.NextCursor;
            Assert.True(++pages < 100, "paging did not end");
        } while (cursor is not null);
        Assert.Equal([open], found.Where(f => f == open || closed.Contains(f)));

        // Unfiltered pages over the tie: every breaker exactly once.
        var all = new List<string>();
        cursor = null;
        do
        {
            var page = await Breakers.ListAsync(limit: 250, cursor: cursor);
            all.AddRange(page.Items.Select(b => b.Component));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Superset(closed.Append(open).ToHashSet(), all.ToHashSet());
        Assert.Equal(open, all[^1]); // the oldest change comes last
    }

    [Fact]
    public async Task A_cursor_that_was_not_returned_is_refused()
    {
        var ex = await Assert.ThrowsAsync<ValidationException>(() => Breakers.ListAsync(cursor: "not-a-cursor!"));
        Assert.Equal("cursor", ex.Field);
    }

    [Fact]
    public async Task An_isolation_until_reset_outlives_the_idle_retention()
    {
        var isolated = C();
        var timed = C();
        await Breakers.TripAsync(isolated, "decommissioned");
        await Breakers.TripAsync(timed, "migration", durationSeconds: 20 * 86_400);
        for (var day = 0; day < 45; day++)
        {
            Time.Advance(TimeSpan.FromDays(1));
            Assert.False((await Breakers.CheckAsync(isolated)).Allowed); // checks only: nobody records to an isolated breaker
        }
        Assert.Equal(BreakerState.Isolated, (await Breakers.GetAsync(isolated)).State);
        // The timed isolation ended on day 20 (nobody looked at it since): it reads closed.
        Assert.True((await Breakers.CheckAsync(timed)).Allowed);
    }

    [Fact]
    public async Task Concurrent_configures_cannot_combine_into_an_invalid_policy()
    {
        for (var round = 0; round < 10; round++)
        {
            var c = C();
            var results = await Task.WhenAll(
                Capture(() => Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { BreakSeconds = 200 })),
                Capture(() => Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { MaxBreakSeconds = 60 })));
            var policy = await Breakers.GetPolicyAsync(c);
            Assert.True(policy.MaxBreakSeconds >= policy.BreakSeconds, $"stored break {policy.BreakSeconds} > max {policy.MaxBreakSeconds}");
            Assert.Equal(1, results.Count(r => r is null)); // one of the two is refused, whichever came second
            Assert.Contains(results, r => r is ValidationException { Field: "max_break_seconds" or "break_seconds" });
        }

        static async Task<Exception?> Capture(Func<Task> action)
        {
            try
            {
                await Task.Yield();
                await action();
                return null;
            }
            catch (ValidationException ex)
            {
                return ex;
            }
        }
    }

    [Fact]
    public async Task A_due_transition_found_by_an_outcome_is_reported_with_the_agent_that_found_it()
    {
        var c = C();
        await OpenByFailures(c);
        Time.Advance(TimeSpan.FromSeconds(30));
        var r = await Succeed(c, "late-agent"); // no permit: counted, decides nothing, but it found the break over
        Assert.Equal(BreakerState.HalfOpen, r.Breaker.State);
        Assert.Equal(BreakerEventTypes.HalfOpen, r.Transition!.Type);
        Assert.Equal("late-agent", r.Transition.Agent);
        Assert.EndsWith("_due", r.Transition.EventId);
        Assert.Equal("late-agent", r.Breaker.ChangedBy);

        var d = C();
        await OpenByFailures(d);
        Time.Advance(TimeSpan.FromSeconds(30));
        var check = await Breakers.CheckAsync(d, "prober");
        Assert.Equal("prober", check.Transition!.Agent);
        Assert.Equal("prober", check.Breaker.ChangedBy);
    }

    [Fact]
    public async Task Ratios_in_reasons_round_the_same_way_in_every_store()
    {
        var c = C();
        await Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { FailureRatio = 0.125, MinimumThroughput = 8 });
        for (var i = 0; i < 7; i++) await Succeed(c);
        var r = await Fail(c); // 1 of 8 = 0.125
        Assert.Equal(BreakerState.Open, r.Breaker.State);
        Assert.StartsWith("failure ratio 0.13 >= 0.13 over 8 calls", r.Breaker.Reason);
        var opened = Assert.Single(await EventsOf(c, 1));
        Assert.Equal("TimeoutError", opened.ErrorType);
        Assert.Equal(30, opened.BreakSeconds);
    }

    [Fact]
    public async Task Configure_validates_every_field_and_writes_nothing_on_bad_input()
    {
        var c = C();
        var ex = await Assert.ThrowsAsync<ValidationException>(() => Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { FailureRatio = 1.5, BreakSeconds = 10 }));
        Assert.Equal("failure_ratio", ex.Field);
        Assert.Contains("at most 1", ex.Message);
        Assert.Equal(new BreakerPolicy(), await Breakers.GetPolicyAsync(c));

        var max = await Assert.ThrowsAsync<ValidationException>(() => Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { BreakSeconds = 600 }));
        Assert.Equal("max_break_seconds", max.Field);
        Assert.Equal("half_open_permits", (await Assert.ThrowsAsync<ValidationException>(() => Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { HalfOpenPermits = 0 }))).Field);

        var policy = await Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { FailureRatio = 0.25, MinimumThroughput = 4 });
        Assert.Equal(0.25, policy.FailureRatio);
        Assert.Equal(4, policy.MinimumThroughput);
        Assert.Equal(30, policy.BreakSeconds);
        var merged = await Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { BreakSeconds = 5 });
        Assert.Equal(0.25, merged.FailureRatio); // earlier overrides stay
        var reset = await Breakers.ConfigureAsync(c, new BreakerPolicyUpdate { ResetToDefaults = true, HalfOpenPermits = 2 });
        Assert.Equal(new BreakerPolicy { HalfOpenPermits = 2 }, reset);
    }

    [Fact]
    public async Task Bad_names_and_values_are_refused_with_the_field()
    {
        Assert.Equal("component", (await Assert.ThrowsAsync<ValidationException>(() => Breakers.CheckAsync(" "))).Field);
        Assert.Equal("component", (await Assert.ThrowsAsync<ValidationException>(() => Breakers.CheckAsync(new string('x', 201)))).Field);
        Assert.Equal("reason", (await Assert.ThrowsAsync<ValidationException>(() => Breakers.TripAsync(C(), ""))).Field);
        Assert.Equal("duration_seconds", (await Assert.ThrowsAsync<ValidationException>(() => Breakers.TripAsync(C(), "x", 0))).Field);
        Assert.Equal("duration_ms", (await Assert.ThrowsAsync<ValidationException>(() =>
            Breakers.RecordOutcomeAsync(new BreakerOutcome { Component = C(), Success = true, DurationMs = -1 }))).Field);
        Assert.Equal("permit", (await Assert.ThrowsAsync<ValidationException>(() =>
            Breakers.RecordOutcomeAsync(new BreakerOutcome { Component = C(), Success = true, Permit = "not a token!" }))).Field);
        Assert.Equal("state", (await Assert.ThrowsAsync<ValidationException>(() => Breakers.ListAsync("ajar"))).Field);
    }

    [Fact]
    public async Task Names_with_separators_and_braces_stay_separate_breakers()
    {
        var a = "pay:{ments}*";
        var b = "pay:ments";
        await OpenByFailures(a);
        Assert.True((await Breakers.CheckAsync(b)).Allowed);
        Assert.Equal(BreakerState.Open, (await Breakers.GetAsync(a)).State);
    }

    [Fact]
    public async Task Five_crashes_of_one_agent_open_its_breaker_and_each_is_an_agent_crash_event()
    {
        var agent = "loader-" + Guid.NewGuid().ToString("N")[..6];
        AgentStatusResult r = null!;
        await Breakers.ReportAgentStatusAsync(agent, "running", "task-1");
        for (var i = 0; i < 4; i++)
        {
            r = await Breakers.ReportAgentStatusAsync(agent, "failed", $"task-{i}", "worker exited with SIGKILL");
            Assert.Equal(BreakerState.Closed, r.Breaker.State);
            Assert.NotNull(r.CrashEvent);
            Time.Advance(TimeSpan.FromSeconds(30));
        }
        await Breakers.ReportAgentStatusAsync(agent, "completed", "task-9"); // a success does not excuse the crashes
        r = await Breakers.ReportAgentStatusAsync(agent, "failed", "task-5", "segfault");
        Assert.Equal("agent:" + agent, r.Breaker.Component);
        Assert.Equal(BreakerState.Open, r.Breaker.State);
        Assert.Equal(BreakerEventTypes.Opened, r.Transition!.Type);
        Assert.Contains("5 failures", r.Breaker.Reason);
        Assert.Equal(Core.Errors.Severity.Critical, r.CrashEvent!.Severity);
        var published = Assert.Single(await EventsOf("agent:" + agent, 1));
        Assert.Equal(BreakerEventTypes.Opened, published.Type);
        Assert.Equal(agent, published.Agent);

        Assert.Equal("status", (await Assert.ThrowsAsync<ValidationException>(() => Breakers.ReportAgentStatusAsync(agent, "sleeping"))).Field);
    }

    [Fact]
    public async Task Crashes_outside_the_crash_window_do_not_add_up()
    {
        var agent = "trainer-" + Guid.NewGuid().ToString("N")[..6];
        for (var i = 0; i < 8; i++)
        {
            var r = await Breakers.ReportAgentStatusAsync(agent, "failed");
            Assert.Equal(BreakerState.Closed, r.Breaker.State);
            Time.Advance(TimeSpan.FromMinutes(3)); // 600 s window: at most four crashes inside it
        }
    }

    [Fact]
    public async Task Recent_calls_count_the_last_minute_for_retry_budgets()
    {
        var c = C();
        for (var i = 0; i < 7; i++) await Succeed(c);
        Time.Advance(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 3; i++) await Fail(c);
        Assert.Equal(10, await Breakers.CountRecentCallsAsync(c));
        Time.Advance(TimeSpan.FromSeconds(35));
        Assert.Equal(3, await Breakers.CountRecentCallsAsync(c));
        Assert.Equal(0, await Breakers.CountRecentCallsAsync(C()));
    }
}
