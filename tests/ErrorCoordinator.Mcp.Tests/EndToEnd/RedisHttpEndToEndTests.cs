using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ErrorCoordinator.Testing.Redis;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>An HTTP server process on the real Redis store, with its own key prefix.</summary>
public sealed class RedisHttpServerFixture(RedisServer redis) : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;
    public McpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await ServerProcess.StartHttpAsync(["--redis", redis.Configuration, "--key-prefix", TestPrefix.New()]);
        Client = await McpClients.HttpAsync(Server);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>Every reporting scenario again, with state in Redis (odd names included: they must not break the key schema).</summary>
public sealed class RedisHttpEndToEndTests(RedisHttpServerFixture fixture) : ReportingScenarios, IClassFixture<RedisHttpServerFixture>
{
    protected override McpClient Client => fixture.Client;
}
