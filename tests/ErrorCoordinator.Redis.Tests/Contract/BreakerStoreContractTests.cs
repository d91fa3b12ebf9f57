using ErrorCoordinator.Redis.Hosting;
using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace ErrorCoordinator.Redis.Tests.Contract;

/// <summary>The breaker contract against a real redis-server (the Lua scripts), each test under its own key prefix.</summary>
public sealed class RedisBreakerContractTests(RedisServer server) : BreakerContractTests
{
    protected override async ValueTask RegisterStoreAsync(IServiceCollection services, string keyPrefix) =>
        services.AddRedisStores(await RedisTestConnections.SharedAsync(server));
}

/// <summary>The same contract against the embedded store.</summary>
public sealed class InMemoryBreakerContractTests : BreakerContractTests
{
    protected override ValueTask RegisterStoreAsync(IServiceCollection services, string keyPrefix) => ValueTask.CompletedTask;
}
