using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Testing.Contract;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Core.Tests.Breakers;

/// <summary>The embedded store's retention, which follows the fake clock (Redis keys use real TTLs: see the Redis tests).</summary>
public sealed class InMemoryBreakerRetentionTests
{
    private static (ServiceProvider, BreakerService, FakeTimeProvider) Build(Dictionary<string, string?> settings)
    {
        var time = new FakeTimeProvider(TestServices.Start);
        var sp = CoordinationTestServices.Build(time, settings);
        return (sp, sp.GetRequiredService<BreakerService>(), time);
    }

    [Fact]
    public async Task An_idle_breaker_is_forgotten_after_the_retention_counted_from_the_end_of_its_break()
    {
        var (sp, breakers, time) = Build(new() { ["ErrorCoordinator:Breakers:IdleRetention"] = "1.00:00:00" });
        using var _ = sp;
        await breakers.OpenAsync("long-break", "outage", TimeSpan.FromDays(2));
        await breakers.RecordOutcomeAsync(new BreakerOutcome { Component = "quiet", Success = false });
        await breakers.TripAsync("isolated", "decommissioned");

        time.Advance(TimeSpan.FromDays(1.5));
        Assert.Equal(BreakerState.Open, (await breakers.GetAsync("long-break")).State); // still inside its break
        Assert.Equal(0, (await breakers.GetAsync("quiet")).ConsecutiveFailures);         // idle a day and a half: forgotten

        time.Advance(TimeSpan.FromDays(2));
        var forgotten = await breakers.GetAsync("long-break"); // break ended on day 2, idle one day since
        Assert.Equal(BreakerState.Closed, forgotten.State);
        Assert.Equal(0, forgotten.Trips);
        Assert.Equal(BreakerState.Isolated, (await breakers.GetAsync("isolated")).State);
    }

    [Fact]
    public async Task At_the_count_cap_a_closed_breaker_is_forgotten_before_an_isolated_one()
    {
        var (sp, breakers, time) = Build(new() { ["ErrorCoordinator:Breakers:MaxBreakers"] = "10" });
        using var _ = sp;
        await breakers.TripAsync("isolated", "decommissioned");
        for (var i = 0; i < 30; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await breakers.RecordOutcomeAsync(new BreakerOutcome { Component = $"c{i}", Success = true });
        }
        Assert.Equal(BreakerState.Isolated, (await breakers.GetAsync("isolated")).State);
        Assert.Equal(10, (await breakers.ListAsync(limit: 500)).Items.Count);
    }
}
