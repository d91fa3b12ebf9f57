using System.Text.Json;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ErrorCoordinator.Mcp.Tests.Infrastructure;

/// <summary>Real MCP clients (the C# SDK's McpClient) connected to the built server.</summary>
public static class McpClients
{
    public static Task<McpClient> StdioAsync(params string[] args) => StdioAsync(args, null);

    public static async Task<McpClient> StdioAsync(string[] args, IDictionary<string, string?>? env)
    {
        var (command, arguments) = ServerProcess.Launch(args);
        var environment = new Dictionary<string, string?> { ["REDIS_URL"] = null };
        foreach (var (k, v) in env ?? new Dictionary<string, string?>()) environment[k] = v;
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "error-coordinator",
            Command = command,
            Arguments = arguments,
            EnvironmentVariables = environment,
        });
        return await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
    }

    public static async Task<McpClient> HttpAsync(ServerProcess server)
    {
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(server.McpUrl),
            TransportMode = HttpTransportMode.StreamableHttp,
        });
        return await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <summary>Calls a tool and returns its structured content; fails the test if the call reports an error.</summary>
    public static async Task<JsonElement> CallAsync(this McpClient client, string tool, object arguments)
    {
        var result = await client.CallToolAsync(tool, ToArguments(arguments), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.IsError != true, $"{tool} failed: {Text(result)}");
        Assert.NotNull(result.StructuredContent);
        Assert.False(string.IsNullOrWhiteSpace(Text(result)), $"{tool} returned no human-readable text");
        return JsonSerializer.SerializeToElement(result.StructuredContent);
    }

    /// <summary>Calls a tool that must fail and returns the error text the client sees.</summary>
    public static async Task<string> CallFailingAsync(this McpClient client, string tool, object arguments)
    {
        var result = await client.CallToolAsync(tool, ToArguments(arguments), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.IsError == true, $"{tool} should have failed but returned: {Text(result)}");
        return Text(result);
    }

    public static string Text(CallToolResult result) => string.Join("\n", result.Content.OfType<TextContentBlock>().Select(t => t.Text));

    private static Dictionary<string, object?> ToArguments(object arguments) =>
        arguments as Dictionary<string, object?> ??
        JsonSerializer.Deserialize<Dictionary<string, object?>>(JsonSerializer.Serialize(arguments))!;
}
