using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>
/// The capabilities feeding one another through a real MCP client (HTTP, embedded store): a NaN loss, a breaker opening and
/// an exhausted retry each reach an incident, whose timeline cites their event ids.
/// </summary>
public sealed class CrossCapabilityEndToEndTests(HttpServerFixture fixture) : IClassFixture<HttpServerFixture>
{
    private McpClient Client => fixture.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Polls until an open incident's timeline cites <paramref name="eventId"/> (the opener works from the bus, asynchronously).</summary>
    private async Task<JsonElement> IncidentCitingAsync(string eventId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var list = await Client.CallAsync("list_incidents", new { limit = 100 });
            foreach (var i in list.GetProperty("incidents").EnumerateArray())
            {
                var detail = await Client.CallAsync("get_incident", new { id = i.GetProperty("id").GetString() });
                if (detail.GetProperty("timeline").EnumerateArray().Any(t => t.GetProperty("event_ids").EnumerateArray().Any(e => e.GetString() == eventId)))
                    return detail;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no incident cites {eventId} within 20 s");
            await Task.Delay(200, Ct);
        }
    }

    [Fact]
    public async Task A_nan_loss_gives_a_critical_event_an_error_group_and_an_incident()
    {
        var project = "llm-" + Guid.NewGuid().ToString("N")[..6];
        var result = await Client.CallAsync("report_training_metric", new { project, run = "r7", step = 1200, loss = "NaN", grad_norm = 3.5 });
        var anomaly = Assert.Single(result.GetProperty("anomalies").EnumerateArray());
        Assert.Equal("critical", anomaly.GetProperty("severity").GetString());
        var eventId = anomaly.GetProperty("event_id").GetString()!;
        var group = await Client.CallAsync("get_error_group", new { group_id = anomaly.GetProperty("group_id").GetString() });
        Assert.Equal("critical", group.GetProperty("group").GetProperty("severity").GetString());

        var incident = await IncidentCitingAsync(eventId);
        Assert.Equal("critical", incident.GetProperty("severity").GetString());
        Assert.Equal("triggered", incident.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_breaker_opening_opens_an_incident_and_an_exhausted_retry_joins_its_timeline()
    {
        var component = "ledger-" + Guid.NewGuid().ToString("N")[..6];
        await Client.CallAsync("configure_breaker", new { component, consecutive_failures = 2 });
        await Client.CallAsync("record_outcome", new { component, success = false, agent = "a1" });
        var opened = await Client.CallAsync("record_outcome", new { component, success = false, agent = "a2" });
        var breakerEvent = opened.GetProperty("transition").GetProperty("event_id").GetString()!;

        var incident = await IncidentCitingAsync(breakerEvent);
        Assert.Contains(component, incident.GetProperty("components").EnumerateArray().Select(c => c.GetString()));
        var id = incident.GetProperty("id").GetString();

        // A task of that component runs out of attempts: its retry_exhausted event lands in the same incident.
        var task = "job-" + Guid.NewGuid().ToString("N")[..6];
        await Client.CallAsync("enqueue_retry", new { task_id = task, agent = "builder", error_type = "TimeoutError", message = "ledger timed out", component, max_attempts = 1, base_delay_ms = 0, backoff = "constant" });
        await Client.CallAsync("reset_breaker", new { component }); // so the claim is not deferred behind the open breaker
        var claim = await Client.CallAsync("claim_retries", new { worker = "w1", component });
        var t = Assert.Single(claim.GetProperty("tasks").EnumerateArray());
        var dead = await Client.CallAsync("complete_retry", new { task_id = task, lease = t.GetProperty("lease").GetString(), outcome = "failed", error = "ledger down" });
        Assert.Equal("dead_lettered", dead.GetProperty("result").GetString());

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var detail = await Client.CallAsync("get_incident", new { id });
            var types = detail.GetProperty("timeline").EnumerateArray().Select(e => e.GetProperty("type").GetString()).ToList();
            if (types.Contains("retry_exhausted"))
            {
                var exhausted = detail.GetProperty("timeline").EnumerateArray().First(e => e.GetProperty("type").GetString() == "retry_exhausted");
                Assert.NotEqual(0, exhausted.GetProperty("event_ids").GetArrayLength());
                Assert.Contains(task, exhausted.GetProperty("message").GetString());
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"the exhausted retry did not reach incident {id}: {string.Join(", ", types)}");
            await Task.Delay(200, Ct);
        }
    }
}
