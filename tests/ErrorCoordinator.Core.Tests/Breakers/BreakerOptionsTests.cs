using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Testing.Contract;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Tests.Breakers;

public sealed class BreakerOptionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        return CoordinationTestServices.Build(TimeProvider.System, settings);
    }

    [Fact]
    public void The_default_policy_and_crash_rule_come_from_configuration()
    {
        using var sp = Build(new()
        {
            ["ErrorCoordinator:Breakers:Default:FailureRatio"] = "0.3",
            ["ErrorCoordinator:Breakers:Default:HalfOpenPermits"] = "2",
            ["ErrorCoordinator:Breakers:CrashThreshold"] = "3",
        });
        var service = sp.GetRequiredService<BreakerService>();
        var p = service.DefaultsFor("payments");
        Assert.Equal(0.3, p.FailureRatio);
        Assert.Equal(2, p.HalfOpenPermits);
        Assert.Equal(10, p.MinimumThroughput);
        var agent = service.DefaultsFor("agent:loader");
        Assert.Equal(3, agent.FailureCount);
        Assert.Equal(600, agent.SamplingSeconds);
        Assert.Equal(0.3, agent.FailureRatio);
        Assert.Same(agent, service.DefaultsFor("agent:other")); // computed once
    }

    [Theory]
    [InlineData("ErrorCoordinator:Breakers:Default:FailureRatio", "1.5")]
    [InlineData("ErrorCoordinator:Breakers:Default:BreakSeconds", "900")] // above MaxBreakSeconds 300
    [InlineData("ErrorCoordinator:Breakers:Default:HalfOpenPermits", "0")]
    [InlineData("ErrorCoordinator:Breakers:CrashThreshold", "0")]
    public void An_invalid_default_stops_the_start(string key, string value)
    {
        using var sp = Build(new() { [key] = value });
        Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<BreakerOptions>>().Value);
    }
}
