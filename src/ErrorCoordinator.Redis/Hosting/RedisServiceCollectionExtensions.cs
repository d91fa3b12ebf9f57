using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Retries;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Core.Incidents;
using ErrorCoordinator.Core.Training;
using ErrorCoordinator.Redis.Breakers;
using ErrorCoordinator.Redis.Correlation;
using ErrorCoordinator.Redis.Errors;
using ErrorCoordinator.Redis.Gpu;
using ErrorCoordinator.Redis.Training;
using ErrorCoordinator.Redis.Events;
using ErrorCoordinator.Redis.Retries;
using ErrorCoordinator.Redis.Incidents;
using ErrorCoordinator.Redis.Scripting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Hosting;

/// <summary>Registers the Redis implementations of the storage ports.</summary>
public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// Registers <paramref name="mux"/> (connect it with <see cref="RedisConnector.ConnectAsync(string, TextWriter?, CancellationToken)"/>),
    /// <see cref="KeySchema"/> (prefix from <see cref="StorageOptions.KeyPrefix"/>), <see cref="RedisScripts"/>, and
    /// <see cref="IErrorStore"/> -> <see cref="RedisErrorStore"/>, <see cref="IEventBus"/> -> <see cref="RedisEventBus"/>,
    /// replacing any in-memory registrations. Call it after (or instead of) <c>AddInMemoryStores</c>.
    /// </summary>
    public static IServiceCollection AddRedisStores(this IServiceCollection services, IConnectionMultiplexer mux)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(mux);
        services.AddOptions<StorageOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.RemoveAll<IConnectionMultiplexer>();
        services.AddSingleton(mux);
        services.RemoveAll<KeySchema>();
        services.AddSingleton(sp => new KeySchema(sp.GetRequiredService<IOptions<StorageOptions>>().Value.KeyPrefix));
        services.RemoveAll<RedisScripts>();
        services.AddSingleton<RedisScripts>();
        services.RemoveAll<IErrorStore>();
        services.AddSingleton<IErrorStore, RedisErrorStore>();
        services.RemoveAll<IBreakerStore>();
        services.AddSingleton<IBreakerStore, RedisBreakerStore>();
        services.RemoveAll<IEventBus>();
        services.AddSingleton<IEventBus, RedisEventBus>();
        services.RemoveAll<IDependencyStore>();
        services.AddSingleton<IDependencyStore, RedisDependencyStore>();
        services.RemoveAll<IIncidentStore>();
        services.AddSingleton<IIncidentStore, RedisIncidentStore>();
        services.RemoveAll<ITrainingStore>();
        services.AddSingleton<ITrainingStore, RedisTrainingStore>();
        services.RemoveAll<IHardwareLog>();
        services.AddSingleton<IHardwareLog, RedisHardwareLog>();
        services.RemoveAll<IRetryQueue>();
        services.AddSingleton<IRetryQueue, RedisRetryQueue>();
        return services;
    }
}
