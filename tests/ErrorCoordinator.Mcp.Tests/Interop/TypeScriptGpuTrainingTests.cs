using System.Runtime.InteropServices;
using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using Xunit;

namespace ErrorCoordinator.Mcp.Tests.Interop;

/// <summary>
/// probe_gpu and report_training_metric through the official TypeScript SDK client (node/ts-gpu-training.mjs), which
/// validates structured content against the output schemas: NaN written as a string and null fields must be allowed.
/// </summary>
public sealed class TypeScriptGpuTrainingTests
{
    [Fact]
    public async Task Http_embedded_store()
    {
        await using var server = await ServerProcess.StartHttpAsync([]);
        var dir = NodeTooling.RequirePackage("@modelcontextprotocol/sdk");
        var result = await NodeTooling.RunAsync(NodeTooling.RequireNode22(), [Path.Combine(dir, "ts-gpu-training.mjs"), "http", server.McpUrl], dir,
            TimeSpan.FromSeconds(120), new Dictionary<string, string?> { ["REDIS_URL"] = null });
        var context = $"{result.Describe()}\n--- server stderr ---\n{server.Stderr}";
        var line = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault(l => l.StartsWith('{'));
        Assert.True(line is not null, $"The TypeScript client printed no JSON summary.\n{context}");
        using var doc = JsonDocument.Parse(line);
        var s = doc.RootElement;
        Assert.True(result.ExitCode == 0 && s.GetProperty("ok").GetBoolean(), $"The TypeScript client reported failures: {s.GetProperty("failures")}\n{context}");
        Assert.Equal(["probe_gpu", "report_training_metric", "report_training_metric", "report_training_metric"],
            s.GetProperty("steps").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal("nan_loss_detected", s.GetProperty("nan").GetProperty("type").GetString());
        if (!NativeLibrary.TryLoad("libnvidia-ml.so.1", out _))
        {
            Assert.False(s.GetProperty("probe").GetProperty("available").GetBoolean());
            Assert.Contains("libnvidia-ml.so.1", s.GetProperty("probe").GetProperty("reason").GetString());
        }
    }
}
