using ErrorCoordinator.Redis.Hosting;
using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace ErrorCoordinator.Redis.Tests.Contract;

/// <summary>The retry-queue contract against a real redis-server (the Lua scripts), each test under its own key prefix.</summary>
public sealed class RedisRetryQueueContractTests(RedisServer server) : RetryQueueContractTests
{
    protected override async ValueTask RegisterStoreAsync(IServiceCollection services, string keyPrefix) =>
        services.AddRedisStores(await RedisTestConnections.SharedAsync(server));
}

/// <summary>The same contract against the embedded store.</summary>
public sealed class InMemoryRetryQueueContractTests : RetryQueueContractTests
{
    protected override ValueTask RegisterStoreAsync(IServiceCollection services, string keyPrefix) => ValueTask.CompletedTask;
}
