using ErrorCoordinator.Core.Storage.InMemory;
using ErrorCoordinator.Core.Training;
using ErrorCoordinator.Redis.Scripting;
using ErrorCoordinator.Redis.Training;
using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Tests.Training;

/// <summary>The training store contract against a real redis-server; every test gets its own key prefix.</summary>
public sealed class RedisTrainingStoreContractTests(RedisServer server) : TrainingStoreContractTests
{
    private IConnectionMultiplexer Mux => RedisTestConnections.SharedAsync(server).GetAwaiter().GetResult();

    protected override ITrainingStore CreateStore() => new RedisTrainingStore(Mux, new KeySchema(TestPrefix.New()), new RedisScripts(Mux));

    protected override Task ElapseAsync(TimeSpan span) => Task.Delay(span, TestContext.Current.CancellationToken);

    [Fact]
    public async Task A_step_is_one_round_trip_touching_only_the_runs_keys()
    {
        var prefix = TestPrefix.New();
        var keys = new KeySchema(prefix);
        var store = new RedisTrainingStore(Mux, keys, new RedisScripts(Mux));
        await store.RecordStepAsync("proj", "run", 1.5, 0.5, 50, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        var db = Mux.GetDatabase();
        Assert.Equal("1.5", (string?)await db.ListGetByIndexAsync(keys.TrainingLosses("proj", "run"), 0));
        Assert.Equal("0.5", (string?)await db.ListGetByIndexAsync(keys.TrainingGradNorms("proj", "run"), 0));
        var ttl = await db.KeyTimeToLiveAsync(keys.TrainingLosses("proj", "run"));
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        // Both keys share the run's hash tag, so the script is cluster-safe.
        Assert.Equal(KeyTag(keys.TrainingLosses("proj", "run")), KeyTag(keys.TrainingGradNorms("proj", "run")));
        // A NaN-only step (nothing finite to append) leaves no key behind for a new run.
        await store.RecordStepAsync("proj", "nan-run", null, null, 50, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        Assert.False(await db.KeyExistsAsync(keys.TrainingLosses("proj", "nan-run")));
    }

    private static string KeyTag(RedisKey key)
    {
        var s = key.ToString();
        var open = s.IndexOf('{');
        return s[open..(s.IndexOf('}', open) + 1)];
    }
}

/// <summary>The same contract against the embedded store.</summary>
public sealed class InMemoryTrainingStoreContractTests : TrainingStoreContractTests
{
    protected override ITrainingStore CreateStore() => new InMemoryTrainingStore(Time, Options.Create(new TrainingOptions()));

    protected override Task ElapseAsync(TimeSpan span)
    {
        Time.Advance(span);
        return Task.CompletedTask;
    }
}
