using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>The failure-reporting scenarios, run through a real MCP client over each transport.</summary>
public abstract class ReportingScenarios
{
    protected abstract McpClient Client { get; }

    /// <summary>A name unique to this run, so tests sharing a server don't see each other's groups.</summary>
    protected static string Unique(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    [Fact]
    public async Task Tools_are_listed_with_descriptions_schemas_and_truthful_annotations()
    {
        var tools = (await Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).ToDictionary(t => t.Name);
        string[] expected = ["report_failure", "report_failures", "query_errors", "list_error_groups", "get_error_group", "update_error_group"];
        foreach (var name in expected)
        {
            Assert.True(tools.ContainsKey(name), $"missing tool {name}");
            var t = tools[name].ProtocolTool;
            Assert.False(string.IsNullOrWhiteSpace(t.Description));
            Assert.NotNull(t.OutputSchema);
            foreach (var p in t.InputSchema.GetProperty("properties").EnumerateObject())
            {
                Assert.True(p.Value.TryGetProperty("description", out var d) && d.GetString()!.Length > 5, $"{name}.{p.Name} has no description");
                Assert.Equal(p.Name, JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name));
            }
            foreach (var p in t.OutputSchema!.Value.GetProperty("properties").EnumerateObject())
                Assert.Equal(p.Name, JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name));
        }
        Assert.True(tools["query_errors"].ProtocolTool.Annotations!.ReadOnlyHint);
        Assert.True(tools["list_error_groups"].ProtocolTool.Annotations!.ReadOnlyHint);
        Assert.False(tools["report_failure"].ProtocolTool.Annotations!.ReadOnlyHint);
        Assert.False(tools["report_failure"].ProtocolTool.Annotations!.DestructiveHint);
        Assert.True(tools["update_error_group"].ProtocolTool.Annotations!.IdempotentHint);
        var required = tools["report_failure"].ProtocolTool.InputSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { "agent", "error_type", "message" }, required);
    }

    [Fact]
    public async Task Failures_from_several_agents_collapse_into_one_group()
    {
        var component = Unique("payments");
        var a = await Client.CallAsync("report_failure", new { agent = "agent-a", error_type = "TimeoutError", message = "call to payments took 3000 ms (attempt 1)", component });
        var b = await Client.CallAsync("report_failure", new { agent = "agent-b", error_type = "TimeoutError", message = "call to payments took 5210 ms (attempt 3)", component });

        Assert.True(a.GetProperty("is_new_group").GetBoolean());
        Assert.False(b.GetProperty("is_new_group").GetBoolean());
        Assert.Equal(a.GetProperty("group_id").GetString(), b.GetProperty("group_id").GetString());
        Assert.Equal(2, b.GetProperty("group_count").GetInt64());
        Assert.Equal("warning", b.GetProperty("severity").GetString());
        Assert.Equal("timeout", b.GetProperty("category").GetString());
        Assert.True(b.GetProperty("recoverable").GetBoolean());
        Assert.False(string.IsNullOrWhiteSpace(b.GetProperty("recommendation").GetString()));

        var groups = await Client.CallAsync("list_error_groups", new { component });
        var g = Assert.Single(groups.GetProperty("groups").EnumerateArray());
        Assert.Equal(2, g.GetProperty("distinct_agents").GetInt64());
        Assert.Equal(JsonValueKind.Null, groups.GetProperty("next_cursor").ValueKind);

        var detail = await Client.CallAsync("get_error_group", new { group_id = a.GetProperty("group_id").GetString() });
        Assert.Equal(2, detail.GetProperty("recent_events").GetArrayLength());
        Assert.Equal(24, detail.GetProperty("histogram").GetArrayLength());
        Assert.Equal(2, detail.GetProperty("histogram").EnumerateArray().Sum(h => h.GetProperty("count").GetInt64()));
    }

    [Fact]
    public async Task Bad_input_gets_a_clear_error_naming_the_field_and_the_server_keeps_serving()
    {
        var component = Unique("bad-input");
        var error = await Client.CallFailingAsync("report_failure", new { agent = "a", error_type = "X", message = new string('m', 16 * 1024 + 1), component });
        Assert.Contains("'message'", error);
        Assert.Contains("16384 bytes", error);

        error = await Client.CallFailingAsync("report_failure", new { agent = "a", error_type = "X", message = "m", severity = "fatal", component });
        Assert.Contains("'severity' must be one of critical, error, warning, info", error);

        error = await Client.CallFailingAsync("report_failure", new { agent = "a", error_type = "X", message = "m", occurred_at = "2026-12-04 10:00", component });
        Assert.Contains("'occurred_at' must be an ISO-8601 timestamp", error);

        error = await Client.CallFailingAsync("query_errors", new { limit = 1000 });
        Assert.Contains("'limit' must be between 1 and 500", error);

        error = await Client.CallFailingAsync("get_error_group", new { group_id = "grp_missing" });
        Assert.Contains("grp_missing", error);

        // Nothing was stored, and the server still answers.
        var events = await Client.CallAsync("query_errors", new { component });
        Assert.Equal(0, events.GetProperty("events").GetArrayLength());
        var ok = await Client.CallAsync("report_failure", new { agent = "a", error_type = "X", message = "m", component });
        Assert.True(ok.GetProperty("is_new_group").GetBoolean());
    }

    [Fact]
    public async Task A_batch_reports_each_item_and_refuses_only_the_invalid_ones()
    {
        var component = Unique("ci");
        var failures = Enumerable.Range(0, 30).Select(i => (object)new { agent = "ci:unit", error_type = "AssertionError", message = $"test_{i % 3} failed: expected {i} got {i + 1}", component })
            .Append(new { agent = "ci:unit", error_type = "AssertionError", message = "", component })
            .ToArray();
        var r = await Client.CallAsync("report_failures", new { failures });
        Assert.Equal(30, r.GetProperty("accepted").GetInt32());
        Assert.Equal(1, r.GetProperty("rejected").GetInt32());
        var results = r.GetProperty("results").EnumerateArray().ToList();
        Assert.Equal(31, results.Count);
        Assert.Equal("failures[30].message", results[30].GetProperty("field").GetString());
        Assert.Equal(JsonValueKind.Null, results[0].GetProperty("error").ValueKind);

        var page1 = await Client.CallAsync("query_errors", new { component, limit = 20 });
        Assert.Equal(20, page1.GetProperty("events").GetArrayLength());
        var cursor = page1.GetProperty("next_cursor").GetString();
        Assert.NotNull(cursor);
        var page2 = await Client.CallAsync("query_errors", new { component, limit = 20, cursor });
        Assert.Equal(10, page2.GetProperty("events").GetArrayLength());
        var ids = page1.GetProperty("events").EnumerateArray().Concat(page2.GetProperty("events").EnumerateArray())
            .Select(e => e.GetProperty("event_id").GetString()).ToList();
        Assert.Equal(30, ids.Distinct().Count());
    }

    [Fact]
    public async Task Groups_can_be_resolved_and_regress_on_a_new_event()
    {
        var component = Unique("regress");
        var r = await Client.CallAsync("report_failure", new { agent = "a", error_type = "KeyError", message = "missing key 'user_id'", component });
        var id = r.GetProperty("group_id").GetString();
        var resolved = await Client.CallAsync("update_error_group", new { group_id = id, status = "resolved", note = "fixed in #12" });
        Assert.Equal("resolved", resolved.GetProperty("group").GetProperty("status").GetString());
        var again = await Client.CallAsync("report_failure", new { agent = "a", error_type = "KeyError", message = "missing key 'user_id'", component });
        Assert.Equal("regressed", again.GetProperty("group_status").GetString());
        var detail = await Client.CallAsync("get_error_group", new { group_id = id });
        Assert.Equal("regressed", detail.GetProperty("group").GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, detail.GetProperty("group").GetProperty("regressed_at").ValueKind);
    }

    [Fact]
    public async Task Secrets_never_come_back_out()
    {
        var component = Unique("secrets");
        await Client.CallAsync("report_failure", new
        {
            agent = "a", error_type = "AuthError", message = "login failed for postgres://app:hunter2@db:5432 with Bearer abc.def.ghi", component,
            tags = new Dictionary<string, string> { ["api_key"] = "k-123", ["region"] = "eu" },
        });
        var events = await Client.CallAsync("query_errors", new { component });
        var raw = events.GetRawText();
        Assert.DoesNotContain("hunter2", raw);
        Assert.DoesNotContain("abc.def.ghi", raw);
        Assert.DoesNotContain("k-123", raw);
        Assert.Contains("eu", raw);
    }

    [Fact]
    public async Task Odd_names_round_trip_and_do_not_leak_into_other_agents()
    {
        var component = Unique("odd");
        string[] agents = ["a:b", "a", "*", "{x}", "line\nbreak", "名前", "a:b*"];
        foreach (var agent in agents)
            await Client.CallAsync("report_failure", new { agent, error_type = "OddError", message = $"from {agent}", component });
        foreach (var agent in agents)
        {
            var events = await Client.CallAsync("query_errors", new { agent, component });
            var e = Assert.Single(events.GetProperty("events").EnumerateArray());
            Assert.Equal(agent, e.GetProperty("agent").GetString());
        }
    }

    [Fact]
    public async Task Resources_and_prompts_are_served()
    {
        var resources = await Client.ListResourcesAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains(resources, r => r.Uri == "errors://groups");
        var templates = await Client.ListResourceTemplatesAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains(templates, t => t.UriTemplate == "errors://groups/{group_id}");
        var r = await Client.CallAsync("report_failure", new { agent = "a", error_type = "ResourceError", message = "for the resource test", component = Unique("res") });
        var read = await Client.ReadResourceAsync($"errors://groups/{r.GetProperty("group_id").GetString()}", cancellationToken: TestContext.Current.CancellationToken);
        var text = Assert.IsType<ModelContextProtocol.Protocol.TextResourceContents>(Assert.Single(read.Contents)).Text;
        Assert.Contains("for the resource test", text);

        var prompts = await Client.ListPromptsAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains(prompts, p => p.Name == "triage_errors");
        var prompt = await Client.GetPromptAsync("triage_errors", new Dictionary<string, object?> { ["component"] = "payments" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains("payments", JsonSerializer.Serialize(prompt.Messages));
    }
}
