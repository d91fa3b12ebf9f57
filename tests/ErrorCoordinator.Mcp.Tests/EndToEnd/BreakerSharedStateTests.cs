using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ErrorCoordinator.Testing.Redis;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>
/// Breakers shared by two server processes on one real Redis: concurrent writers never lose an update, half-open grants
/// exactly half_open_permits probes fleet-wide, leases free their slot, and a transition made through one process
/// notifies a subscriber of the other.
/// </summary>
public sealed class BreakerSharedStateTests(RedisServer redis) : IAsyncLifetime
{
    private TwoServers _fleet = null!;

    // Several sessions per process, so concurrent calls really run side by side in each server.
    public async ValueTask InitializeAsync() => _fleet = await TwoServers.StartAsync(redis, sessions: 8);

    public ValueTask DisposeAsync() => _fleet.DisposeAsync();

    private McpClient Client(int i) => _fleet.Clients[i % _fleet.Clients.Count];

    [Fact]
    public async Task Two_hundred_concurrent_outcomes_over_two_processes_leave_exact_window_counts()
    {
        const string c = "ledger";
        await Client(0).CallAsync("configure_breaker", new { component = c, minimum_throughput = 100000, sampling_seconds = 600 });
        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i =>
            Client(i).CallAsync("record_outcome", new { component = c, success = i % 5 != 0, agent = $"w{i % 7}", duration_ms = i })));

        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), results.Select(r => r.GetProperty("window").GetProperty("calls").GetInt64()).Order());
        foreach (var client in new[] { Client(0), Client(1) })
        {
            var w = (await client.CallAsync("check_breaker", new { component = c })).GetProperty("window");
            Assert.Equal(200, w.GetProperty("calls").GetInt64());
            Assert.Equal(40, w.GetProperty("failures").GetInt64());
            Assert.Equal(0.2, w.GetProperty("failure_ratio").GetDouble());
            Assert.Equal(7, w.GetProperty("distinct_reporters").GetInt64());
        }
    }

    [Fact]
    public async Task Fifty_concurrent_checks_on_a_half_open_breaker_across_two_processes_get_exactly_the_permits()
    {
        const string c = "search";
        await Client(0).CallAsync("configure_breaker", new { component = c, consecutive_failures = 1, break_seconds = 1, half_open_permits = 3 });
        Assert.Equal("open", (await Client(1).CallAsync("record_outcome", new { component = c, success = false })).GetProperty("state").GetString());
        await Task.Delay(1100, TestContext.Current.CancellationToken);

        var checks = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => Client(i).CallAsync("check_breaker", new { component = c, agent = $"a{i}" })));
        var permits = checks.Where(r => r.GetProperty("permit").ValueKind == JsonValueKind.String).Select(r => r.GetProperty("permit").GetString()).ToList();
        Assert.Equal(3, permits.Count);
        Assert.Equal(3, permits.Distinct().Count());
        Assert.Equal(3, checks.Count(r => r.GetProperty("allowed").GetBoolean()));
        Assert.All(checks, r => Assert.Equal("half_open", r.GetProperty("state").GetString()));
        // Exactly one of the fifty moved the breaker to half_open.
        Assert.Equal(1, checks.Count(r => r.GetProperty("transition").ValueKind == JsonValueKind.Object));

        // The three probes succeed (through different processes) and close it.
        JsonElement last = default;
        for (var i = 0; i < 3; i++) last = await Client(i).CallAsync("record_outcome", new { component = c, success = true, permit = permits[i] });
        Assert.Equal("closed", last.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_probe_that_never_reports_back_frees_its_slot_after_its_lease()
    {
        const string c = "inventory";
        await Client(0).CallAsync("configure_breaker", new { component = c, consecutive_failures = 1, break_seconds = 1, permit_lease_seconds = 2 });
        await Client(0).CallAsync("record_outcome", new { component = c, success = false });
        await Task.Delay(1100, TestContext.Current.CancellationToken);

        var lost = await Client(0).CallAsync("check_breaker", new { component = c });
        Assert.Equal(JsonValueKind.String, lost.GetProperty("permit").ValueKind); // this prober "crashes" and never reports
        var expires = lost.GetProperty("permit_expires_at").GetDateTimeOffset();
        var meanwhile = await Client(1).CallAsync("check_breaker", new { component = c });
        // While the lease runs (judged by the server's lease end, so a slow machine cannot make this pass wrongly) the slot is taken.
        if (DateTimeOffset.UtcNow < expires) Assert.False(meanwhile.GetProperty("allowed").GetBoolean());
        if (meanwhile.GetProperty("allowed").GetBoolean())
            expires = meanwhile.GetProperty("permit_expires_at").GetDateTimeOffset(); // so slow a machine that the first lease had ended: this one is never reported either
        else
            Assert.InRange(meanwhile.GetProperty("retry_after_ms").GetInt64(), 0, 2000);

        var wait = expires.AddMilliseconds(150) - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait, TestContext.Current.CancellationToken);
        var next = await Client(1).CallAsync("check_breaker", new { component = c });
        Assert.True(next.GetProperty("allowed").GetBoolean());
        Assert.Equal("half_open", next.GetProperty("state").GetString());
        var closed = await Client(1).CallAsync("record_outcome", new { component = c, success = true, permit = next.GetProperty("permit").GetString() });
        Assert.Equal("closed", closed.GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_transition_through_one_process_notifies_a_subscriber_of_the_other()
    {
        const string c = "billing";
        var uri = "breaker://" + c;
        var updated = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await Client(0).SubscribeToResourceAsync(uri, (n, _) =>
        {
            updated.TrySetResult(n.Uri);
            return ValueTask.CompletedTask;
        }, cancellationToken: TestContext.Current.CancellationToken);

        await Client(1).CallAsync("trip_breaker", new { component = c, reason = "provider outage", duration_seconds = 60 });
        Assert.Equal(uri, await updated.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        var seen = await Client(0).CallAsync("check_breaker", new { component = c });
        Assert.Equal("isolated", seen.GetProperty("state").GetString());
    }
}
