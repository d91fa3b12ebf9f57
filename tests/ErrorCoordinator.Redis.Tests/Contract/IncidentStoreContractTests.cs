using ErrorCoordinator.Core.Storage.InMemory;
using ErrorCoordinator.Redis.Correlation;
using ErrorCoordinator.Redis.Events;
using ErrorCoordinator.Redis.Incidents;
using ErrorCoordinator.Redis.Scripting;
using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Redis.Tests.Contract;

/// <summary>The incident and dependency store contract against a real redis-server; each test its own key prefix.</summary>
public sealed class RedisIncidentStoreContractTests(RedisServer server) : IncidentStoreContractTests
{
    protected override async ValueTask<IncidentStoreHarness> CreateAsync(FakeTimeProvider time, string scope)
    {
        // A fresh connection per harness: a second harness is a second process on the same keys.
        var mux = await RedisTestConnections.NewAsync(server);
        var keys = new KeySchema(scope);
        var scripts = new RedisScripts(mux);
        return new IncidentStoreHarness(new RedisIncidentStore(mux, keys, scripts), new RedisDependencyStore(mux, keys, scripts),
            new RedisEventBus(mux), time, async () => await mux.DisposeAsync());
    }

    /// <summary>Redis expires keys by its own clock: check every TTL that was set is within the retention, then let them run out now.</summary>
    protected override async Task ExpireAsync(TimeSpan after)
    {
        var mux = await RedisTestConnections.SharedAsync(server);
        var db = mux.GetDatabase();
        var endpoint = mux.GetEndPoints()[0];
        var prefix = Scope;
        await foreach (var key in mux.GetServer(endpoint).KeysAsync(pattern: prefix + "*"))
        {
            var ttl = await db.KeyTimeToLiveAsync(key);
            if (ttl is null) continue; // open incidents' keys and the indexes have none
            Assert.True(ttl <= after, $"{key} expires in {ttl}, later than {after}");
            await db.KeyExpireAsync(key, TimeSpan.FromMilliseconds(1));
        }
        await Task.Delay(50);
        await base.ExpireAsync(after);
    }
}

/// <summary>The same contract against the embedded stores.</summary>
public sealed class InMemoryIncidentStoreContractTests : IncidentStoreContractTests
{
    private readonly Dictionary<string, IncidentStoreHarness> _shared = [];

    protected override ValueTask<IncidentStoreHarness> CreateAsync(FakeTimeProvider time, string scope)
    {
        if (_shared.TryGetValue(scope, out var existing)) return ValueTask.FromResult(new IncidentStoreHarness(existing.Incidents, existing.Dependencies, existing.Bus, time));
        var bus = new InMemoryEventBus();
        var h = new IncidentStoreHarness(new InMemoryIncidentStore(bus, time), new InMemoryDependencyStore(), bus, time);
        _shared[scope] = h;
        return ValueTask.FromResult(h);
    }
}
