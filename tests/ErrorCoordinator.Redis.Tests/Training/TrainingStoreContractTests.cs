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
    public async Task A_run_is_one_key_of_16_byte_records_with_the_idle_ttl()
    {
        var keys = new KeySchema(TestPrefix.New());
        var store = new RedisTrainingStore(Mux, keys, new RedisScripts(Mux));
        await store.RecordStepAsync("proj", "run", 1.5, 0.5, 3, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        await store.RecordStepAsync("proj", "run", 2.5, null, 3, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        var db = Mux.GetDatabase();
        var key = keys.TrainingWindow("proj", "run");
        var raw = (byte[]?)await db.StringGetAsync(key);
        Assert.Equal(32, raw!.Length);
        Assert.Equal(2.5, BitConverter.ToDouble(raw, 0));
        Assert.True(double.IsNaN(BitConverter.ToDouble(raw, 8)));
        Assert.Equal(1.5, BitConverter.ToDouble(raw, 16));
        Assert.Equal(0.5, BitConverter.ToDouble(raw, 24));
        var ttl = await db.KeyTimeToLiveAsync(key);
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        // Capped at 3 records (48 bytes).
        for (var i = 0; i < 5; i++) await store.RecordStepAsync("proj", "run", i, i, 3, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        Assert.Equal(48, ((byte[]?)await db.StringGetAsync(key))!.Length);
        // A step with nothing finite leaves no key behind for a new run.
        await store.RecordStepAsync("proj", "nan-run", null, null, 50, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        Assert.False(await db.KeyExistsAsync(keys.TrainingWindow("proj", "nan-run")));
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
