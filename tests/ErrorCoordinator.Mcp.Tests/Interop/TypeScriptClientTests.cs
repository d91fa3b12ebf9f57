using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ErrorCoordinator.Testing.Redis;
using Xunit;

namespace ErrorCoordinator.Mcp.Tests.Interop;

/// <summary>
/// The official TypeScript SDK client (node/ts-client.mjs) against the real server process, over Streamable HTTP
/// and over stdio. The TS client validates every structuredContent against the tool's outputSchema, so these tests
/// catch output schemas the server advertises but does not honour (e.g. nullable fields listed as required).
/// </summary>
public sealed class TypeScriptClientTests(RedisServer redis)
{
    private static readonly string[] ExpectedTools =
        ["report_failure", "report_failures", "query_errors", "list_error_groups", "get_error_group", "update_error_group",
         "check_breaker", "record_outcome", "trip_breaker", "reset_breaker", "list_breakers", "configure_breaker", "report_agent_status",
         "register_dependencies", "get_dependency_graph", "correlate_errors", "list_incidents", "get_incident", "acknowledge_incident",
         "resolve_incident", "open_incident", "generate_postmortem"];

    private static readonly TimeSpan ScriptTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Http_embedded_store()
    {
        await using var server = await ServerProcess.StartHttpAsync([]);
        var result = await RunClientAsync(["http", server.McpUrl]);
        AssertScenario(result, "http", server.Stderr);
    }

    [Fact]
    public async Task Http_redis_store()
    {
        await using var server = await ServerProcess.StartHttpAsync(["--redis", redis.Configuration, "--key-prefix", TestPrefix.New()]);
        var result = await RunClientAsync(["http", server.McpUrl]);
        AssertScenario(result, "http", server.Stderr);
    }

    [Fact]
    public async Task Stdio_embedded_store()
    {
        var result = await RunClientAsync(["stdio", ServerProcess.ServerDll]);
        AssertScenario(result, "stdio", "(stdio: the server's stderr is in the summary's serverStderr on failure)");
    }

    private static Task<NodeResult> RunClientAsync(string[] args)
    {
        var dir = NodeTooling.RequirePackage("@modelcontextprotocol/sdk");
        var node = NodeTooling.RequireNode22();
        return NodeTooling.RunAsync(node, [Path.Combine(dir, "ts-client.mjs"), .. args], dir, ScriptTimeout,
            new Dictionary<string, string?> { ["REDIS_URL"] = null });
    }

    private static void AssertScenario(NodeResult result, string transport, string serverStderr)
    {
        var context = $"{result.Describe()}\n--- server stderr ---\n{serverStderr}";
        Assert.False(result.TimedOut, $"The TypeScript client did not finish in {ScriptTimeout}.\n{context}");
        var summaryLine = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        Assert.True(summaryLine is not null, $"The TypeScript client printed no JSON summary.\n{context}");
        using var doc = JsonDocument.Parse(summaryLine);
        var s = doc.RootElement;
        Assert.True(result.ExitCode == 0 && s.GetProperty("ok").GetBoolean(),
            $"The TypeScript client reported failures: {s.GetProperty("failures")}\n{context}");

        Assert.Equal(transport, s.GetProperty("transport").GetString());
        var tools = s.GetProperty("tools").EnumerateArray().Select(t => t.GetString()).ToList();
        foreach (var t in ExpectedTools) Assert.Contains(t, tools);

        var first = s.GetProperty("first");
        var second = s.GetProperty("second");
        Assert.True(first.GetProperty("is_new_group").GetBoolean(), context);
        Assert.False(second.GetProperty("is_new_group").GetBoolean(), context);
        Assert.Equal(2, second.GetProperty("group_count").GetInt64());
        Assert.Equal(first.GetProperty("group_id").GetString(), second.GetProperty("group_id").GetString());
        Assert.StartsWith("TimeoutError:", second.GetProperty("signature").GetString());

        Assert.Equal(3, s.GetProperty("listed").GetProperty("count").GetInt64());
        Assert.Equal("open", s.GetProperty("breaker").GetProperty("state").GetString());
        Assert.Equal(3, s.GetProperty("detail").GetProperty("recent_events").GetInt32());

        var invalid = s.GetProperty("invalidSeverity");
        Assert.True(invalid.GetProperty("isError").GetBoolean(), context);
        Assert.Contains("severity", invalid.GetProperty("message").GetString());

        Assert.Equal(
            ["report_failure", "report_failure", "report_failures", "list_error_groups", "get_error_group", "query_errors", "update_error_group",
             "configure_breaker", "check_breaker", "record_outcome", "record_outcome", "check_breaker", "trip_breaker", "list_breakers", "reset_breaker",
             "report_agent_status",
             "register_dependencies", "get_dependency_graph", .. Enumerable.Repeat("report_failure", 8), "correlate_errors", "correlate_errors",
             "open_incident", "list_incidents", "acknowledge_incident", "resolve_incident", "get_incident", "generate_postmortem", "generate_postmortem"],
            s.GetProperty("steps").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }
}
