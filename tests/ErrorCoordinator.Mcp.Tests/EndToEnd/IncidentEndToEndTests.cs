using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>A server whose incident opener checks for cascades every second.</summary>
public sealed class IncidentServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;
    public McpClient Client { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = await ServerProcess.StartHttpAsync(["--set", "ErrorCoordinator:Incidents:CascadeCheckSeconds=1"]);
        Client = await McpClients.HttpAsync(Server);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>
/// Correlation and incidents through a real MCP client over HTTP (embedded store): register the graph, report a cascade,
/// correlate, watch the incident open, acknowledge, resolve, generate the post-mortem and read the resources.
/// </summary>
public sealed class IncidentEndToEndTests(IncidentServerFixture fixture) : IClassFixture<IncidentServerFixture>
{
    private McpClient Client => fixture.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task From_a_cascade_to_a_read_post_mortem()
    {
        var p = "e2e" + Guid.NewGuid().ToString("N")[..6] + "-";
        string db = p + "postgres", api = p + "api", web = p + "web";
        await Client.CallAsync("register_dependencies", new { component = api, depends_on = new[] { db } });
        var reg = await Client.CallAsync("register_dependencies", new { component = web, depends_on = new[] { api } });
        Assert.True(reg.GetProperty("changed").GetBoolean());
        Assert.False((await Client.CallAsync("register_dependencies", new { component = web, depends_on = new[] { api } })).GetProperty("changed").GetBoolean());
        var graph = await Client.CallAsync("get_dependency_graph", new { });
        Assert.Contains(graph.GetProperty("components").EnumerateArray(), c => c.GetProperty("component").GetString() == web);

        // The database fails first, then the API that calls it, then the web tier: none of it critical.
        var start = DateTimeOffset.UtcNow.AddSeconds(-40);
        var events = new List<string>();
        async Task Report(string component, string type, int count, int offset)
        {
            for (var i = 0; i < count; i++)
            {
                var r = await Client.CallAsync("report_failure", new
                {
                    agent = "agent-" + component, error_type = type, message = $"{type} serving request {i}", component,
                    severity = "error", occurred_at = start.AddSeconds(offset + i * 2).ToString("O"),
                });
                events.Add(r.GetProperty("event_id").GetString()!);
            }
        }
        await Report(db, "ConnectionRefusedError", 5, 0);
        await Report(api, "TimeoutError", 4, 6);
        await Report(web, "HTTP503Error", 4, 12);

        var correlated = await Client.CallAsync("correlate_errors", new { window_seconds = 300, component = api });
        Assert.True(correlated.GetProperty("cascade").GetBoolean());
        Assert.False(correlated.GetProperty("abstain").GetBoolean(), correlated.GetProperty("verdict").GetString());
        var top = correlated.GetProperty("root_causes")[0];
        Assert.Equal(db, top.GetProperty("component").GetString());
        Assert.Equal(new[] { db, api, web }, top.GetProperty("path").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(events[0], top.GetProperty("evidence")[0].GetString());
        var cluster = Assert.Single(correlated.GetProperty("clusters").EnumerateArray());
        Assert.Equal(13, cluster.GetProperty("event_count").GetInt32());

        // The opener's cascade check opens the incident on its own.
        var incident = await WaitForIncidentAsync(db);
        var id = incident.GetProperty("id").GetString()!;
        Assert.Equal("cascade", incident.GetProperty("source").GetString());
        Assert.Equal("triggered", incident.GetProperty("status").GetString());
        Assert.Equal(db, incident.GetProperty("suspected_root_cause").GetString());

        var uri = "incident://" + Uri.EscapeDataString(id);
        var updates = System.Threading.Channels.Channel.CreateUnbounded<string>();
        await Client.SubscribeToResourceAsync(uri, (n, _) =>
        {
            updates.Writer.TryWrite(n.Uri);
            return ValueTask.CompletedTask;
        }, cancellationToken: Ct);

        var acked = await Client.CallAsync("acknowledge_incident", new { id, by = "oncall-agent" });
        Assert.True(acked.GetProperty("changed").GetBoolean());
        Assert.Equal("acknowledged", acked.GetProperty("incident").GetProperty("status").GetString());
        Assert.Equal(uri, await NextAsync(updates.Reader));
        Assert.False((await Client.CallAsync("acknowledge_incident", new { id, by = "someone-else" })).GetProperty("changed").GetBoolean());

        var resolved = await Client.CallAsync("resolve_incident", new { id, resolution = "Failed over to the replica", root_cause = db });
        Assert.Equal("resolved", resolved.GetProperty("status").GetString());
        Assert.Equal(uri, await NextAsync(updates.Reader));
        var again = await Client.CallFailingAsync("resolve_incident", new { id, resolution = "twice" });
        Assert.Contains("'" + id + "' is resolved", again);

        var detail = await Client.CallAsync("get_incident", new { id });
        var timeline = detail.GetProperty("timeline").EnumerateArray().ToList();
        Assert.Equal(["cascade_detected", "acknowledged", "resolved"], timeline.Select(t => t.GetProperty("type").GetString()));
        Assert.Equal(events.Order(), timeline[0].GetProperty("event_ids").EnumerateArray().Select(e => e.GetString()!).Order());
        Assert.All(timeline, t => Assert.NotEqual(0, t.GetProperty("event_ids").GetArrayLength()));

        var pm = await Client.CallAsync("generate_postmortem", new { incident_id = id });
        var pmId = pm.GetProperty("id").GetString()!;
        var doc = pm.GetProperty("document");
        Assert.Equal(13, doc.GetProperty("impact").GetProperty("total_errors").GetInt32());
        Assert.Equal(db, doc.GetProperty("root_cause").GetProperty("recorded").GetString());
        Assert.Equal(db, doc.GetProperty("root_cause").GetProperty("candidates")[0].GetProperty("component").GetString());
        Assert.True(doc.GetProperty("response").GetProperty("time_to_acknowledge_seconds").GetDouble() >= 0);
        Assert.True(doc.GetProperty("response").GetProperty("time_to_resolve_seconds").GetDouble() >=
                    doc.GetProperty("response").GetProperty("time_to_acknowledge_seconds").GetDouble());

        var markdown = await ReadTextAsync("postmortem://" + Uri.EscapeDataString(pmId));
        Assert.Equal(pm.GetProperty("markdown").GetString(), markdown);
        foreach (var section in new[] { "## Summary", "## Impact", "## Timeline", "## Root cause and trigger", "## Detection",
                     "## Response and resolution", "## What went well", "## What went wrong", "## Action items", "## Recommendations" })
            Assert.Contains(section, markdown);
        using var incidentDoc = JsonDocument.Parse(await ReadTextAsync(uri));
        Assert.Equal("resolved", incidentDoc.RootElement.GetProperty("status").GetString());
        Assert.Equal(db, incidentDoc.RootElement.GetProperty("root_cause").GetString());

        var prompt = await Client.GetPromptAsync("postmortem_review", new Dictionary<string, object?> { ["postmortem_id"] = pmId }, cancellationToken: Ct);
        var text = Assert.IsType<TextContentBlock>(Assert.Single(prompt.Messages).Content).Text;
        Assert.Contains("## Root cause and trigger", text);
        Assert.Contains("blameless", text);
    }

    [Fact]
    public async Task Open_by_hand_list_filters_and_bad_input_names_the_field()
    {
        var opened = await Client.CallAsync("open_incident", new { title = "Checkout slow for EU users", severity = "warning", components = new[] { "checkout-" + Guid.NewGuid().ToString("N")[..6] } });
        var id = opened.GetProperty("id").GetString();
        Assert.Equal("manual", opened.GetProperty("source").GetString());
        var triggered = await Client.CallAsync("list_incidents", new { status = "triggered" });
        Assert.Contains(triggered.GetProperty("incidents").EnumerateArray(), i => i.GetProperty("id").GetString() == id);

        Assert.Contains("'status' must be one of triggered, acknowledged, resolved", await Client.CallFailingAsync("list_incidents", new { status = "open" }));
        Assert.Contains("'severity'", await Client.CallFailingAsync("open_incident", new { title = "x", severity = "urgent", components = new[] { "a" } }));
        Assert.Contains("'window_seconds' must be between 1 and 86400", await Client.CallFailingAsync("correlate_errors", new { window_seconds = 0 }));
        Assert.Contains("'at' must be an ISO-8601 timestamp", await Client.CallFailingAsync("correlate_errors", new { at = "yesterday" }));
        Assert.Contains("'depends_on' has 101 components; the limit is 100", await Client.CallFailingAsync("register_dependencies",
            new { component = "x", depends_on = Enumerable.Range(0, 101).Select(n => $"d{n}").ToArray() }));
        Assert.Contains("Incident 'inc_nope' was not found", await Client.CallFailingAsync("get_incident", new { id = "inc_nope" }));
        Assert.Contains("Give 'incident_id', or both 'since' and 'until'", await Client.CallFailingAsync("generate_postmortem", new { since = "2026-12-04T10:00:00Z" }));
    }

    [Fact]
    public async Task Every_tool_has_an_output_schema_and_truthful_annotations()
    {
        var tools = (await Client.ListToolsAsync(cancellationToken: Ct)).ToDictionary(t => t.Name);
        var expected = new Dictionary<string, (bool ReadOnly, bool Destructive, bool Idempotent)>
        {
            ["register_dependencies"] = (false, true, true),
            ["get_dependency_graph"] = (true, false, true),
            ["correlate_errors"] = (true, false, true),
            ["list_incidents"] = (true, false, true),
            ["get_incident"] = (true, false, true),
            ["acknowledge_incident"] = (false, false, true),
            ["resolve_incident"] = (false, true, false),
            ["open_incident"] = (false, false, false),
            ["generate_postmortem"] = (false, false, false),
        };
        foreach (var (name, (readOnly, destructive, idempotent)) in expected)
        {
            var tool = tools[name].ProtocolTool;
            Assert.NotNull(tool.OutputSchema);
            Assert.False(string.IsNullOrWhiteSpace(tool.Description));
            Assert.Equal(readOnly, tool.Annotations?.ReadOnlyHint);
            Assert.Equal(destructive, tool.Annotations?.DestructiveHint);
            Assert.Equal(idempotent, tool.Annotations?.IdempotentHint);
            foreach (var p in tool.InputSchema.GetProperty("properties").EnumerateObject())
                Assert.True(p.Value.TryGetProperty("description", out _), $"{name}.{p.Name} has no description");
        }
    }

    private async Task<JsonElement> WaitForIncidentAsync(string component)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var list = await Client.CallAsync("list_incidents", new { status = "triggered" });
            foreach (var i in list.GetProperty("incidents").EnumerateArray())
                if (i.GetProperty("components").EnumerateArray().Any(c => c.GetString() == component)) return i;
            Assert.True(DateTime.UtcNow < deadline, "no incident opened for the cascade within 20 s");
            await Task.Delay(200, Ct);
        }
    }

    private static async Task<string> NextAsync(System.Threading.Channels.ChannelReader<string> reader)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        return await reader.ReadAsync(cts.Token);
    }

    private async Task<string> ReadTextAsync(string uri)
    {
        var resource = await Client.ReadResourceAsync(uri, cancellationToken: Ct);
        return Assert.IsType<TextResourceContents>(Assert.Single(resource.Contents)).Text;
    }
}
