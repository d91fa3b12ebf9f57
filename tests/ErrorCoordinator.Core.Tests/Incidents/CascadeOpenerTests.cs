using ErrorCoordinator.Core.Incidents;

namespace ErrorCoordinator.Core.Tests.Incidents;

/// <summary>The opener's cascade check on the embedded store and a fake clock.</summary>
public sealed class CascadeOpenerTests : IAsyncLifetime
{
    private readonly IncidentTestServices _s = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => _s.DisposeAsync();

    private async Task CascadeAsync()
    {
        await _s.Correlation.RegisterDependenciesAsync("api", ["postgres"]);
        await _s.Correlation.RegisterDependenciesAsync("web", ["api"]);
        foreach (var (component, type, count) in new[] { ("postgres", "ConnectionRefusedError", 5), ("api", "TimeoutError", 4), ("web", "HTTP503Error", 4) })
        {
            for (var i = 0; i < count; i++)
            {
                _s.Clock.Advance(TimeSpan.FromSeconds(2));
                await _s.ReportAsync(component, type, $"{type} on request {i}");
            }
        }
    }

    [Fact]
    public async Task A_cascade_opens_one_incident_naming_the_root_and_a_second_check_attaches_nothing_new()
    {
        await CascadeAsync();
        Assert.Empty((await _s.Incidents.ListAsync(null, 50, null)).Items);

        var first = Assert.Single(await _s.Opener.CheckCascadesAsync());
        Assert.Equal(SignalResult.Opened, first.Result);
        var incident = await _s.Incidents.GetAsync(first.IncidentId!);
        Assert.Equal(IncidentSources.Cascade, incident.Source);
        Assert.Equal("postgres", incident.SuspectedRootCause);
        Assert.Equal(["postgres", "api", "web"], incident.Components);
        Assert.Equal(13, incident.EventCount);
        Assert.Contains("likely from postgres", incident.Title);

        // One more dependent error: the next check attaches just that one.
        _s.Clock.Advance(TimeSpan.FromSeconds(2));
        var extra = await _s.ReportAsync("web", "HTTP503Error", "HTTP503Error on request 9");
        var second = Assert.Single(await _s.Opener.CheckCascadesAsync());
        Assert.Equal(first.IncidentId, second.IncidentId);
        Assert.Equal(SignalResult.Duplicate, second.Result); // the web error had already joined through its component
        Assert.Contains(extra.EventId, (await _s.Incidents.GetAsync(first.IncidentId!)).EventIds);
        Assert.Single((await _s.Incidents.ListAsync(null, 50, null)).Items);
    }

    [Fact]
    public async Task A_resolved_cascade_that_got_no_new_errors_is_not_opened_again()
    {
        await CascadeAsync();
        var opened = Assert.Single(await _s.Opener.CheckCascadesAsync());
        await _s.Incidents.ResolveAsync(opened.IncidentId!, "failed over", "postgres");
        _s.Clock.Advance(TimeSpan.FromSeconds(30));

        Assert.Empty(await _s.Opener.CheckCascadesAsync());
        var all = (await _s.Incidents.ListAsync(null, 50, null)).Items;
        Assert.Equal(IncidentStatus.Resolved, Assert.Single(all).Status);
    }

    [Fact]
    public async Task Unrelated_noise_opens_nothing()
    {
        foreach (var (component, type) in new[] { ("billing", "KeyError"), ("mailer", "ValidationError"), ("search", "ParseError"), ("auth", "PermissionError") })
        {
            _s.Clock.Advance(TimeSpan.FromSeconds(40));
            await _s.ReportAsync(component, type, type + " once");
        }
        Assert.Empty(await _s.Opener.CheckCascadesAsync());
        Assert.Empty((await _s.Incidents.ListAsync(null, 50, null)).Items);
    }
}
