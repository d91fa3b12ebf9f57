using ErrorCoordinator.Redis.Errors;
using ErrorCoordinator.Redis.Events;
using ErrorCoordinator.Redis.Scripting;
using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Redis.Tests.Contract;

/// <summary>The error store contract against a real redis-server; every test gets its own key prefix.</summary>
public sealed class RedisErrorStoreContractTests(RedisServer server) : ErrorStoreContractTests
{
    protected override async ValueTask<ErrorStoreHarness> CreateAsync(FakeTimeProvider time, string channelPrefix)
    {
        var mux = await RedisTestConnections.SharedAsync(server);
        var keys = new KeySchema(TestPrefix.New());
        var store = new RedisErrorStore(mux, keys, new RedisScripts(mux), time);
        return new ErrorStoreHarness(store, new RedisEventBus(mux), time, channelPrefix);
    }
}
