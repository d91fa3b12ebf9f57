using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ErrorCoordinator.Testing.Redis;

namespace ErrorCoordinator.Mcp.Tests.Interop;

/// <summary>
/// The retry-queue tools through the official TypeScript SDK client (Interop/node/retry-client.mjs), which checks every
/// structured result against its output schema: nullable fields listed as required would make it throw.
/// </summary>
public sealed class RetryTypeScriptClientTests(RedisServer redis)
{
    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Http_embedded_store()
    {
        await using var server = await ServerProcess.StartHttpAsync([]);
        AssertScenario(await RunAsync(server), server.Stderr);
    }

    [Fact]
    public async Task Http_redis_store()
    {
        await using var server = await ServerProcess.StartHttpAsync(["--redis", redis.Configuration, "--key-prefix", TestPrefix.New()]);
        AssertScenario(await RunAsync(server), server.Stderr);
    }

    private static Task<NodeResult> RunAsync(ServerProcess server)
    {
        var dir = NodeTooling.RequirePackage("@modelcontextprotocol/sdk");
        var node = NodeTooling.RequireNode22();
        return NodeTooling.RunAsync(node, [Path.Combine(dir, "retry-client.mjs"), "http", server.McpUrl], dir, ScriptTimeout,
            new Dictionary<string, string?> { ["REDIS_URL"] = null });
    }

    private static void AssertScenario(NodeResult result, string serverStderr)
    {
        var context = $"{result.Describe()}\n--- server stderr ---\n{serverStderr}";
        Assert.False(result.TimedOut, $"The TypeScript client did not finish in {ScriptTimeout}.\n{context}");
        var line = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        Assert.True(line is not null, $"The TypeScript client printed no JSON summary.\n{context}");
        using var doc = JsonDocument.Parse(line);
        var s = doc.RootElement;
        Assert.True(result.ExitCode == 0 && s.GetProperty("ok").GetBoolean(),
            $"failures: {string.Join("; ", s.GetProperty("failures").EnumerateArray().Select(f => f.GetString()))}\n{context}");
        Assert.Contains("purge_dead_letters", s.GetProperty("steps").EnumerateArray().Select(e => e.GetString()));
    }
}
