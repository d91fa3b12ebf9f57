using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ErrorCoordinator.Testing.Redis;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>A training run's rolling window lives in Redis: steps reported through two server processes form one window.</summary>
public sealed class SharedTrainingStateTests(RedisServer redis) : IAsyncLifetime
{
    private TwoServers _fleet = null!;
    private McpClient _clientOne => _fleet.ClientOne;
    private McpClient _clientTwo => _fleet.ClientTwo;

    public async ValueTask InitializeAsync() => _fleet = await TwoServers.StartAsync(redis);

    public ValueTask DisposeAsync() => _fleet.DisposeAsync();

    [Fact]
    public async Task Steps_through_either_process_share_the_window_so_a_spike_is_judged_against_both()
    {
        // 64 steps at ~2.0, alternating between the processes, 8 at a time concurrently.
        for (var batch = 0; batch < 8; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async j =>
            {
                var step = batch * 8 + j;
                var client = step % 2 == 0 ? _clientOne : _clientTwo;
                var r = await client.CallAsync("report_training_metric", new { project = "shared", run = "r", step, loss = 2.0 + 0.01 * (step % 5) });
                Assert.Equal(0, r.GetProperty("anomalies").GetArrayLength());
            }));
        }

        // Process two alone has seen only half the steps, process one the other half: the spike is judged on the shared window.
        var spike = await _clientTwo.CallAsync("report_training_metric", new { project = "shared", run = "r", step = 64, loss = 6.0 });
        var a = Assert.Single(spike.GetProperty("anomalies").EnumerateArray());
        Assert.Equal(("gradient_explosion", "spike"), (a.GetProperty("type").GetString(), a.GetProperty("reason").GetString()));
        Assert.InRange(a.GetProperty("window_median").GetDouble(), 2.0, 2.05);
        Assert.Contains("median of the last 50 steps", a.GetProperty("message").GetString());

        // The anomaly is visible through the other process too.
        var group = await _clientOne.CallAsync("get_error_group", new { group_id = a.GetProperty("group_id").GetString() });
        Assert.Equal(1, group.GetProperty("group").GetProperty("count").GetInt64());
    }
}
