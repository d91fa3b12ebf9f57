using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ErrorCoordinator.Testing.Redis;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>Incidents across two server processes on one real Redis: one incident for a cluster, changes notified everywhere.</summary>
public sealed class IncidentSharedStateTests(RedisServer redis) : IAsyncLifetime
{
    private TwoServers _fleet = null!;
    private McpClient _clientOne => _fleet.ClientOne;
    private McpClient _clientTwo => _fleet.ClientTwo;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _fleet = await TwoServers.StartAsync(redis);

    public ValueTask DisposeAsync() => _fleet.DisposeAsync();

    [Fact]
    public async Task Critical_reports_through_both_processes_open_one_incident_and_both_see_its_changes()
    {
        // Ten critical reports of one cluster, half through each process, at once.
        var reports = Enumerable.Range(0, 10).Select(n => (n % 2 == 0 ? _clientOne : _clientTwo).CallAsync("report_failure", new
        {
            agent = $"worker-{n}", error_type = "OutOfMemoryError", message = $"worker {n} killed: out of memory", component = "gpu-pool",
            severity = "critical",
        })).ToList();
        var ids = (await Task.WhenAll(reports)).Select(r => r.GetProperty("event_id").GetString()!).ToHashSet();

        // Both openers see all ten events (each through the Redis bus); the store keeps one incident with each event once.
        JsonElement incident = default;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var list = await _clientTwo.CallAsync("list_incidents", new { });
            var items = list.GetProperty("incidents").EnumerateArray().ToList();
            Assert.True(items.Count <= 1, $"{items.Count} incidents for one cluster");
            if (items.Count == 1 && items[0].GetProperty("event_count").GetInt64() == 10)
            {
                incident = items[0];
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "the incident did not collect the ten events within 20 s");
            await Task.Delay(200, Ct);
        }
        var id = incident.GetProperty("id").GetString()!;
        var detail = await _clientOne.CallAsync("get_incident", new { id });
        Assert.Equal(ids, detail.GetProperty("event_ids").EnumerateArray().Select(e => e.GetString()!).ToHashSet());
        Assert.Equal(10, detail.GetProperty("timeline").GetArrayLength());

        // A subscriber on process two hears about an acknowledgement made through process one.
        var uri = "incident://" + Uri.EscapeDataString(id);
        var updates = System.Threading.Channels.Channel.CreateUnbounded<string>();
        await _clientTwo.SubscribeToResourceAsync(uri, (n, _) =>
        {
            updates.Writer.TryWrite(n.Uri);
            return ValueTask.CompletedTask;
        }, cancellationToken: Ct);
        await _clientOne.CallAsync("acknowledge_incident", new { id, by = "agent-one" });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        Assert.Equal(uri, await updates.Reader.ReadAsync(cts.Token));
        var seen = await _clientTwo.CallAsync("get_incident", new { id });
        Assert.Equal("acknowledged", seen.GetProperty("status").GetString());
        Assert.Equal("agent-one", seen.GetProperty("acknowledged_by").GetString());
    }
}
