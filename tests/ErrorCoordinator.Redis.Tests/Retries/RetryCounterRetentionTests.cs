using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Core.Retries;
using ErrorCoordinator.Redis.Hosting;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace ErrorCoordinator.Redis.Tests.Retries;

/// <summary>Per-agent and per-component gauges in the counters hash last only while that scope has tasks.</summary>
public sealed class RetryCounterRetentionTests(RedisServer server)
{
    [Fact]
    public async Task Gauge_fields_of_a_component_are_removed_once_its_tasks_are_gone()
    {
        var ct = TestContext.Current.CancellationToken;
        var prefix = TestPrefix.New();
        var mux = await RedisTestConnections.SharedAsync(server);
        await using var provider = CoordinationTestServices.Build(TimeProvider.System, new Dictionary<string, string?>
        {
            ["ErrorCoordinator:Storage:KeyPrefix"] = prefix,
            ["ErrorCoordinator:Storage:ChannelPrefix"] = prefix,
        }, services => services.AddRedisStores(mux));
        var retries = provider.GetRequiredService<RetryService>();
        var stats = provider.GetRequiredService<KeySchema>().RetryStats;
        var db = mux.GetDatabase();

        await retries.EnqueueAsync(new RetryRequest { TaskId = "t1", Agent = "a1", Component = "c1", ErrorType = "E", Message = "m", BaseDelayMs = 0 }, ct);
        Assert.Equal(1, (long)await db.HashGetAsync(stats, "pending|c|c1"));
        var t = Assert.Single((await retries.ClaimAsync("w", cancellationToken: ct)).Tasks);
        Assert.False(await db.HashExistsAsync(stats, "pending|c|c1"));
        Assert.Equal(1, (long)await db.HashGetAsync(stats, "inflight|a|a1"));
        await retries.CompleteAsync("t1", t.Lease!, "succeeded", cancellationToken: ct);

        foreach (var field in new[] { "pending", "inflight", "dead" })
            foreach (var scope in new[] { "", "|a|a1", "|c|c1" })
                Assert.False(await db.HashExistsAsync(stats, field + scope), field + scope);
        var counts = (await retries.StatsAsync(component: "c1", cancellationToken: ct)).Counts;
        Assert.Equal(0, counts.Pending);
        Assert.Equal(1, counts.Succeeded);
    }
}
