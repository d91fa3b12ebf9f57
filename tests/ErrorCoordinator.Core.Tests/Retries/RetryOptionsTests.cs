using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Retries;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Core.Tests.Retries;

public sealed class RetryOptionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings, TimeProvider? time = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        if (time is not null) services.AddSingleton(time);
        services.AddErrorReporting(configuration);
        services.AddBreakers(configuration);
        services.AddRetries(configuration);
        services.AddInMemoryStores();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    [Fact]
    public async Task Settings_come_from_configuration()
    {
        var clock = new FakeTimeProvider(TestServices.Start);
        using var sp = Build(new()
        {
            ["ErrorCoordinator:Retries:DefaultMaxAttempts"] = "5",
            ["ErrorCoordinator:Retries:DefaultBaseDelayMs"] = "250",
            ["ErrorCoordinator:Retries:BudgetRatio"] = "0.2",
            ["ErrorCoordinator:Retries:BudgetMinRetriesPerMinute"] = "0",
        }, clock);
        var o = sp.GetRequiredService<IOptions<RetryOptions>>().Value;
        Assert.Equal(5, o.DefaultMaxAttempts);
        Assert.Equal(RetryDefaults.DeadLetterMaxCount, o.DeadLetterMaxCount);
        Assert.Equal(TimeSpan.FromDays(30), o.DeadLetterMaxAge);

        // With no minimum, a component without outcomes gets no retries; 10 outcomes at 20% allow 2.
        var retries = sp.GetRequiredService<RetryService>();
        var breakers = sp.GetRequiredService<BreakerService>();
        RetryRequest R(string id) => new() { TaskId = id, Agent = "a", Component = "db", ErrorType = "E", Message = "m", Backoff = "constant" };
        Assert.Equal(EnqueueStatus.BudgetExhausted, (await retries.EnqueueAsync(R("t0"))).Status);
        for (var i = 0; i < 10; i++) await breakers.RecordOutcomeAsync(new BreakerOutcome { Component = "db", Success = true });
        clock.Advance(TimeSpan.FromSeconds(1)); // past the 1 s reuse of the outcome count
        var first = await retries.EnqueueAsync(R("t1"));
        Assert.Equal(EnqueueStatus.Scheduled, first.Status);
        Assert.Equal(5, first.Task!.MaxAttempts);
        Assert.Equal(TestServices.Start.AddSeconds(1).AddMilliseconds(250), first.Task.RetryAt);
        Assert.Equal(EnqueueStatus.Scheduled, (await retries.EnqueueAsync(R("t2"))).Status);
        var third = await retries.EnqueueAsync(R("t3"));
        Assert.Equal(EnqueueStatus.BudgetExhausted, third.Status);
        Assert.Equal(2, third.Budget!.Allowed);
    }

    [Theory]
    [InlineData("ErrorCoordinator:Retries:BudgetRatio", "1.5")]
    [InlineData("ErrorCoordinator:Retries:DefaultMaxAttempts", "101")]
    [InlineData("ErrorCoordinator:Retries:DefaultBaseDelayMs", "400000")] // above the default cap of 300000
    [InlineData("ErrorCoordinator:Retries:DeadLetterMaxCount", "0")]
    [InlineData("ErrorCoordinator:Retries:DeadLetterMaxAge", "00:00:00")]
    [InlineData("ErrorCoordinator:Retries:PoisonDistinctWorkers", "1")]
    [InlineData("ErrorCoordinator:Retries:OutcomeCountCacheTtl", "00:05:00")]
    public void An_invalid_setting_stops_the_start(string key, string value)
    {
        using var sp = Build(new() { [key] = value });
        Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<RetryOptions>>().Value);
    }
}
