using ErrorCoordinator.Testing.Contract;
using System.Collections.Concurrent;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Retries;
using ErrorCoordinator.Redis.Hosting;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace ErrorCoordinator.Redis.Tests.Retries;

/// <summary>
/// At-least-once delivery with leases against a real redis-server and the real clock: two "processes" (service providers
/// with their own connections) share one queue; one of four workers crashes (claims and never completes).
/// </summary>
public sealed class RetryQueueCrashTests(RedisServer server)
{
    private async Task<(ServiceProvider Provider, RetryService Retries)> ProcessAsync(string prefix)
    {
        var mux = await RedisTestConnections.NewAsync(server);
        var provider = CoordinationTestServices.Build(TimeProvider.System, new Dictionary<string, string?>
        {
            ["ErrorCoordinator:Storage:KeyPrefix"] = prefix,
            ["ErrorCoordinator:Storage:ChannelPrefix"] = prefix,
            // The budget is not under test here: allow every retry.
            ["ErrorCoordinator:Retries:BudgetMinRetriesPerMinute"] = "1000000",
        }, services => services.AddRedisStores(mux));
        return (provider, provider.GetRequiredService<RetryService>());
    }

    [Fact]
    public async Task With_one_of_four_workers_crashing_every_task_is_completed_exactly_once_or_dead_lettered()
    {
        const int tasks = 1000;
        var ct = TestContext.Current.CancellationToken;
        var prefix = TestPrefix.New();
        var (p1, a) = await ProcessAsync(prefix);
        var (p2, b) = await ProcessAsync(prefix);
        await using var _1 = p1;
        await using var _2 = p2;
        const string component = "orders-api";

        var ids = Enumerable.Range(0, tasks).Select(i => $"task-{i:D4}").ToList();
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (id, token) =>
        {
            var r = await (id.GetHashCode() % 2 == 0 ? a : b).EnqueueAsync(new RetryRequest
            {
                TaskId = id, Agent = "producer", Component = component, ErrorType = "TimeoutError", Message = "upstream timed out",
                Payload = $"{{\"id\":\"{id}\"}}", MaxAttempts = 3, BaseDelayMs = 0, MaxDelayMs = 50, Backoff = "exponential_full_jitter",
            }, token);
            Assert.Equal(EnqueueStatus.Scheduled, r.Status);
        });

        var succeeded = new ConcurrentDictionary<string, int>();
        var crashedLeases = new ConcurrentBag<(string TaskId, string Lease)>();
        var failedOnce = new ConcurrentDictionary<string, bool>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);

        async Task Healthy(RetryService retries, string worker)
        {
            while (!stop.IsCancellationRequested)
            {
                var claim = await retries.ClaimAsync(worker, 10, 2, cancellationToken: CancellationToken.None);
                if (claim.Tasks.Count == 0)
                {
                    await Task.Delay(20, CancellationToken.None);
                    continue;
                }
                foreach (var t in claim.Tasks)
                {
                    Assert.Equal($"{{\"id\":\"{t.TaskId}\"}}", t.Payload);
                    // Every 10th task fails its first attempt, so rescheduling runs alongside redelivery.
                    var fail = int.Parse(t.TaskId[5..], System.Globalization.CultureInfo.InvariantCulture) % 10 == 0 && failedOnce.TryAdd(t.TaskId, true);
                    var r = await retries.CompleteAsync(t.TaskId, t.Lease!, fail ? "failed" : "succeeded", fail ? "flaky" : null, cancellationToken: CancellationToken.None);
                    if (r.Result == CompletionResult.Succeeded) succeeded.AddOrUpdate(t.TaskId, 1, (_, n) => n + 1);
                }
            }
        }

        async Task Crashing(RetryService retries)
        {
            // Claims a few tasks now and then and never completes them: a worker that dies after taking work.
            while (!stop.IsCancellationRequested)
            {
                var claim = await retries.ClaimAsync("crasher", 5, 2, cancellationToken: CancellationToken.None);
                foreach (var t in claim.Tasks) crashedLeases.Add((t.TaskId, t.Lease!));
                await Task.Delay(30, CancellationToken.None);
            }
        }

        async Task Sweeper(RetryService retries)
        {
            while (!stop.IsCancellationRequested)
            {
                await retries.SweepAsync(CancellationToken.None);
                await Task.Delay(200, CancellationToken.None);
            }
        }

        var workers = new[] { Healthy(a, "w1"), Healthy(a, "w2"), Healthy(b, "w3"), Crashing(b), Sweeper(a) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        RetryStats stats;
        while (true)
        {
            await Task.Delay(250, ct);
            stats = await a.StatsAsync(component: component, cancellationToken: ct);
            if (stats.Counts.Pending + stats.Counts.InFlight == 0 || DateTime.UtcNow > deadline) break;
        }
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.True(stats.Counts.Pending + stats.Counts.InFlight == 0, $"queue did not drain: {stats.Counts.Pending} pending, {stats.Counts.InFlight} in flight");
        Assert.NotEmpty(crashedLeases);
        // Tasks the crashed worker took came back and were completed by the others.
        Assert.Contains(crashedLeases, c => succeeded.ContainsKey(c.TaskId));

        // Nothing completed twice.
        Assert.All(succeeded, kv => Assert.Equal(1, kv.Value));

        // Every task is either completed or dead-lettered, never both, none lost.
        var dead = new List<RetryTask>();
        string? cursor = null;
        do
        {
            var page = await b.ListDeadLettersAsync(component: component, limit: 500, cursor: cursor, cancellationToken: ct);
            dead.AddRange(page.Items);
            cursor = page.NextCursor;
        } while (cursor is not null);
        var deadIds = dead.Select(d => d.TaskId).ToHashSet();
        Assert.Equal(dead.Count, deadIds.Count);
        Assert.Empty(deadIds.Intersect(succeeded.Keys));
        Assert.Equal(ids.ToHashSet(), deadIds.Union(succeeded.Keys).ToHashSet());
        Assert.All(dead, d => Assert.Equal(DeadLetterReasons.DeliveriesExceeded, d.DeadReason));
        Assert.Equal(succeeded.Count, stats.Counts.Succeeded);
        Assert.Equal(dead.Count, stats.Counts.DeadLetters);
        Assert.Equal(tasks, stats.Counts.Tasks);

        // The crashed worker's leases are all stale now: none of them can complete a task a second time.
        foreach (var (taskId, lease) in crashedLeases.Take(200))
        {
            var ex = await Record.ExceptionAsync(() => a.CompleteAsync(taskId, lease, "succeeded", cancellationToken: ct));
            Assert.True(ex is ValidationException or NotFoundException, $"stale lease of {taskId} was accepted");
        }
    }

    [Fact]
    public async Task A_short_real_lease_expires_in_the_script_and_the_task_is_redelivered()
    {
        var ct = TestContext.Current.CancellationToken;
        var (provider, retries) = await ProcessAsync(TestPrefix.New());
        await using var _ = provider;
        await retries.EnqueueAsync(new RetryRequest { TaskId = "t1", Agent = "a", Component = "c", ErrorType = "E", Message = "m", BaseDelayMs = 0 }, ct);
        var first = Assert.Single((await retries.ClaimAsync("w1", 1, 1, cancellationToken: ct)).Tasks);
        Assert.Empty((await retries.ClaimAsync("w2", 1, 1, cancellationToken: ct)).Tasks);
        await Task.Delay(1100, ct);
        var second = Assert.Single((await retries.ClaimAsync("w2", 1, 30, cancellationToken: ct)).Tasks);
        Assert.Equal(2, second.Deliveries);
        Assert.NotEqual(first.Lease, second.Lease);
        await Assert.ThrowsAsync<ValidationException>(() => retries.CompleteAsync("t1", first.Lease!, "succeeded", cancellationToken: ct));
        Assert.Equal(CompletionResult.Succeeded, (await retries.CompleteAsync("t1", second.Lease!, "succeeded", cancellationToken: ct)).Result);
    }
}
