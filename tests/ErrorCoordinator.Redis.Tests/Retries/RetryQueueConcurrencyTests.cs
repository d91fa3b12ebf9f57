using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Retries;
using ErrorCoordinator.Redis.Hosting;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace ErrorCoordinator.Redis.Tests.Retries;

/// <summary>The budget and idempotency checks are atomic with the enqueue: many concurrent callers in two processes on real Redis.</summary>
public sealed class RetryQueueConcurrencyTests(RedisServer server)
{
    private async Task<(ServiceProvider Provider, RetryService Retries)> ProcessAsync(string prefix, int minimum)
    {
        var mux = await RedisTestConnections.NewAsync(server);
        var provider = CoordinationTestServices.Build(TimeProvider.System, new Dictionary<string, string?>
        {
            ["ErrorCoordinator:Storage:KeyPrefix"] = prefix,
            ["ErrorCoordinator:Storage:ChannelPrefix"] = prefix,
            ["ErrorCoordinator:Retries:BudgetMinRetriesPerMinute"] = minimum.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, services => services.AddRedisStores(mux));
        return (provider, provider.GetRequiredService<RetryService>());
    }

    private static RetryRequest Request(string id, string component, string? key = null) => new()
    {
        TaskId = id, Agent = "a", Component = component, ErrorType = "TimeoutError", Message = "timed out", IdempotencyKey = key, BaseDelayMs = 0,
    };

    [Fact]
    public async Task Two_hundred_concurrent_enqueues_against_a_budget_of_ten_admit_exactly_ten()
    {
        var ct = TestContext.Current.CancellationToken;
        var prefix = TestPrefix.New();
        var (p1, a) = await ProcessAsync(prefix, 0);
        var (p2, b) = await ProcessAsync(prefix, 0);
        await using var _1 = p1;
        await using var _2 = p2;
        const string component = "payments";
        // 100 outcomes in the last minute: 10% allows 10 retries.
        var breakers = p1.GetRequiredService<BreakerService>();
        for (var i = 0; i < 100; i++) await breakers.RecordOutcomeAsync(new BreakerOutcome { Component = component, Success = i % 2 == 0 }, ct);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).EnqueueAsync(Request("t" + i, component), ct), ct)));
        Assert.Equal(10, results.Count(r => r.Status == EnqueueStatus.Scheduled));
        Assert.Equal(190, results.Count(r => r.Status == EnqueueStatus.BudgetExhausted));
        Assert.All(results.Where(r => r.Rejected is not null), r => Assert.Equal(10, r.Budget!.Allowed));
        var stats = await a.StatsAsync(component: component, cancellationToken: ct);
        Assert.Equal(10, stats.Counts.Pending);
        Assert.Equal(10, stats.Budget!.Retries);
    }

    [Fact]
    public async Task Concurrent_enqueues_with_one_idempotency_key_add_exactly_one_entry()
    {
        var ct = TestContext.Current.CancellationToken;
        var prefix = TestPrefix.New();
        var (p1, a) = await ProcessAsync(prefix, 1000);
        var (p2, b) = await ProcessAsync(prefix, 1000);
        await using var _1 = p1;
        await using var _2 = p2;

        var results = await Task.WhenAll(Enumerable.Range(0, 128).Select(i => Task.Run(() => (i % 2 == 0 ? a : b).EnqueueAsync(Request("job-" + (i % 4), "builds", "deploy-42"), ct), ct)));
        var scheduled = Assert.Single(results, r => r.Status == EnqueueStatus.Scheduled);
        Assert.Equal(127, results.Count(r => r.Status == EnqueueStatus.Duplicate));
        Assert.All(results, r => Assert.Equal(scheduled.Task!.TaskId, r.Task!.TaskId));
        var stats = await b.StatsAsync(component: "builds", cancellationToken: ct);
        Assert.Equal(1, stats.Counts.Tasks);
        Assert.Equal(1, stats.Counts.Pending);
    }

    [Fact]
    public async Task Concurrent_claims_by_many_workers_hand_each_due_task_to_exactly_one()
    {
        var ct = TestContext.Current.CancellationToken;
        var prefix = TestPrefix.New();
        var (p1, a) = await ProcessAsync(prefix, 1_000_000);
        var (p2, b) = await ProcessAsync(prefix, 1_000_000);
        await using var _1 = p1;
        await using var _2 = p2;
        await Parallel.ForEachAsync(Enumerable.Range(0, 300), ct, async (i, token) => await a.EnqueueAsync(Request("t" + i, "c" + (i % 5)), token));

        var claims = await Task.WhenAll(Enumerable.Range(0, 64).Select(w => Task.Run(async () =>
        {
            var mine = new List<string>();
            for (var round = 0; round < 5; round++)
                mine.AddRange((await (w % 2 == 0 ? a : b).ClaimAsync("w" + w, 3, 60, cancellationToken: ct)).Tasks.Select(t => t.TaskId));
            return mine;
        }, ct)));
        var all = claims.SelectMany(c => c).ToList();
        Assert.Equal(300, all.Count);
        Assert.Equal(300, all.Distinct().Count());
        Assert.Equal(300, (await a.StatsAsync(cancellationToken: ct)).Counts.InFlight);
    }
}
