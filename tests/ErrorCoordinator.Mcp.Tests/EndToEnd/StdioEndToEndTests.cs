using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>One stdio server process (the built executable, embedded store) shared by the class.</summary>
public sealed class StdioServerFixture : IAsyncLifetime
{
    public McpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Client = await McpClients.StdioAsync();

    public async ValueTask DisposeAsync() => await Client.DisposeAsync();
}

public sealed class StdioEndToEndTests(StdioServerFixture server) : ReportingScenarios, IClassFixture<StdioServerFixture>
{
    protected override McpClient Client => server.Client;
}
