using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Mcp.Cli;
using ErrorCoordinator.Redis;
using ErrorCoordinator.Redis.Hosting;
using StackExchange.Redis;

namespace ErrorCoordinator.Mcp.Hosting;

/// <summary>Wires the Redis stores: connects once at start (one clear error if Redis is unreachable).</summary>
internal static class RedisStorage
{
    public static IServiceCollection AddRedisStorage(this IServiceCollection services, StorageOptions storage)
    {
        IConnectionMultiplexer mux;
        try
        {
            mux = RedisConnector.ConnectAsync(storage.Redis!).GetAwaiter().GetResult();
        }
        catch (RedisUnavailableException ex)
        {
            throw new StartupException(ex.Message + " Check --redis / REDIS_URL, or run without them to use the embedded store.");
        }
        catch (ArgumentException ex)
        {
            throw new StartupException($"invalid Redis connection '{RedisTarget.Describe(storage.Redis!)}': {ex.Message}");
        }
        return services.AddRedisStores(mux);
    }
}

/// <summary>Describes a Redis target without its password, for logs.</summary>
internal static class RedisTarget
{
    public static string Describe(string redis)
    {
        if (Uri.TryCreate(redis, UriKind.Absolute, out var uri) && uri.Scheme is "redis" or "rediss")
            return $"{uri.Scheme}://{uri.Host}:{(uri.Port > 0 ? uri.Port : 6379)}{uri.AbsolutePath.TrimEnd('/')}";
        var first = redis.Split(',')[0];
        return first;
    }
}
