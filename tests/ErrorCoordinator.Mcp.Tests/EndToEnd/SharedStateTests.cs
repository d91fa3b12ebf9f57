using System.Collections.Concurrent;
using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ErrorCoordinator.Testing.Redis;
using ModelContextProtocol.Client;
using StackExchange.Redis;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>
/// Two server processes on one real Redis, as two machines of a fleet would run them.
/// Each test uses its own key and channel prefix.
/// </summary>
public sealed class SharedStateTests(RedisServer redis) : IAsyncLifetime
{
    private TwoServers _fleet = null!;
    private ServerProcess _one => _fleet.One;
    private McpClient _clientOne => _fleet.ClientOne;
    private McpClient _clientTwo => _fleet.ClientTwo;

    private string[] Args => _fleet.Args;
    private string _prefix => _fleet.Prefix;

    public async ValueTask InitializeAsync() => _fleet = await TwoServers.StartAsync(redis);

    public ValueTask DisposeAsync() => _fleet.DisposeAsync();

    [Fact]
    public async Task A_group_reported_through_one_process_is_seen_through_the_other()
    {
        Assert.Contains("using Redis", _one.Stderr);
        var a = await _clientOne.CallAsync("report_failure", new { agent = "agent-a", error_type = "ConnectionError", message = "connection to cache-3 refused", component = "cache" });
        Assert.True(a.GetProperty("is_new_group").GetBoolean());

        var seen = await _clientTwo.CallAsync("list_error_groups", new { component = "cache" });
        var group = Assert.Single(seen.GetProperty("groups").EnumerateArray());
        Assert.Equal(a.GetProperty("group_id").GetString(), group.GetProperty("id").GetString());

        var b = await _clientTwo.CallAsync("report_failure", new { agent = "agent-b", error_type = "ConnectionError", message = "connection to cache-9 refused", component = "cache" });
        Assert.False(b.GetProperty("is_new_group").GetBoolean());
        Assert.Equal(2, b.GetProperty("group_count").GetInt64());

        var detail = await _clientOne.CallAsync("get_error_group", new { group_id = a.GetProperty("group_id").GetString() });
        Assert.Equal(2, detail.GetProperty("group").GetProperty("distinct_agents").GetInt64());
        var agents = detail.GetProperty("group").GetProperty("top_agents").EnumerateArray().Select(x => x.GetProperty("agent").GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { "agent-a", "agent-b" }, agents);
    }

    [Fact]
    public async Task Sixty_four_concurrent_reports_across_two_processes_count_exactly_64()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            (i % 2 == 0 ? _clientOne : _clientTwo).CallAsync("report_failure",
                new { agent = $"worker-{i % 8}", error_type = "TimeoutError", message = $"job {i} timed out after {1000 + i} ms", component = "race" })));

        Assert.Single(results.Select(r => r.GetProperty("group_id").GetString()).Distinct());
        Assert.Equal(1, results.Count(r => r.GetProperty("is_new_group").GetBoolean()));
        Assert.Equal(Enumerable.Range(1, 64).Select(i => (long)i), results.Select(r => r.GetProperty("group_count").GetInt64()).Order());

        var detail = await _clientTwo.CallAsync("get_error_group", new { group_id = results[0].GetProperty("group_id").GetString() });
        Assert.Equal(64, detail.GetProperty("group").GetProperty("count").GetInt64());
        Assert.Equal(8, detail.GetProperty("group").GetProperty("distinct_agents").GetInt64());
        var events = await _clientOne.CallAsync("query_errors", new { component = "race", limit = 500 });
        Assert.Equal(64, events.GetProperty("events").GetArrayLength());
    }

    [Fact]
    public async Task Reports_are_published_to_other_agents_scrubbed()
    {
        await using var mux = await ConnectionMultiplexer.ConnectAsync(ErrorCoordinator.Redis.RedisConnector.Parse(redis.Configuration));
        var received = new ConcurrentQueue<(string Channel, string Payload)>();
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sub = mux.GetSubscriber();
        await sub.SubscribeAsync(RedisChannel.Pattern($"{_prefix}events:errors:*"), (c, m) =>
        {
            received.Enqueue((c.ToString(), m.ToString()));
            first.TrySetResult();
        });

        await _clientOne.CallAsync("report_failure", new { agent = "trainer", error_type = "CUDAError", message = "CUDA error: an illegal memory access (token=s3cr3t)" });

        await first.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var (channel, payload) = Assert.Single(received);
        Assert.Equal($"{_prefix}events:errors:hardware", channel);
        Assert.DoesNotContain("s3cr3t", payload);
        using var doc = JsonDocument.Parse(payload);
        Assert.Equal("critical", doc.RootElement.GetProperty("severity").GetString());
    }

    [Fact]
    public async Task Healthz_reports_redis_and_a_stdio_server_shares_the_same_state()
    {
        using var http = new HttpClient();
        using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri(_one.BaseUri, "/healthz"), TestContext.Current.CancellationToken));
        Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
        Assert.Equal("redis", health.RootElement.GetProperty("store").GetString());
        Assert.True(health.RootElement.GetProperty("redis_ping_ms").GetDouble() >= 0);

        await using var stdio = await McpClients.StdioAsync(Args);
        var r = await stdio.CallAsync("report_failure", new { agent = "ide", error_type = "LintError", message = "rule no-unused-vars failed in 3 files", component = "lint" });
        var seen = await _clientTwo.CallAsync("query_errors", new { component = "lint" });
        Assert.Equal(r.GetProperty("event_id").GetString(), Assert.Single(seen.GetProperty("events").EnumerateArray()).GetProperty("event_id").GetString());
    }

    [Fact]
    public async Task Two_processes_seeing_a_template_in_different_orders_report_the_same_group_id()
    {
        // Alone, process two would start its template from "cyrus" and get another id; the template state in Redis
        // makes it join the group process one created from "root".
        string[] users = ["root", "cyrus", "news", "mail"];
        object Report(string user, string agent) => new { agent, error_type = "AuthError", message = $"session opened for user {user} by sshd daemon" };

        var fromOne = new List<JsonElement>();
        var fromTwo = new List<JsonElement>();
        for (var i = 0; i < users.Length; i++)
        {
            fromOne.Add(await _clientOne.CallAsync("report_failure", Report(users[i], "agent-one")));
            fromTwo.Add(await _clientTwo.CallAsync("report_failure", Report(users[^(i + 1)], "agent-two")));
        }
        var id = fromOne[0].GetProperty("group_id").GetString();
        Assert.StartsWith("grp_", id);
        Assert.All(fromOne.Concat(fromTwo), r => Assert.Equal(id, r.GetProperty("group_id").GetString()));
        Assert.Equal(1, fromOne.Concat(fromTwo).Count(r => r.GetProperty("is_new_group").GetBoolean()));
        Assert.Equal("AuthError: session opened for user <*> by sshd daemon", fromTwo[^1].GetProperty("signature").GetString());

        var detail = await _clientTwo.CallAsync("get_error_group", new { group_id = id });
        Assert.Equal(2 * users.Length, detail.GetProperty("group").GetProperty("count").GetInt64());
        Assert.Equal("AuthError: session opened for user <*> by sshd daemon", detail.GetProperty("group").GetProperty("signature").GetString());
    }
}
