using System.Text.Json;
using ErrorCoordinator.Mcp.Tests.Infrastructure;
using ModelContextProtocol.Client;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>The retry queue through a real MCP client: enqueue, claim, fail, claim again, dead letter, replay, complete.</summary>
public abstract class RetryScenarios
{
    protected abstract McpClient Client { get; }

    private static string C() => "svc-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Enqueue_claim_fail_claim_again_dead_letter_replay_and_complete()
    {
        var component = C();
        var task = "job-" + Guid.NewGuid().ToString("N")[..6];
        var enqueued = await Client.CallAsync("enqueue_retry", new
        {
            task_id = task, agent = "builder", error_type = "TimeoutError", message = "registry timed out after 3000 ms", component,
            payload = "{\"commit\":\"abc123\"}", max_attempts = 2, base_delay_ms = 0, backoff = "constant", idempotency_key = task + ":1",
        });
        Assert.Equal("scheduled", enqueued.GetProperty("status").GetString());
        Assert.Equal(1, enqueued.GetProperty("attempt").GetInt32());
        Assert.Equal(JsonValueKind.Null, enqueued.GetProperty("rejected").ValueKind);

        var duplicate = await Client.CallAsync("enqueue_retry", new
        {
            task_id = task, agent = "builder", error_type = "TimeoutError", message = "again", component, idempotency_key = task + ":1",
        });
        Assert.True(duplicate.GetProperty("duplicate").GetBoolean());

        var claim1 = await Client.CallAsync("claim_retries", new { worker = "w1", max = 5, lease_seconds = 30, component });
        var t1 = Assert.Single(claim1.GetProperty("tasks").EnumerateArray());
        Assert.Equal(task, t1.GetProperty("task_id").GetString());
        Assert.Equal(1, t1.GetProperty("delivery_count").GetInt32());
        Assert.Equal("{\"commit\":\"abc123\"}", t1.GetProperty("payload").GetString());
        var lease1 = t1.GetProperty("lease").GetString()!;

        var failed = await Client.CallAsync("complete_retry", new { task_id = task, lease = lease1, outcome = "failed", error = "registry timed out after 5000 ms" });
        Assert.Equal("rescheduled", failed.GetProperty("result").GetString());
        Assert.Equal(2, failed.GetProperty("attempt").GetInt32());

        // The old lease is refused with a clear error.
        var stale = await Client.CallFailingAsync("complete_retry", new { task_id = task, lease = lease1, outcome = "succeeded" });
        Assert.Contains("lease", stale, StringComparison.Ordinal);

        var claim2 = await Client.CallAsync("claim_retries", new { worker = "w2", component });
        var t2 = Assert.Single(claim2.GetProperty("tasks").EnumerateArray());
        Assert.Equal(2, t2.GetProperty("delivery_count").GetInt32());
        Assert.Equal(2, t2.GetProperty("attempt").GetInt32());
        var extended = await Client.CallAsync("extend_lease", new { task_id = task, lease = t2.GetProperty("lease").GetString(), seconds = 120 });
        Assert.True(extended.GetProperty("lease_expires_at").GetDateTimeOffset() > t2.GetProperty("lease_expires_at").GetDateTimeOffset());

        var dead = await Client.CallAsync("complete_retry", new { task_id = task, lease = t2.GetProperty("lease").GetString(), outcome = "failed", error = "registry down" });
        Assert.Equal("dead_lettered", dead.GetProperty("result").GetString());
        Assert.Equal("attempts_exhausted", dead.GetProperty("reason").GetString());

        var letters = await Client.CallAsync("list_dead_letters", new { component, limit = 10 });
        var letter = Assert.Single(letters.GetProperty("dead_letters").EnumerateArray());
        Assert.Equal(task, letter.GetProperty("task_id").GetString());
        var history = letter.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("event").GetString()).ToList();
        Assert.Equal(["enqueued", "failed", "failed", "dead_lettered"], history);
        Assert.Equal(JsonValueKind.Null, letters.GetProperty("next_cursor").ValueKind);

        var dry = await Client.CallAsync("replay_dead_letter", new { task_id = task, dry_run = true });
        Assert.Equal(1, dry.GetProperty("count").GetInt32());
        Assert.Single((await Client.CallAsync("list_dead_letters", new { component })).GetProperty("dead_letters").EnumerateArray());
        var replay = await Client.CallAsync("replay_dead_letter", new { task_id = task });
        Assert.Equal([task], replay.GetProperty("task_ids").EnumerateArray().Select(e => e.GetString()));

        var claim3 = await Client.CallAsync("claim_retries", new { worker = "w3", component });
        var t3 = Assert.Single(claim3.GetProperty("tasks").EnumerateArray());
        Assert.Equal(1, t3.GetProperty("attempt").GetInt32());
        var done = await Client.CallAsync("complete_retry", new { task_id = task, lease = t3.GetProperty("lease").GetString(), outcome = "succeeded" });
        Assert.Equal("succeeded", done.GetProperty("result").GetString());

        var stats = await Client.CallAsync("retry_stats", new { component });
        Assert.Equal(0, stats.GetProperty("pending").GetInt64());
        Assert.Equal(0, stats.GetProperty("in_flight").GetInt64());
        Assert.Equal(0, stats.GetProperty("dead_letters").GetInt64());
        Assert.Equal(1, stats.GetProperty("succeeded").GetInt64());
        Assert.Equal(1, stats.GetProperty("tasks").GetInt64());
        Assert.Equal(0.5, stats.GetProperty("success_rate").GetDouble());
        Assert.Equal(4.0, stats.GetProperty("retry_amplification").GetDouble()); // 1 original run + 3 deliveries
        Assert.Equal(2, stats.GetProperty("budget").GetProperty("retries_last_minute").GetInt64());
    }

    [Fact]
    public async Task Bad_input_and_purge_answer_through_the_tools()
    {
        var component = C();
        var big = await Client.CallFailingAsync("enqueue_retry", new
        {
            task_id = "t", agent = "a", error_type = "E", message = "m", component, payload = "\"" + new string('x', 70_000) + "\"",
        });
        Assert.Contains("payload", big, StringComparison.Ordinal);
        Assert.Contains("65536", big, StringComparison.Ordinal);
        var both = await Client.CallFailingAsync("purge_dead_letters", new { });
        Assert.Contains("older_than", both, StringComparison.Ordinal);

        await Client.CallAsync("enqueue_retry", new { task_id = "p1", agent = "a", error_type = "E", message = "m", component, max_attempts = 0 });
        var purged = await Client.CallAsync("purge_dead_letters", new { task_ids = new[] { "p1" } });
        Assert.Equal(1, purged.GetProperty("purged").GetInt32());
    }

    [Fact]
    public async Task The_retry_tools_are_listed_with_truthful_annotations()
    {
        var tools = (await Client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken)).ToDictionary(t => t.Name);
        foreach (var name in new[] { "enqueue_retry", "claim_retries", "complete_retry", "extend_lease", "list_dead_letters", "replay_dead_letter", "purge_dead_letters", "retry_stats" })
        {
            var tool = tools[name];
            Assert.False(string.IsNullOrWhiteSpace(tool.Description));
            Assert.NotNull(tool.ProtocolTool.OutputSchema);
        }
        Assert.True(tools["purge_dead_letters"].ProtocolTool.Annotations!.DestructiveHint);
        Assert.True(tools["purge_dead_letters"].ProtocolTool.Annotations!.IdempotentHint);
        Assert.False(tools["enqueue_retry"].ProtocolTool.Annotations!.IdempotentHint);
        Assert.False(tools["enqueue_retry"].ProtocolTool.Annotations!.DestructiveHint);
        Assert.True(tools["retry_stats"].ProtocolTool.Annotations!.ReadOnlyHint);
        Assert.True(tools["list_dead_letters"].ProtocolTool.Annotations!.ReadOnlyHint);
        Assert.False(tools["claim_retries"].ProtocolTool.Annotations!.ReadOnlyHint);
        Assert.False(tools["claim_retries"].ProtocolTool.Annotations!.DestructiveHint);
    }
}

/// <summary>The scenarios over stdio on the embedded store.</summary>
public sealed class RetryStdioEndToEndTests(StdioServerFixture server) : RetryScenarios, IClassFixture<StdioServerFixture>
{
    protected override McpClient Client => server.Client;
}

/// <summary>The scenarios over HTTP with the queue in Redis.</summary>
public sealed class RetryRedisHttpEndToEndTests(RedisHttpServerFixture fixture) : RetryScenarios, IClassFixture<RedisHttpServerFixture>
{
    protected override McpClient Client => fixture.Client;
}

/// <summary>The background sweep of a running server returns a crashed worker's task to the queue while nobody claims.</summary>
public sealed class RetrySweepEndToEndTests
{
    [Fact]
    public async Task An_expired_lease_goes_back_to_pending_without_any_claim()
    {
        await using var client = await McpClients.StdioAsync(["--set", "ErrorCoordinator:Retries:SweepInterval=00:00:00.200"], null);
        var component = "svc-" + Guid.NewGuid().ToString("N")[..8];
        await client.CallAsync("enqueue_retry", new { task_id = "sweep-1", agent = "a", error_type = "E", message = "m", component, base_delay_ms = 0 });
        var claim = await client.CallAsync("claim_retries", new { worker = "crashes", lease_seconds = 1, component });
        Assert.Single(claim.GetProperty("tasks").EnumerateArray());
        Assert.Equal(1, (await client.CallAsync("retry_stats", new { component })).GetProperty("in_flight").GetInt64());

        var deadline = DateTime.UtcNow.AddSeconds(15);
        JsonElement stats;
        do
        {
            await Task.Delay(200, TestContext.Current.CancellationToken);
            stats = await client.CallAsync("retry_stats", new { component });
        } while (stats.GetProperty("in_flight").GetInt64() != 0 && DateTime.UtcNow < deadline);
        Assert.Equal(0, stats.GetProperty("in_flight").GetInt64());
        Assert.Equal(1, stats.GetProperty("pending").GetInt64());
        Assert.Equal(1, stats.GetProperty("due_now").GetInt64());
    }
}
