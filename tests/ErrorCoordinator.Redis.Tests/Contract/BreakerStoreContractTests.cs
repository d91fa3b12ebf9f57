using ErrorCoordinator.Redis.Hosting;
using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace ErrorCoordinator.Redis.Tests.Contract;

/// <summary>The breaker contract against a real redis-server (the Lua scripts), each test under its own key prefix.</summary>
public sealed class RedisBreakerContractTests(RedisServer server) : BreakerContractTests
{
    protected override async ValueTask<Action<IServiceCollection>?> StoreAsync()
    {
        var mux = await RedisTestConnections.SharedAsync(server);
        return services => services.AddRedisStores(mux);
    }
}

/// <summary>The same contract against the embedded store.</summary>
public sealed class InMemoryBreakerContractTests : BreakerContractTests
{
    protected override ValueTask<Action<IServiceCollection>?> StoreAsync() => ValueTask.FromResult<Action<IServiceCollection>?>(null);
}

/// <summary>Retention of breaker keys in Redis (real TTLs, which the fake clock does not drive).</summary>
public sealed class RedisBreakerRetentionTests(RedisServer server)
{
    [Fact]
    public async Task Keys_expire_after_idle_retention_counted_from_the_end_of_a_break_and_never_during_an_isolation_until_reset()
    {
        var prefix = TestPrefix.New();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var mux = await RedisTestConnections.SharedAsync(server);
        await using var provider = CoordinationTestServices.Build(time, new Dictionary<string, string?>
        {
            ["ErrorCoordinator:Storage:KeyPrefix"] = prefix,
            ["ErrorCoordinator:Breakers:IdleRetention"] = "02:00:00",
        }, services => services.AddRedisStores(mux));
        var breakers = provider.GetRequiredService<Core.Breakers.BreakerService>();
        var keys = new KeySchema(prefix);
        var db = mux.GetDatabase();
        var ct = TestContext.Current.CancellationToken;

        await breakers.RecordOutcomeAsync(new Core.Breakers.BreakerOutcome { Component = "closed-one", Success = true }, ct);
        var closedTtl = await db.KeyTimeToLiveAsync(keys.BreakerKeys("closed-one")[0]);
        Assert.InRange(closedTtl!.Value.TotalMinutes, 119, 120);

        await breakers.OpenAsync("opened", "outage", TimeSpan.FromHours(3), cancellationToken: ct);
        foreach (var key in keys.BreakerKeys("opened").Take(1).Append(keys.BreakerKeys("opened")[5]))
            Assert.InRange((await db.KeyTimeToLiveAsync(key))!.Value.TotalMinutes, 299, 300); // 3 h break + 2 h idle

        await breakers.ConfigureAsync("isolated", new Core.Breakers.BreakerPolicyUpdate { BreakSeconds = 5 }, ct);
        await breakers.TripAsync("isolated", "decommissioned", cancellationToken: ct);
        await breakers.ConfigureAsync("isolated", new Core.Breakers.BreakerPolicyUpdate { BreakSeconds = 6 }, ct);
        foreach (var key in keys.BreakerKeys("isolated"))
            if (await db.KeyExistsAsync(key)) Assert.Null(await db.KeyTimeToLiveAsync(key)); // no expiry while isolated until reset
        await breakers.ResetAsync("isolated", cancellationToken: ct);
        Assert.InRange((await db.KeyTimeToLiveAsync(keys.BreakerKeys("isolated")[0]))!.Value.TotalMinutes, 119, 120);
    }
}
