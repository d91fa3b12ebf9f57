using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>The breaker tools through a real MCP client over HTTP (embedded store): the whole life of a breaker and its resource.</summary>
public sealed class BreakerEndToEndTests(HttpServerFixture fixture) : IClassFixture<HttpServerFixture>
{
    private McpClient Client => fixture.Client;

    private static string C() => "e2e-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Open_deny_half_open_probe_close_through_the_client()
    {
        var c = C();
        var policy = await Client.CallAsync("configure_breaker", new { component = c, consecutive_failures = 2, break_seconds = 3, max_break_seconds = 12 });
        Assert.Equal(2, policy.GetProperty("policy").GetProperty("consecutive_failures").GetInt32());

        Assert.True((await Client.CallAsync("check_breaker", new { component = c })).GetProperty("allowed").GetBoolean());
        await Client.CallAsync("record_outcome", new { component = c, success = false, error_type = "HTTP503", agent = "a1" });
        var opened = await Client.CallAsync("record_outcome", new { component = c, success = false, error_type = "HTTP503", agent = "a1" });
        Assert.Equal("open", opened.GetProperty("state").GetString());
        Assert.True(opened.GetProperty("transitioned").GetBoolean());
        Assert.Equal("circuit_breaker_opened", opened.GetProperty("transition").GetProperty("type").GetString());

        var denied = await Client.CallAsync("check_breaker", new { component = c });
        Assert.False(denied.GetProperty("allowed").GetBoolean());
        Assert.InRange(denied.GetProperty("retry_after_ms").GetInt64(), 1, 3000);
        Assert.Equal(JsonValueKind.Null, denied.GetProperty("permit").ValueKind);
        Assert.Equal("2 consecutive failures (limit 2)", denied.GetProperty("reason").GetString());

        // Wait out the break (measured from the server's own transition time).
        var reopensAt = opened.GetProperty("transition").GetProperty("at").GetDateTimeOffset().AddSeconds(3.1);
        var wait = reopensAt - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait, TestContext.Current.CancellationToken);
        var probe = await Client.CallAsync("check_breaker", new { component = c, agent = "prober" });
        Assert.Equal("half_open", probe.GetProperty("state").GetString());
        Assert.True(probe.GetProperty("allowed").GetBoolean());
        var permit = probe.GetProperty("permit").GetString();
        Assert.False(string.IsNullOrEmpty(permit));
        Assert.False((await Client.CallAsync("check_breaker", new { component = c })).GetProperty("allowed").GetBoolean());

        var closed = await Client.CallAsync("record_outcome", new { component = c, success = true, permit, duration_ms = 40, agent = "prober" });
        Assert.Equal("closed", closed.GetProperty("state").GetString());
        Assert.Equal("accepted", closed.GetProperty("permit").GetString());
        Assert.Equal("circuit_breaker_closed", closed.GetProperty("transition").GetProperty("type").GetString());
        Assert.Equal("prober", closed.GetProperty("transition").GetProperty("agent").GetString());
    }

    [Fact]
    public async Task Trip_denies_until_reset_and_the_resource_notifies_its_subscriber()
    {
        var c = "payments:" + C();
        var uri = "breaker://" + Uri.EscapeDataString(c);
        var updates = System.Threading.Channels.Channel.CreateUnbounded<string>();
        await Client.SubscribeToResourceAsync(uri, (n, _) =>
        {
            updates.Writer.TryWrite(n.Uri);
            return ValueTask.CompletedTask;
        }, cancellationToken: TestContext.Current.CancellationToken);

        var tripped = await Client.CallAsync("trip_breaker", new { component = c, reason = "bad deploy 4711", agent = "ops" });
        Assert.Equal("isolated", tripped.GetProperty("breaker").GetProperty("state").GetString());
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        Assert.Equal(uri, await updates.Reader.ReadAsync(cts.Token));

        var denied = await Client.CallAsync("check_breaker", new { component = c });
        Assert.False(denied.GetProperty("allowed").GetBoolean());
        Assert.Equal("isolated", denied.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, denied.GetProperty("retry_after_ms").ValueKind);

        var listed = await Client.CallAsync("list_breakers", new { state = "isolated" });
        Assert.Contains(listed.GetProperty("breakers").EnumerateArray(), b => b.GetProperty("component").GetString() == c);

        var resource = await Client.ReadResourceAsync(uri, cancellationToken: TestContext.Current.CancellationToken);
        using (var doc = JsonDocument.Parse(Assert.IsType<TextResourceContents>(Assert.Single(resource.Contents)).Text))
        {
            Assert.Equal("isolated", doc.RootElement.GetProperty("breaker").GetProperty("state").GetString());
            var t = Assert.Single(doc.RootElement.GetProperty("transitions").EnumerateArray());
            Assert.Equal("bad deploy 4711", t.GetProperty("reason").GetString());
            Assert.Equal("ops", t.GetProperty("agent").GetString());
        }

        var reset = await Client.CallAsync("reset_breaker", new { component = c, reason = "rolled back" });
        Assert.Equal("closed", reset.GetProperty("breaker").GetProperty("state").GetString());
        Assert.Equal(uri, await updates.Reader.ReadAsync(cts.Token));
        Assert.True((await Client.CallAsync("check_breaker", new { component = c })).GetProperty("allowed").GetBoolean());
    }

    [Fact]
    public async Task Bad_input_names_the_field_and_the_limit()
    {
        var ratio = await Client.CallFailingAsync("configure_breaker", new { component = C(), failure_ratio = 2.0 });
        Assert.Contains("'failure_ratio' must be greater than 0 and at most 1", ratio);
        var duration = await Client.CallFailingAsync("trip_breaker", new { component = C(), reason = "x", duration_seconds = 0 });
        Assert.Contains("'duration_seconds' must be between 1 and 2592000", duration);
        var status = await Client.CallFailingAsync("report_agent_status", new { agent = "a", status = "asleep" });
        Assert.Contains("'status' must be one of running, completed, failed", status);
        var name = await Client.CallFailingAsync("check_breaker", new { component = new string('c', 201) });
        Assert.Contains("'component' exceeds the limit of 200 characters", name);
        // A wrong JSON type is named too (checked against the tool's input schema before the call).
        Assert.Contains("'success' must be true or false; got a string", await Client.CallFailingAsync("record_outcome", new { component = C(), success = "maybe" }));
        Assert.Contains("'duration_seconds' must be a whole number", await Client.CallFailingAsync("trip_breaker", new { component = C(), reason = "x", duration_seconds = 1.5 }));
        Assert.Contains("'component' must be a string; got a whole number", await Client.CallFailingAsync("check_breaker", new { component = 42 }));
    }

    [Fact]
    public async Task Agent_crashes_are_recorded_and_open_the_agent_breaker()
    {
        var agent = "loader-" + Guid.NewGuid().ToString("N")[..6];
        JsonElement r = default;
        for (var i = 0; i < 5; i++)
            r = await Client.CallAsync("report_agent_status", new { agent, status = "failed", task_id = $"t{i}", error = "worker exited with SIGKILL" });
        Assert.Equal("open", r.GetProperty("breaker").GetProperty("state").GetString());
        Assert.Equal("agent:" + agent, r.GetProperty("breaker").GetProperty("component").GetString());
        var group = r.GetProperty("group_id").GetString();
        var detail = await Client.CallAsync("get_error_group", new { group_id = group });
        Assert.Equal(5, detail.GetProperty("group").GetProperty("count").GetInt64());
        Assert.Equal("critical", detail.GetProperty("group").GetProperty("severity").GetString());
        Assert.False((await Client.CallAsync("check_breaker", new { component = "agent:" + agent })).GetProperty("allowed").GetBoolean());
    }
}
