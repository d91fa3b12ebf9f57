using System.Runtime.InteropServices;
using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>probe_gpu and report_training_metric through a real MCP client; run against the embedded store (stdio) and Redis (HTTP).</summary>
public abstract class GpuTrainingScenarios
{
    protected abstract McpClient Client { get; }

    private static string NewProject() => "proj-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Nan_loss_gives_a_critical_event_in_an_error_group()
    {
        var project = NewProject();
        for (var step = 0; step < 3; step++)
        {
            var normal = await Client.CallAsync("report_training_metric", new { project, run = "r1", step, loss = 2.5 - step * 0.1, grad_norm = 1.2, learning_rate = 3e-4 });
            Assert.Equal(0, normal.GetProperty("anomalies").GetArrayLength());
            Assert.Equal(["anomalies"], normal.EnumerateObject().Select(p => p.Name));
        }

        var result = await Client.CallAsync("report_training_metric", new { project, run = "r1", step = 3, loss = "NaN" });
        var anomaly = Assert.Single(result.GetProperty("anomalies").EnumerateArray());
        Assert.Equal("nan_loss_detected", anomaly.GetProperty("type").GetString());
        Assert.Equal("critical", anomaly.GetProperty("severity").GetString());
        Assert.Equal("stop_training", anomaly.GetProperty("recommended_action").GetString());
        Assert.Equal("check data quality and model architecture", anomaly.GetProperty("advice").GetString());
        Assert.Equal("NaN", anomaly.GetProperty("value").GetString());
        Assert.False(anomaly.GetProperty("recoverable").GetBoolean());

        // The group is shared: every non-finite loss of any project or run joins it (another test's -Infinity may be in it).
        var group = await Client.CallAsync("get_error_group", new { group_id = anomaly.GetProperty("group_id").GetString(), samples = 100 });
        Assert.True(group.GetProperty("group").GetProperty("count").GetInt64() >= anomaly.GetProperty("group_count").GetInt64());
        Assert.True(anomaly.GetProperty("group_count").GetInt64() >= 1);
        Assert.Equal("critical", group.GetProperty("group").GetProperty("severity").GetString());
        var e = Assert.Single(group.GetProperty("recent_events").EnumerateArray(), x => x.GetProperty("event_id").GetString() == anomaly.GetProperty("event_id").GetString());
        Assert.Equal("training", e.GetProperty("kind").GetString());
        Assert.Equal(project, e.GetProperty("project").GetString());
        Assert.Equal("nan_loss_detected", e.GetProperty("error_type").GetString());
        var retention = e.GetProperty("expires_at").GetDateTimeOffset() - e.GetProperty("occurred_at").GetDateTimeOffset();
        Assert.Equal(TimeSpan.FromDays(30), retention);

        // The project's training log (resource) holds the anomaly with its event id and the NaN value.
        var resource = await Client.ReadResourceAsync($"training://{project}/log", cancellationToken: TestContext.Current.CancellationToken);
        var text = Assert.IsType<ModelContextProtocol.Protocol.TextResourceContents>(Assert.Single(resource.Contents)).Text;
        using var log = JsonDocument.Parse(text);
        var entry = Assert.Single(log.RootElement.EnumerateArray());
        Assert.Equal(anomaly.GetProperty("event_id").GetString(), entry.GetProperty("event_id").GetString());
        Assert.Equal(("r1", 3L, "NaN"), (entry.GetProperty("run").GetString(), entry.GetProperty("step").GetInt64(), entry.GetProperty("value").GetString()));
    }

    [Fact]
    public async Task Infinity_strings_and_a_loss_over_the_ceiling_are_anomalies()
    {
        var project = NewProject();
        var inf = await Client.CallAsync("report_training_metric", new { project, step = 1, loss = "-Infinity" });
        Assert.Equal("-Infinity", Assert.Single(inf.GetProperty("anomalies").EnumerateArray()).GetProperty("value").GetString());

        var grad = await Client.CallAsync("report_training_metric", new { project, step = 2, loss = 2.0, grad_norm = "Infinity" });
        var g = Assert.Single(grad.GetProperty("anomalies").EnumerateArray());
        Assert.Equal(("gradient_explosion", "grad_norm", "reduce_learning_rate"),
            (g.GetProperty("type").GetString(), g.GetProperty("metric").GetString(), g.GetProperty("recommended_action").GetString()));

        var ceiling = await Client.CallAsync("report_training_metric", new { project, step = 3, loss = 250.0 });
        var c = Assert.Single(ceiling.GetProperty("anomalies").EnumerateArray());
        Assert.Equal(("gradient_explosion", "ceiling", 250.0), (c.GetProperty("type").GetString(), c.GetProperty("reason").GetString(), c.GetProperty("value").GetDouble()));
    }

    [Fact]
    public async Task Bad_metric_input_is_a_tool_error_naming_the_field()
    {
        var project = NewProject();
        Assert.Contains("'step'", await Client.CallFailingAsync("report_training_metric", new { project, step = -1, loss = 1.0 }));
        Assert.Contains("'grad_norm'", await Client.CallFailingAsync("report_training_metric", new { project, step = 1, loss = 1.0, grad_norm = -2.0 }));
        Assert.Contains("'project'", await Client.CallFailingAsync("report_training_metric", new { project = "", step = 1, loss = 1.0 }));
        var badLoss = await Client.CallFailingAsync("report_training_metric", new { project, step = 1, loss = "nan-ish" });
        Assert.Contains("'loss' must be a JSON number or one of the strings \"NaN\", \"Infinity\", \"-Infinity\"; got \"nan-ish\"", badLoss);
        Assert.Contains("'grad_norm'", await Client.CallFailingAsync("report_training_metric", new { project, step = 1, loss = 1.0, grad_norm = new { x = 1 } }));
    }

    [Fact]
    public async Task The_tools_describe_their_schema_and_annotations()
    {
        var tools = await Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var metric = Assert.Single(tools, t => t.Name == "report_training_metric");
        var loss = metric.JsonSchema.GetProperty("properties").GetProperty("loss");
        // A number, or one of the three named literals, with the parameter's description.
        var anyOf = loss.GetProperty("anyOf").EnumerateArray().ToArray();
        Assert.Equal("number", anyOf[0].GetProperty("type").GetString());
        Assert.Equal(["NaN", "Infinity", "-Infinity"], anyOf[1].GetProperty("enum").EnumerateArray().Select(x => x.GetString()!));
        Assert.Contains("NaN", loss.GetProperty("description").GetString());
        Assert.True(metric.JsonSchema.GetProperty("properties").GetProperty("grad_norm").TryGetProperty("anyOf", out _));
        Assert.Equal(["loss", "project", "step"], metric.JsonSchema.GetProperty("required").EnumerateArray().Select(x => x.GetString()!).Order());
        Assert.False(metric.ProtocolTool.Annotations!.ReadOnlyHint);
        Assert.NotNull(metric.ProtocolTool.OutputSchema);

        var probe = Assert.Single(tools, t => t.Name == "probe_gpu");
        Assert.True(probe.ProtocolTool.Annotations!.ReadOnlyHint);
        Assert.True(probe.ProtocolTool.Annotations.IdempotentHint);
        Assert.False(probe.ProtocolTool.Annotations.DestructiveHint);
        Assert.NotNull(probe.ProtocolTool.OutputSchema);
    }

    [Fact]
    public async Task Probe_gpu_without_nvml_answers_available_false_with_the_reason()
    {
        Assert.SkipWhen(NativeLibrary.TryLoad("libnvidia-ml.so.1", out _), "libnvidia-ml.so.1 loads on this host; tests/gpu-check.sh covers probe_gpu there");
        var result = await Client.CallAsync("probe_gpu", new { });
        Assert.False(result.GetProperty("available").GetBoolean());
        Assert.Contains("libnvidia-ml.so.1 could not be loaded", result.GetProperty("reason").GetString());
        Assert.Equal(0, result.GetProperty("gpus").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("driver_version").ValueKind);

        // The watch turned itself off: nothing in the hardware log.
        var hardware = await Client.ReadResourceAsync("gpu://hardware-log", cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("[]", Assert.IsType<ModelContextProtocol.Protocol.TextResourceContents>(Assert.Single(hardware.Contents)).Text);

        var one = await Client.CallAsync("probe_gpu", new { index = 0 });
        Assert.False(one.GetProperty("available").GetBoolean());
        Assert.Contains("'index'", await Client.CallFailingAsync("probe_gpu", new { index = -1 }));
    }
}

public sealed class StdioGpuTrainingTests(StdioServerFixture server) : GpuTrainingScenarios, IClassFixture<StdioServerFixture>
{
    protected override McpClient Client => server.Client;
}

public sealed class RedisHttpGpuTrainingTests(RedisHttpServerFixture fixture) : GpuTrainingScenarios, IClassFixture<RedisHttpServerFixture>
{
    protected override McpClient Client => fixture.Client;
}
