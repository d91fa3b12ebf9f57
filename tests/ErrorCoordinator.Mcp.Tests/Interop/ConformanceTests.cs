using System.Text.RegularExpressions;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using Xunit;

namespace ErrorCoordinator.Mcp.Tests.Interop;

/// <summary>One HTTP server (embedded store) shared by the conformance scenarios; each scenario opens its own session.</summary>
public sealed class ConformanceServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await ServerProcess.StartHttpAsync([]);

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
    }
}

/// <summary>
/// The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, pinned in node/package.json; needs
/// Node 22) against the real server over Streamable HTTP, one scenario per case. A scenario passes only when the CLI
/// exits 0 and reports no FAILURE and no WARNING check (the CLI itself exits 0 on warnings).
/// </summary>
public sealed partial class ConformanceTests(ConformanceServerFixture fixture) : IClassFixture<ConformanceServerFixture>
{
    private const string Package = "@modelcontextprotocol/conformance";
    private static readonly TimeSpan ScenarioTimeout = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData("server-initialize")]
    [InlineData("ping")]
    [InlineData("tools-list")]
    [InlineData("resources-list")]
    [InlineData("prompts-list")]
    [InlineData("logging-set-level")]
    [InlineData("server-sse-multiple-streams")]
    [InlineData("dns-rebinding-protection")]
    public async Task Scenario_passes(string scenario)
    {
        var dir = NodeTooling.RequirePackage(Package);
        var node = NodeTooling.RequireNode22();
        var cli = Path.Combine(dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
        Assert.True(File.Exists(cli), $"The conformance CLI is missing: {cli}");
        Assert.False(fixture.Server.HasExited, $"The server exited.\n{fixture.Server.Stderr}");

        var result = await NodeTooling.RunAsync(node, [cli, "server", "--url", fixture.Server.McpUrl, "--scenario", scenario], dir, ScenarioTimeout);

        var output = result.Stdout + result.Stderr;
        var context = $"conformance scenario '{scenario}' against {fixture.Server.McpUrl}: {result.Describe()}\n--- server stderr (tail) ---\n{Tail(fixture.Server.Stderr)}";
        Assert.False(result.TimedOut, $"Timed out after {ScenarioTimeout}.\n{context}");
        Assert.True(result.ExitCode == 0, $"The conformance CLI exited {result.ExitCode}.\n{context}");
        var bad = output.Split('\n').Where(l => BadCheck().IsMatch(l)).ToList();
        Assert.True(bad.Count == 0, $"The scenario reported {bad.Count} FAILURE/WARNING check(s):\n{string.Join("\n", bad)}\n{context}");
        var totals = Totals().Match(output);
        Assert.True(totals.Success, $"No 'Passed: N/N, 0 failed, 0 warnings' line.\n{context}");
        Assert.True(int.Parse(totals.Groups["passed"].Value) >= 1 && totals.Groups["passed"].Value == totals.Groups["total"].Value,
            $"Not every check passed: '{totals.Value}'.\n{context}");
    }

    private static string Tail(string s) => s.Length <= 4000 ? s : s[^4000..];

    [GeneratedRegex(@"\b(FAILURE|WARNING)\b")]
    private static partial Regex BadCheck();

    [GeneratedRegex(@"Passed: (?<passed>\d+)/(?<total>\d+), 0 failed, 0 warnings")]
    private static partial Regex Totals();
}
