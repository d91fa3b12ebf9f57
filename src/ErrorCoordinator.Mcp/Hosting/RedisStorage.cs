using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Mcp.Cli;

namespace ErrorCoordinator.Mcp.Hosting;

/// <summary>Wires the Redis stores: connects once at start (one clear error if Redis is unreachable).</summary>
internal static class RedisStorage
{
    public static IServiceCollection AddRedisStorage(this IServiceCollection services, StorageOptions storage)
    {
        throw new StartupException("Redis wiring pending");
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
