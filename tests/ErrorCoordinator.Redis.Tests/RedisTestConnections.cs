using System.Collections.Concurrent;
using ErrorCoordinator.Redis;
using ErrorCoordinator.Testing.Redis;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Tests;

/// <summary>One shared multiplexer per test server (connecting is the slow part), plus fresh ones when a test needs several.</summary>
internal static class RedisTestConnections
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<IConnectionMultiplexer>>> Shared = new();

    public static Task<IConnectionMultiplexer> SharedAsync(RedisServer server) =>
        Shared.GetOrAdd(server.Configuration, c => new Lazy<Task<IConnectionMultiplexer>>(() => RedisConnector.ConnectAsync(c))).Value;

    public static Task<IConnectionMultiplexer> NewAsync(RedisServer server) => RedisConnector.ConnectAsync(server.Configuration);

    /// <summary>Options that allow admin commands (SCRIPT FLUSH) for tests.</summary>
    public static async Task<IConnectionMultiplexer> AdminAsync(RedisServer server)
    {
        var options = RedisConnector.Parse(server.Configuration);
        options.AllowAdmin = true;
        return await RedisConnector.ConnectAsync(options);
    }
}
