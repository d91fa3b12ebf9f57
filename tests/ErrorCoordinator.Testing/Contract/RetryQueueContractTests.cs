using System.Collections.Concurrent;
using System.Text.Json;
using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Retries;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ErrorCoordinator.Testing.Contract;

/// <summary>
/// The one retry-queue contract both stores pass (the Redis scripts and the embedded store), driven through
/// <see cref="RetryService"/> with a <see cref="FakeTimeProvider"/> (the scripts take the time as an argument, so the fake clock
/// drives their lease and due logic too) and a seeded jitter source.
/// </summary>
public abstract class RetryQueueContractTests : IAsyncLifetime
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Small caps so trimming and rate limits are reachable: 5 dead letters, 3 replays a minute, 5 retries a minute always allowed.</summary>
    public static readonly Dictionary<string, string?> Settings = new()
    {
        ["ErrorCoordinator:Retries:DeadLetterMaxCount"] = "5",
        ["ErrorCoordinator:Retries:ReplayPerMinute"] = "3",
        ["ErrorCoordinator:Retries:BudgetMinRetriesPerMinute"] = "5",
        ["ErrorCoordinator:Retries:HistoryPerTask"] = "20",
    };

    private ServiceProvider? _provider;
    private IAsyncDisposable? _subscription;
    protected readonly ConcurrentQueue<(string Channel, JsonElement Event)> Published = new();

    protected FakeTimeProvider Time { get; } = new(Start);
    protected RetryService Retries => _provider!.GetRequiredService<RetryService>();
    protected BreakerService Breakers => _provider!.GetRequiredService<BreakerService>();
    protected ErrorReportingService Errors => _provider!.GetRequiredService<ErrorReportingService>();
    protected IRetryQueue Queue => _provider!.GetRequiredService<IRetryQueue>();
    protected ChannelNames Channels => _provider!.GetRequiredService<ChannelNames>();
    protected DateTimeOffset Now => Time.GetUtcNow();

    /// <summary>Registers the store under test (replacing the embedded one) for a fresh key prefix.</summary>
    protected abstract ValueTask RegisterStoreAsync(IServiceCollection services, string keyPrefix);

    public async ValueTask InitializeAsync()
    {
        var prefix = TestPrefix.New();
        var settings = new Dictionary<string, string?>(Settings)
        {
            ["ErrorCoordinator:Storage:KeyPrefix"] = prefix,
            ["ErrorCoordinator:Storage:ChannelPrefix"] = prefix,
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Time);
        services.AddSingleton<IRandomSource>(new SeededRandomSource(42));
        services.AddErrorReporting(configuration);
        services.AddBreakers(configuration);
        services.AddRetries(configuration);
        services.AddInMemoryStores();
        await RegisterStoreAsync(services, prefix);
        _provider = services.BuildServiceProvider();
        _subscription = await _provider.GetRequiredService<IEventBus>().SubscribeAsync(Channels.Errors("retry_*"),
            m => Published.Enqueue((m.Channel, JsonSerializer.Deserialize<JsonElement>(m.Payload))));
    }

    public async ValueTask DisposeAsync()
    {
        if (_subscription is not null) await _subscription.DisposeAsync();
        if (_provider is not null) await _provider.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected static string C() => "svc-" + Guid.NewGuid().ToString("N")[..8];

    protected Task<EnqueueResult> Enqueue(string taskId, string component, int maxAttempts = 3, long baseDelayMs = 1000, string backoff = "constant",
        string? key = null, string message = "Connection to db-7 timed out after 3000 ms", string? payload = "{\"n\":1}", string agent = "agent-a") =>
        Retries.EnqueueAsync(new RetryRequest
        {
            TaskId = taskId, Agent = agent, Component = component, ErrorType = "TimeoutError", Message = message, Payload = payload,
            MaxAttempts = maxAttempts, BaseDelayMs = baseDelayMs, Backoff = backoff, IdempotencyKey = key,
        });

    protected async Task<RetryTask> ClaimOne(string worker, string component, int leaseSeconds = 30)
    {
        var claim = await Retries.ClaimAsync(worker, 10, leaseSeconds, component: component);
        return Assert.Single(claim.Tasks);
    }

    protected async Task<List<JsonElement>> EventsOf(string type, string taskId, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var list = Published.Where(e => e.Channel == Channels.Errors(type) && e.Event.GetProperty("task_id").GetString() == taskId).Select(e => e.Event).ToList();
            if (list.Count >= count || DateTime.UtcNow > deadline) return list;
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Enqueue_schedules_the_first_attempt_after_the_backoff_and_publishes_retry_scheduled_with_an_event_id()
    {
        var c = C();
        var r = await Enqueue("t1", c, baseDelayMs: 2000);
        Assert.Equal(EnqueueStatus.Scheduled, r.Status);
        Assert.Equal(1, r.Task!.Attempt);
        Assert.Equal(Now.AddSeconds(2), r.Task.RetryAt);
        Assert.Null(r.Rejected);
        Assert.Equal(1, r.Budget!.Retries);

        var ev = Assert.Single(await EventsOf("retry_scheduled", "t1", 1));
        Assert.StartsWith("rte_", ev.GetProperty("event_id").GetString());
        Assert.Equal(c, ev.GetProperty("component").GetString());
        Assert.Equal(1, ev.GetProperty("attempt").GetInt32());
        Assert.Equal(Now.AddSeconds(2), ev.GetProperty("retry_at").GetDateTimeOffset());
        var audit = await Queue.ReadAuditAsync(10);
        Assert.Contains(audit, a => a.Contains(ev.GetProperty("event_id").GetString()!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Claim_hands_out_only_due_tasks_with_a_lease_and_a_delivery_count()
    {
        var c = C();
        await Enqueue("soon", c, baseDelayMs: 1000);
        await Enqueue("later", c, baseDelayMs: 60_000);
        Assert.Empty((await Retries.ClaimAsync("w1", component: c)).Tasks);

        Time.Advance(TimeSpan.FromSeconds(1));
        var claim = await Retries.ClaimAsync("w1", 10, 30, component: c);
        var t = Assert.Single(claim.Tasks);
        Assert.Equal("soon", t.TaskId);
        Assert.Equal(1, t.Deliveries);
        Assert.Equal(RetryTaskState.InFlight, t.State);
        Assert.False(string.IsNullOrEmpty(t.Lease));
        Assert.Equal(Now.AddSeconds(30), t.LeaseUntil);
        Assert.Equal("{\"n\":1}", t.Payload);
        Assert.Equal("w1", t.Worker);

        // Leased: not handed out again while the lease is valid.
        Assert.Empty((await Retries.ClaimAsync("w2", component: c)).Tasks);
        var stats = await Retries.StatsAsync(component: c);
        Assert.Equal(1, stats.Counts.Pending);
        Assert.Equal(0, stats.Counts.DueNow);
        Assert.Equal(1, stats.Counts.InFlight);
    }

    [Fact]
    public async Task Claim_respects_max_and_due_order_and_the_agent_filter()
    {
        var c = C();
        for (var i = 0; i < 5; i++)
        {
            await Enqueue("t" + i, c, baseDelayMs: 1000 * (5 - i), agent: i % 2 == 0 ? "even" : "odd");
        }
        Time.Advance(TimeSpan.FromSeconds(10));
        var two = await Retries.ClaimAsync("w", 2, component: c);
        Assert.Equal(["t4", "t3"], two.Tasks.Select(t => t.TaskId));
        var odd = await Retries.ClaimAsync("w", 10, agent: "odd");
        Assert.Equal(["t1"], odd.Tasks.Select(t => t.TaskId));
        var rest = await Retries.ClaimAsync("w", 10, component: c);
        Assert.Equal(["t2", "t0"], rest.Tasks.Select(t => t.TaskId));
    }

    [Fact]
    public async Task The_same_idempotency_key_while_queued_returns_the_existing_entry_and_adds_nothing()
    {
        var c = C();
        var first = await Enqueue("t1", c, key: "k1");
        var again = await Enqueue("t1", c, key: "k1", message: "another message");
        Assert.Equal(EnqueueStatus.Duplicate, again.Status);
        Assert.True(again.Duplicate);
        Assert.Equal(first.Task!.RetryAt, again.Task!.RetryAt);
        Assert.Equal(first.Task.Message, again.Task.Message);

        // Same key, other task id: still the existing entry.
        var other = await Enqueue("t2", c, key: "k1");
        Assert.Equal(EnqueueStatus.Duplicate, other.Status);
        Assert.Equal("t1", other.Task!.TaskId);

        // While in flight too.
        Time.Advance(TimeSpan.FromSeconds(1));
        await ClaimOne("w1", c);
        Assert.Equal(EnqueueStatus.Duplicate, (await Enqueue("t1", c, key: "k1")).Status);

        var stats = await Retries.StatsAsync(component: c);
        Assert.Equal(1, stats.Counts.Tasks);
        Assert.Equal(1, stats.Counts.InFlight);
        Assert.Equal(0, stats.Counts.Pending);
        Assert.Equal(1, stats.Budget!.Retries);

        // The same task id under another key is refused, naming the field.
        var ex = await Assert.ThrowsAsync<ValidationException>(() => Enqueue("t1", c, key: "k2"));
        Assert.Equal("task_id", ex.Field);
    }

    [Fact]
    public async Task An_expired_lease_is_redelivered_to_another_worker_and_the_old_lease_is_refused()
    {
        var c = C();
        await Enqueue("t1", c, baseDelayMs: 0);
        var first = await ClaimOne("crashed", c, leaseSeconds: 10);

        Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty((await Retries.ClaimAsync("w2", component: c)).Tasks);
        Time.Advance(TimeSpan.FromSeconds(2));
        var claim = await Retries.ClaimAsync("w2", component: c);
        Assert.Equal(1, claim.Reaped);
        var second = Assert.Single(claim.Tasks);
        Assert.Equal(2, second.Deliveries);
        Assert.NotEqual(first.Lease, second.Lease);
        Assert.Equal(1, second.Attempt);

        var stale = await Assert.ThrowsAsync<ValidationException>(() => Retries.CompleteAsync("t1", first.Lease!, "succeeded"));
        Assert.Equal("lease", stale.Field);
        var done = await Retries.CompleteAsync("t1", second.Lease!, "succeeded");
        Assert.Equal(CompletionResult.Succeeded, done.Result);
        Assert.Single(await EventsOf("retry_success", "t1", 1));
        Assert.Null(await Queue.GetAsync("t1"));
        await Assert.ThrowsAsync<NotFoundException>(() => Retries.CompleteAsync("t1", second.Lease!, "succeeded"));
    }

    [Fact]
    public async Task A_lease_past_its_deadline_is_refused_even_before_anyone_reclaims_it()
    {
        var c = C();
        await Enqueue("t1", c, baseDelayMs: 0);
        var t = await ClaimOne("w1", c, leaseSeconds: 5);
        Time.Advance(TimeSpan.FromSeconds(5));
        var ex = await Assert.ThrowsAsync<ValidationException>(() => Retries.CompleteAsync("t1", t.Lease!, "succeeded"));
        Assert.Contains("expired", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ValidationException>(() => Retries.ExtendLeaseAsync("t1", t.Lease!, 30));
        Assert.Equal(1, (await Retries.StatsAsync(component: c)).Counts.InFlight);
    }

    [Fact]
    public async Task Extend_lease_keeps_the_task_from_being_redelivered_and_refuses_a_foreign_lease()
    {
        var c = C();
        await Enqueue("t1", c, baseDelayMs: 0);
        var t = await ClaimOne("w1", c, leaseSeconds: 10);
        Time.Advance(TimeSpan.FromSeconds(8));
        var extended = await Retries.ExtendLeaseAsync("t1", t.Lease!, 20);
        Assert.Equal(Now.AddSeconds(20), extended.LeaseUntil);
        Time.Advance(TimeSpan.FromSeconds(15));
        Assert.Empty((await Retries.ClaimAsync("w2", component: c)).Tasks);
        var foreign = await Assert.ThrowsAsync<ValidationException>(() => Retries.ExtendLeaseAsync("t1", t.Lease! + "0", 20));
        Assert.Equal("lease", foreign.Field);
        Assert.Equal(CompletionResult.Succeeded, (await Retries.CompleteAsync("t1", t.Lease!, "succeeded")).Result);
    }

    [Fact]
    public async Task Failed_schedules_the_next_attempt_with_backoff_then_dead_letters_with_the_full_history()
    {
        var c = C();
        await Enqueue("t1", c, maxAttempts: 2, baseDelayMs: 1000, backoff: "exponential");
        Time.Advance(TimeSpan.FromSeconds(1));
        var a1 = await ClaimOne("w1", c);
        var failed = await Retries.CompleteAsync("t1", a1.Lease!, "failed", "HTTP 503 from upstream");
        Assert.Equal(CompletionResult.Rescheduled, failed.Result);
        Assert.Equal(2, failed.Task.Attempt);
        Assert.Equal(Now.AddSeconds(2), failed.Task.RetryAt); // exponential: base * 2^1
        Assert.Equal(2, (await EventsOf("retry_scheduled", "t1", 2)).Count);

        Time.Advance(TimeSpan.FromSeconds(2));
        var a2 = await ClaimOne("w1", c);
        Assert.Equal(2, a2.Attempt);
        var dead = await Retries.CompleteAsync("t1", a2.Lease!, "failed", "HTTP 503 again");
        Assert.Equal(CompletionResult.DeadLettered, dead.Result);
        Assert.Equal(DeadLetterReasons.AttemptsExhausted, dead.Task.DeadReason);
        var ev = Assert.Single(await EventsOf("retry_exhausted", "t1", 1));
        Assert.Equal("attempts_exhausted", ev.GetProperty("reason").GetString());

        var page = await Retries.ListDeadLettersAsync(component: c);
        var entry = Assert.Single(page.Items);
        Assert.Equal("{\"n\":1}", entry.Payload);
        Assert.Equal(["enqueued", "failed", "failed", "dead_lettered"], entry.History.Select(h => h.Event));
        Assert.Equal(["HTTP 503 from upstream", "HTTP 503 again"], entry.History.Where(h => h.Event == "failed").Select(h => h.Error));
        Assert.Equal([1, 2], entry.History.Where(h => h.Event == "failed").Select(h => h.Delivery));
        Assert.All(entry.History.Where(h => h.Event == "failed"), h => Assert.Equal("w1", h.Worker));
        var stats = await Retries.StatsAsync(component: c);
        Assert.Equal(1, stats.Counts.DeadLetters);
        Assert.Equal(0, stats.Counts.Pending + stats.Counts.InFlight);
        Assert.Equal(0.0, stats.SuccessRate);
        Assert.Equal(3.0, stats.Amplification); // (1 original run + 2 deliveries) / 1 task
    }

    [Fact]
    public async Task Fatal_dead_letters_at_once_and_max_attempts_zero_goes_straight_to_the_dead_letters()
    {
        var c = C();
        await Enqueue("t1", c, maxAttempts: 5, baseDelayMs: 0);
        var t = await ClaimOne("w1", c);
        var r = await Retries.CompleteAsync("t1", t.Lease!, "fatal", "schema mismatch: column 'x' missing");
        Assert.Equal(CompletionResult.DeadLettered, r.Result);
        Assert.Equal(DeadLetterReasons.Fatal, r.Task.DeadReason);
        Assert.Equal("schema mismatch: column 'x' missing", r.Task.DeadDetail);

        var zero = await Enqueue("t2", c, maxAttempts: 0);
        Assert.True(zero.DeadLettered);
        Assert.Equal(2, (await Retries.ListDeadLettersAsync(component: c)).Items.Count);
        var ex = await Assert.ThrowsAsync<ValidationException>(() => Enqueue("t2", c));
        Assert.Equal("task_id", ex.Field);
    }

    [Fact]
    public async Task The_same_error_on_three_distinct_workers_is_a_poison_pill()
    {
        var c = C();
        // The enqueuing agent saw the error first; w1 failing twice counts once.
        await Enqueue("t1", c, maxAttempts: 10, baseDelayMs: 0, message: "NullReferenceException in Parse at line 12");
        foreach (var (worker, message) in new[] { ("w1", "NullReferenceException in Parse at line 40"), ("w1", "NullReferenceException in Parse at line 41"), ("w2", "disk full") })
        {
            var t = await ClaimOne(worker, c);
            Assert.Equal(CompletionResult.Rescheduled, (await Retries.CompleteAsync("t1", t.Lease!, "failed", message)).Result);
        }
        var last = await ClaimOne("w3", c);
        var r = await Retries.CompleteAsync("t1", last.Lease!, "failed", "NullReferenceException in Parse at line 99");
        Assert.Equal(CompletionResult.DeadLettered, r.Result);
        Assert.Equal(DeadLetterReasons.PoisonPill, r.Task.DeadReason);
        Assert.Contains("3 distinct workers", r.Task.DeadDetail, StringComparison.Ordinal);
        Assert.Equal(4, r.Task.Attempt);
    }

    [Fact]
    public async Task A_task_delivered_max_attempts_times_whose_workers_keep_crashing_is_dead_lettered()
    {
        var c = C();
        await Enqueue("t1", c, maxAttempts: 2, baseDelayMs: 0);
        await ClaimOne("crash-1", c, leaseSeconds: 5);
        Time.Advance(TimeSpan.FromSeconds(6));
        var second = await ClaimOne("crash-2", c, leaseSeconds: 5);
        Assert.Equal(2, second.Deliveries);
        Time.Advance(TimeSpan.FromSeconds(6));
        var sweep = await Retries.SweepAsync();
        Assert.Equal(1, sweep.DeadLettered);
        var dead = Assert.Single((await Retries.ListDeadLettersAsync(component: c)).Items);
        Assert.Equal(DeadLetterReasons.DeliveriesExceeded, dead.DeadReason);
        Assert.Equal(2, dead.History.Count(h => h.Event == "lease_expired"));
    }

    [Fact]
    public async Task The_background_sweep_returns_expired_leases_when_nobody_claims()
    {
        var c = C();
        await Enqueue("t1", c, baseDelayMs: 0);
        await ClaimOne("crashed", c, leaseSeconds: 5);
        Assert.Equal(0, (await Retries.SweepAsync()).Requeued);
        Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(1, (await Retries.SweepAsync()).Requeued);
        var stats = await Retries.StatsAsync(component: c);
        Assert.Equal(0, stats.Counts.InFlight);
        Assert.Equal(1, stats.Counts.Pending);
        Assert.Equal(1, stats.Counts.DueNow);
        Assert.Equal(2, (await ClaimOne("w2", c)).Deliveries);
    }

    [Fact]
    public async Task Over_budget_enqueues_are_rejected_with_the_current_ratio()
    {
        var c = C();
        // 40 outcomes through the breaker and 60 error reports: 100 outcomes allow 10 retries a minute.
        for (var i = 0; i < 40; i++) await Breakers.RecordOutcomeAsync(new BreakerOutcome { Component = c, Success = true, Agent = "a" });
        for (var i = 0; i < 60; i++) await Errors.ReportAsync(new FailureReport { Agent = "a", ErrorType = "TimeoutError", Message = "timeout " + i, Component = c });
        for (var i = 0; i < 10; i++) Assert.Equal(EnqueueStatus.Scheduled, (await Enqueue("t" + i, c)).Status);
        var rejected = await Enqueue("t10", c);
        Assert.Equal(EnqueueStatus.BudgetExhausted, rejected.Status);
        Assert.Equal("budget_exhausted", rejected.Rejected);
        Assert.Equal(10, rejected.Budget!.Retries);
        Assert.Equal(100, rejected.Budget.Outcomes);
        Assert.Equal(10, rejected.Budget.Allowed);
        Assert.Equal(0.1, rejected.Budget.Ratio, 3);
        Assert.Null(await Queue.GetAsync("t10"));
        Assert.Equal(10, (await Retries.StatsAsync(component: c)).Counts.Pending);

        // A minute later the window has room again.
        Time.Advance(TimeSpan.FromSeconds(61));
        await Breakers.RecordOutcomeAsync(new BreakerOutcome { Component = c, Success = true, Agent = "a" });
        Assert.Equal(EnqueueStatus.Scheduled, (await Enqueue("t10", c)).Status);
    }

    [Fact]
    public async Task A_quiet_component_gets_the_minimum_retries_per_minute_and_a_failed_attempt_over_budget_is_dead_lettered()
    {
        var c = C();
        for (var i = 0; i < 5; i++) Assert.Equal(EnqueueStatus.Scheduled, (await Enqueue("t" + i, c, baseDelayMs: 0)).Status);
        Assert.Equal(EnqueueStatus.BudgetExhausted, (await Enqueue("t5", c)).Status);

        var t = Assert.Single((await Retries.ClaimAsync("w1", 1, component: c)).Tasks);
        var r = await Retries.CompleteAsync(t.TaskId, t.Lease!, "failed", "still down");
        Assert.Equal(CompletionResult.DeadLettered, r.Result);
        Assert.Equal(DeadLetterReasons.BudgetExhausted, r.Task.DeadReason);
        Assert.Equal(5, r.Budget!.Retries);
    }

    [Fact]
    public async Task Tasks_behind_an_open_breaker_are_deferred_to_its_retry_after_and_handed_out_once_it_probes()
    {
        var c = C();
        var other = C();
        await Enqueue("blocked", c, baseDelayMs: 0);
        await Enqueue("free", other, baseDelayMs: 0);
        await Breakers.OpenAsync(c, "payments down", TimeSpan.FromSeconds(30));

        var claim = await Retries.ClaimAsync("w1", 10);
        Assert.Equal(["free"], claim.Tasks.Select(t => t.TaskId));
        Assert.Equal(1, claim.Deferred);
        Assert.Equal([c], claim.DeferredComponents);
        var deferred = await Queue.GetAsync("blocked");
        Assert.Equal(RetryTaskState.Pending, deferred!.State);
        Assert.Equal(0, deferred.Deliveries);
        Assert.Equal(Now.AddSeconds(30), deferred.RetryAt);

        Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Empty((await Retries.ClaimAsync("w1", 10, component: c)).Tasks);
        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(BreakerState.HalfOpen, (await Breakers.GetAsync(c)).State);
        var probe = await ClaimOne("w1", c);
        Assert.Equal(1, probe.Deliveries);
    }

    [Fact]
    public async Task Tasks_deferred_behind_an_open_breaker_do_not_hide_due_tasks_of_other_components()
    {
        var open = C();
        var free = C();
        foreach (var id in new[] { "a1", "a2", "a3" }) await Enqueue(id, open, baseDelayMs: 0);
        await Enqueue("b1", free, baseDelayMs: 0);
        await Breakers.OpenAsync(open, "down", TimeSpan.FromSeconds(30));

        var claim = await Retries.ClaimAsync("w1", 2);
        Assert.Equal(["b1"], claim.Tasks.Select(t => t.TaskId));
        Assert.Equal(3, claim.Deferred);
        Assert.Equal([open], claim.DeferredComponents);
        var stats = await Retries.StatsAsync(component: open);
        Assert.Equal(3, stats.Counts.Pending);
        Assert.Equal(0, stats.Counts.DueNow);
        Assert.Equal(0, stats.Counts.Deliveries);
    }

    [Fact]
    public async Task Tasks_behind_an_isolated_breaker_without_end_wait_the_configured_deferral()
    {
        var c = C();
        await Enqueue("t1", c, baseDelayMs: 0);
        await Breakers.TripAsync(c, "maintenance");
        var claim = await Retries.ClaimAsync("w1", 10, component: c);
        Assert.Empty(claim.Tasks);
        Assert.Equal(1, claim.Deferred);
        Assert.Equal(Now.AddSeconds(RetryDefaults.BreakerDeferSeconds), (await Queue.GetAsync("t1"))!.RetryAt);
    }

    [Fact]
    public async Task Replay_dry_run_moves_nothing_and_replay_returns_the_task_with_attempts_reset()
    {
        var c = C();
        await Enqueue("t1", c, maxAttempts: 1, baseDelayMs: 0);
        var t = await ClaimOne("w1", c);
        await Retries.CompleteAsync("t1", t.Lease!, "failed");

        var dry = await Retries.ReplayAsync("t1", dryRun: true);
        Assert.Equal(["t1"], dry.TaskIds);
        Assert.Equal(RetryTaskState.DeadLettered, (await Queue.GetAsync("t1"))!.State);

        var replay = await Retries.ReplayAsync("t1");
        Assert.Equal(["t1"], replay.TaskIds);
        var back = await Queue.GetAsync("t1");
        Assert.Equal(RetryTaskState.Pending, back!.State);
        Assert.Equal(1, back.Attempt);
        Assert.Equal(0, back.Deliveries);
        Assert.Empty((await Retries.ListDeadLettersAsync(component: c)).Items);

        var again = await ClaimOne("w2", c);
        Assert.Equal(CompletionResult.Succeeded, (await Retries.CompleteAsync("t1", again.Lease!, "succeeded")).Result);
        var stats = await Retries.StatsAsync(component: c);
        Assert.Equal(1, stats.Counts.Succeeded);
        Assert.Equal(0.5, stats.SuccessRate);
        await Assert.ThrowsAsync<NotFoundException>(() => Retries.ReplayAsync("t1"));
    }

    [Fact]
    public async Task Bulk_replay_is_rate_limited_fleet_wide_and_continues_a_minute_later()
    {
        var c = C();
        for (var i = 0; i < 5; i++) await Enqueue("t" + i, c, maxAttempts: 0);
        var dry = await Retries.ReplayAsync(component: c, dryRun: true);
        Assert.Equal(5, dry.TaskIds.Count);

        var first = await Retries.ReplayAsync(component: c);
        Assert.Equal(["t0", "t1", "t2"], first.TaskIds);
        Assert.Equal(2, first.RateLimited);
        Assert.Equal(0, first.RateRemaining);
        Assert.True(first.More);
        Time.Advance(TimeSpan.FromSeconds(61));
        var second = await Retries.ReplayAsync(component: c);
        Assert.Equal(["t3", "t4"], second.TaskIds);
        Assert.Equal(0, second.RateLimited);
        Assert.Equal(5, (await Retries.StatsAsync(component: c)).Counts.Pending);
    }

    [Fact]
    public async Task Purge_deletes_dead_letters_by_id_and_by_age()
    {
        var c = C();
        await Enqueue("old", c, maxAttempts: 0);
        Time.Advance(TimeSpan.FromHours(2));
        await Enqueue("new1", c, maxAttempts: 0);
        await Enqueue("new2", c, maxAttempts: 0);

        var byAge = await Retries.PurgeAsync(olderThan: Now.AddHours(-1));
        Assert.Equal(1, byAge.Purged);
        Assert.Null(await Queue.GetAsync("old"));
        var byId = await Retries.PurgeAsync(taskIds: ["new1", "missing"]);
        Assert.Equal(1, byId.Purged);
        Assert.Equal(["new2"], (await Retries.ListDeadLettersAsync(component: c)).Items.Select(d => d.TaskId));
        await Assert.ThrowsAsync<ValidationException>(() => Retries.PurgeAsync());
    }

    [Fact]
    public async Task Dead_letters_are_capped_by_count_and_age_and_every_trim_is_counted()
    {
        var c = C();
        for (var i = 0; i < 7; i++)
        {
            await Enqueue("t" + i, c, maxAttempts: 0);
            Time.Advance(TimeSpan.FromSeconds(1));
        }
        var stats = await Retries.StatsAsync(component: c);
        Assert.Equal(5, stats.Counts.DeadLetters);
        Assert.Equal(2, stats.Counts.DeadLettersTrimmed);
        Assert.Null(await Queue.GetAsync("t0"));
        Assert.Null(await Queue.GetAsync("t1"));

        Time.Advance(TimeSpan.FromDays(30));
        Assert.Equal(5, (await Retries.SweepAsync()).Trimmed);
        stats = await Retries.StatsAsync();
        Assert.Equal(0, stats.Counts.DeadLetters);
        Assert.Equal(7, stats.Counts.DeadLettersTrimmed);
    }

    [Fact]
    public async Task Dead_letters_page_newest_first_with_filters()
    {
        var c = C();
        for (var i = 0; i < 4; i++)
        {
            await Enqueue("t" + i, c, maxAttempts: 0, agent: i % 2 == 0 ? "even" : "odd");
            Time.Advance(TimeSpan.FromSeconds(1));
        }
        var first = await Retries.ListDeadLettersAsync(component: c, limit: 3);
        Assert.Equal(["t3", "t2", "t1"], first.Items.Select(d => d.TaskId));
        Assert.NotNull(first.NextCursor);
        var second = await Retries.ListDeadLettersAsync(component: c, limit: 3, cursor: first.NextCursor);
        Assert.Equal(["t0"], second.Items.Select(d => d.TaskId));
        Assert.Null(second.NextCursor);
        Assert.Equal(["t2", "t0"], (await Retries.ListDeadLettersAsync(agent: "even")).Items.Select(d => d.TaskId));
    }

    [Fact]
    public async Task Bad_input_names_the_field_and_the_limit_and_writes_nothing()
    {
        var c = C();
        async Task<ValidationException> Refused(RetryRequest r) => await Assert.ThrowsAsync<ValidationException>(() => Retries.EnqueueAsync(r));
        var ok = new RetryRequest { TaskId = "t1", Agent = "a", Component = c, ErrorType = "E", Message = "m" };

        var big = await Refused(ok with { Payload = "\"" + new string('x', 64 * 1024) + "\"" });
        Assert.Equal("payload", big.Field);
        Assert.Contains("65536 bytes", big.Message, StringComparison.Ordinal);
        Assert.Equal("payload", (await Refused(ok with { Payload = "{not json" })).Field);
        var attempts = await Refused(ok with { MaxAttempts = 101 });
        Assert.Equal("max_attempts", attempts.Field);
        Assert.Contains("100", attempts.Message, StringComparison.Ordinal);
        Assert.Equal("backoff", (await Refused(ok with { Backoff = "linear" })).Field);
        Assert.Equal("max_delay_ms", (await Refused(ok with { BaseDelayMs = 5000, MaxDelayMs = 1000 })).Field);
        Assert.Equal("component", (await Refused(ok with { Component = "" })).Field);
        Assert.Equal("task_id", (await Refused(ok with { TaskId = new string('t', 201) })).Field);
        Assert.Equal("lease_seconds", (await Assert.ThrowsAsync<ValidationException>(() => Retries.ClaimAsync("w", 1, 3601))).Field);
        Assert.Equal("max", (await Assert.ThrowsAsync<ValidationException>(() => Retries.ClaimAsync("w", 101))).Field);
        Assert.Equal("outcome", (await Assert.ThrowsAsync<ValidationException>(() => Retries.CompleteAsync("t1", "abc", "maybe"))).Field);

        var stats = await Retries.StatsAsync();
        Assert.Equal(0, stats.Counts.Tasks);
        Assert.Equal(0, stats.Counts.Pending);
        Assert.Null(await Queue.GetAsync("t1"));
    }
}
