using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Incidents;

namespace ErrorCoordinator.Core.Tests.Incidents;

public sealed class IncidentServiceTests : IAsyncLifetime
{
    private readonly IncidentTestServices _s = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => _s.DisposeAsync();

    [Fact]
    public async Task A_critical_report_opens_an_incident_and_related_errors_attach()
    {
        await _s.Correlation.RegisterDependenciesAsync("api", ["postgres"]);
        var critical = await _s.ReportAsync("postgres", "DiskFullError", "no space left on device /var/lib/pg", "critical");
        _s.Clock.Advance(TimeSpan.FromSeconds(5));
        var dependent = await _s.ReportAsync("api", "TimeoutError", "query timed out after 3000 ms");
        var unrelated = await _s.ReportAsync("mailer", "KeyError", "missing template");

        var incident = Assert.Single((await _s.Incidents.ListAsync(null, 50, null)).Items);
        var full = await _s.Incidents.GetAsync(incident.Id);
        Assert.Equal(IncidentSources.CriticalEvent, full.Source);
        Assert.Equal("Critical DiskFullError on postgres", full.Title);
        Assert.Equal([critical.EventId, dependent.EventId], full.EventIds);
        Assert.DoesNotContain(unrelated.EventId, full.EventIds);
        Assert.Equal(["postgres", "api"], full.Components);
        Assert.Equal(IncidentTestServices.Start, full.CreatedAt);
    }

    [Fact]
    public async Task Non_critical_errors_alone_open_nothing()
    {
        await _s.ReportAsync("api", "TimeoutError", "query timed out");
        Assert.Empty((await _s.Incidents.ListAsync(null, 50, null)).Items);
    }

    [Fact]
    public async Task A_breaker_opening_opens_an_incident_and_later_transitions_and_exhausted_retries_join_it()
    {
        var channels = _s.Get<ChannelNames>();
        var opened = await _s.Opener.HandleAsync(new BusMessage(channels.Breakers,
            """{"type":"circuit_breaker_opened","component":"payments","event_id":"cbe_1","reason":"failure ratio 0.8 over 10 calls","at":"2026-12-04T12:00:00Z"}"""));
        Assert.Equal(SignalResult.Opened, opened!.Result);
        var again = await _s.Opener.HandleAsync(new BusMessage(channels.Breakers,
            """{"type":"circuit_breaker_opened","component":"payments","event_id":"cbe_1","reason":"failure ratio 0.8 over 10 calls","at":"2026-12-04T12:00:00Z"}"""));
        Assert.Equal(SignalResult.Duplicate, again!.Result);
        var halfOpen = await _s.Opener.HandleAsync(new BusMessage(channels.Breakers,
            """{"type":"circuit_breaker_half_open","component":"payments","event_id":"cbe_2","at":"2026-12-04T12:00:30Z"}"""));
        Assert.Equal(SignalResult.Attached, halfOpen!.Result);
        var retry = await _s.Opener.HandleAsync(new BusMessage(channels.Errors("retry_exhausted"),
            """{"type":"retry_exhausted","task_id":"t-9","agent":"biller","component":"payments","attempts":3,"timestamp":"2026-12-04T12:00:40Z"}"""));
        Assert.Equal(SignalResult.Attached, retry!.Result);

        var i = await _s.Incidents.GetAsync(opened.IncidentId!);
        Assert.Equal(IncidentSources.BreakerOpened, i.Source);
        Assert.Equal([TimelineTypes.BreakerTransition, TimelineTypes.BreakerTransition, TimelineTypes.RetryExhausted], i.Timeline.Select(t => t.Type));
        Assert.Equal(3, i.EventCount);
        Assert.StartsWith("rex_", i.Timeline[2].EventIds.Single());
        Assert.Contains("after 3 attempts", i.Timeline[2].Message);
    }

    [Fact]
    public async Task Manual_incidents_validate_their_input_and_walk_the_states()
    {
        Assert.Equal("title", (await Assert.ThrowsAsync<ValidationException>(() => _s.Incidents.OpenAsync(" ", "error", ["api"]))).Field);
        Assert.Equal("severity", (await Assert.ThrowsAsync<ValidationException>(() => _s.Incidents.OpenAsync("x", "urgent", ["api"]))).Field);
        Assert.Equal("components", (await Assert.ThrowsAsync<ValidationException>(() =>
            _s.Incidents.OpenAsync("x", "error", Enumerable.Range(0, 51).Select(n => $"c{n}").ToList()))).Field);

        var i = await _s.Incidents.OpenAsync("Checkout is slow", "warning", ["checkout", "checkout"]);
        Assert.Equal(IncidentStatus.Triggered, i.Status);
        Assert.Equal(["checkout"], i.Components);
        Assert.Equal(TimelineTypes.Opened, Assert.Single(i.Timeline).Type);

        _s.Clock.Advance(TimeSpan.FromMinutes(2));
        var (acked, changed) = await _s.Incidents.AcknowledgeAsync(i.Id, "alice");
        Assert.True(changed);
        Assert.Equal(IncidentStatus.Acknowledged, acked.Status);
        Assert.False((await _s.Incidents.AcknowledgeAsync(i.Id, "bob")).Changed);
        Assert.Equal("alice", (await _s.Incidents.GetAsync(i.Id)).AcknowledgedBy);

        Assert.Equal("resolution", (await Assert.ThrowsAsync<ValidationException>(() => _s.Incidents.ResolveAsync(i.Id, "", null))).Field);
        var resolved = await _s.Incidents.ResolveAsync(i.Id, "scaled the pool", "checkout-db");
        Assert.Equal(IncidentStatus.Resolved, resolved.Status);
        Assert.Equal("checkout-db", resolved.RootCause);
        var ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Incidents.AcknowledgeAsync(i.Id, "carol"));
        Assert.Equal("id", ex.Field);
        Assert.Contains("resolved", ex.Message);
        await Assert.ThrowsAsync<NotFoundException>(() => _s.Incidents.GetAsync("inc_nope"));
        Assert.Equal("limit", (await Assert.ThrowsAsync<ValidationException>(() => _s.Incidents.ListAsync(null, 0, null))).Field);
        Assert.Equal("cursor", (await Assert.ThrowsAsync<ValidationException>(() => _s.Incidents.ListAsync(null, 10, "garbage!"))).Field);
    }

    [Fact]
    public async Task The_opener_relays_every_change_to_observers()
    {
        var observer = new RecordingObserver();
        await using var s = new IncidentTestServicesWithObserver(observer);
        await s.Services.Opener.StartAsync();
        var i = await s.Services.Incidents.OpenAsync("by hand", "error", ["api"]);
        await s.Services.Incidents.AcknowledgeAsync(i.Id, "alice");
        await observer.WaitAsync(2);
        Assert.Equal([i.Id, i.Id], observer.Ids.Take(2));
        await s.Services.Opener.StopAsync();
    }

    private sealed class RecordingObserver : IIncidentObserver
    {
        private readonly SemaphoreSlim _signal = new(0);
        public System.Collections.Concurrent.ConcurrentQueue<string> Ids { get; } = new();

        public Task IncidentChangedAsync(string incidentId, CancellationToken cancellationToken = default)
        {
            Ids.Enqueue(incidentId);
            _signal.Release();
            return Task.CompletedTask;
        }

        public async Task WaitAsync(int count)
        {
            for (var n = 0; n < count; n++) Assert.True(await _signal.WaitAsync(TimeSpan.FromSeconds(5)), "observer was not told");
        }
    }

    private sealed class IncidentTestServicesWithObserver : IAsyncDisposable
    {
        public IncidentTestServicesWithObserver(IIncidentObserver observer) => Services = new IncidentTestServices(observer: observer);
        public IncidentTestServices Services { get; }
        public ValueTask DisposeAsync() => Services.DisposeAsync();
    }
}
