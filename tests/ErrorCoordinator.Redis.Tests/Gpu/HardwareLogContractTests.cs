using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Core.Storage.InMemory;
using ErrorCoordinator.Redis.Gpu;
using ErrorCoordinator.Redis.Scripting;
using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Testing.Redis;

namespace ErrorCoordinator.Redis.Tests.Gpu;

/// <summary>The hardware log contract against a real redis-server; every test gets its own key prefix.</summary>
public sealed class RedisHardwareLogContractTests(RedisServer server) : HardwareLogContractTests
{
    protected override IHardwareLog CreateLog()
    {
        var mux = RedisTestConnections.SharedAsync(server).GetAwaiter().GetResult();
        return new RedisHardwareLog(mux, new KeySchema(TestPrefix.New()), new RedisScripts(mux));
    }

    protected override Task ElapseAsync(TimeSpan span) => Task.Delay(span, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Two_servers_on_one_redis_report_a_finding_once()
    {
        // Two processes' connections watching the same GPU: the dedup marker is shared.
        var prefix = TestPrefix.New();
        var a = await RedisTestConnections.NewAsync(server);
        var b = await RedisTestConnections.NewAsync(server);
        var logs = new[] { a, b }.Select(m => new RedisHardwareLog(m, new KeySchema(prefix), new RedisScripts(m))).ToArray();
        var results = await Task.WhenAll(Enumerable.Range(0, 40).Select(i =>
            Task.Run(() => logs[i % 2].TryAppendAsync(Entry("gpu_xid:GPU-1:79", "gpu_xid"), TimeSpan.FromHours(1), 100, TimeSpan.FromDays(7), TestContext.Current.CancellationToken))));
        Assert.Equal(1, results.Count(r => r));
        Assert.Single(await logs[0].ReadAsync(10, TestContext.Current.CancellationToken));
        await a.DisposeAsync();
        await b.DisposeAsync();
    }
}

/// <summary>The same contract against the embedded store.</summary>
public sealed class InMemoryHardwareLogContractTests : HardwareLogContractTests
{
    protected override IHardwareLog CreateLog() => new InMemoryHardwareLog(Time);

    protected override Task ElapseAsync(TimeSpan span)
    {
        Time.Advance(span);
        return Task.CompletedTask;
    }
}
