using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Incidents;
using ErrorCoordinator.Core.Tests.Incidents;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Tests.Correlation;

/// <summary>Correlation and incident settings are bound from configuration and refused when out of range.</summary>
public sealed class CorrelationOptionsTests
{
    [Fact]
    public async Task Settings_are_bound_from_their_sections()
    {
        await using var s = new IncidentTestServices(new Dictionary<string, string?>
        {
            ["ErrorCoordinator:Correlation:LinkGapSeconds"] = "90",
            ["ErrorCoordinator:Correlation:MinRepeatedErrors"] = "2",
            ["ErrorCoordinator:Incidents:CascadeCheckSeconds"] = "5",
            ["ErrorCoordinator:Incidents:AutoOpen"] = "false",
        });
        var c = s.Get<IOptions<CorrelationOptions>>().Value;
        Assert.Equal(90, c.LinkGapSeconds);
        Assert.Equal(2, CorrelationSettings.From(c).MinOwnErrors);
        Assert.Equal(TimeSpan.FromSeconds(90), CorrelationSettings.From(c).LinkGap);
        var i = s.Get<IOptions<IncidentOptions>>().Value;
        Assert.Equal(5, i.CascadeCheckSeconds);
        Assert.False(i.AutoOpen);
    }

    [Theory]
    [InlineData("ErrorCoordinator:Correlation:LinkGapSeconds", "0")]
    [InlineData("ErrorCoordinator:Correlation:MaxEvents", "10")]
    [InlineData("ErrorCoordinator:Incidents:MaxOpenIncidents", "0")]
    [InlineData("ErrorCoordinator:Incidents:CascadeCheckSeconds", "99999")]
    public async Task Out_of_range_settings_are_refused(string key, string value)
    {
        await using var s = new IncidentTestServices(new Dictionary<string, string?> { [key] = value });
        var ex = Assert.Throws<OptionsValidationException>(() =>
        {
            _ = s.Get<IOptions<CorrelationOptions>>().Value;
            _ = s.Get<IOptions<IncidentOptions>>().Value;
        });
        Assert.Contains(key.Split(':')[^1], string.Join(" ", ex.Failures));
    }
}
