using ErrorCoordinator.Testing.Redis;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.Infrastructure;

/// <summary>
/// Two server processes over HTTP on one real Redis, as two machines of a fleet would run them, with a key and channel
/// prefix of their own and MCP sessions spread over both (session i talks to process i % 2).
/// </summary>
public sealed class TwoServers : IAsyncDisposable
{
    private TwoServers(string prefix, string redis)
    {
        Prefix = prefix;
        Args = ["--redis", redis, "--key-prefix", prefix, "--set", $"ErrorCoordinator:Storage:ChannelPrefix={prefix}"];
    }

    public string Prefix { get; }

    /// <summary>The server arguments both processes run with (for a third process, e.g. over stdio).</summary>
    public string[] Args { get; }

    public ServerProcess One { get; private set; } = null!;
    public ServerProcess Two { get; private set; } = null!;
    public IReadOnlyList<McpClient> Clients { get; private set; } = [];
    public McpClient ClientOne => Clients[0];
    public McpClient ClientTwo => Clients[1];

    public static async Task<TwoServers> StartAsync(RedisServer redis, int sessions = 2)
    {
        var fleet = new TwoServers(TestPrefix.New(), redis.Configuration);
        var one = ServerProcess.StartHttpAsync(fleet.Args);
        var two = ServerProcess.StartHttpAsync(fleet.Args);
        fleet.One = await one;
        fleet.Two = await two;
        fleet.Clients = await Task.WhenAll(Enumerable.Range(0, Math.Max(2, sessions)).Select(i => McpClients.HttpAsync(i % 2 == 0 ? fleet.One : fleet.Two)));
        return fleet;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in Clients) await c.DisposeAsync();
        if (One is not null) await One.DisposeAsync();
        if (Two is not null) await Two.DisposeAsync();
    }
}
