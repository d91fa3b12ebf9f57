using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Core.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Gpu.Tests;

/// <summary>The hosted watch end to end on the embedded store: fake NVML -> probe -> rules -> reports, log, breaker.</summary>
public sealed class WatchServiceTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static ServiceProvider Build(FakeNvml? nvml, FakeTimeProvider clock, string? reason = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ErrorCoordinator:Gpu:WatchInterval"] = "00:00:30",
            ["ErrorCoordinator:Gpu:DedupWindow"] = "01:00:00",
            ["ErrorCoordinator:Gpu:Agent"] = "gpu-watch@test",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(clock);
        services.AddErrorReporting(configuration);
        services.AddInMemoryStores();
        services.AddBreakers(configuration);
        services.AddGpuHealth(configuration);
        services.AddSingleton<IGpuProbe>(_ => new NvmlGpuProbe((out string r) => { r = reason ?? ""; return nvml; }, clock));
        services.AddSingleton<IHostedService, GpuWatchService>();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail("timed out waiting for " + what);
            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Memory_exhaustion_and_an_xid_become_events_once_and_open_gpu_tasks_for_5_minutes()
    {
        var clock = new FakeTimeProvider(Start);
        var nvml = new FakeNvml(new FakeGpu { Uuid = "GPU-hot", MemoryTotal = 100, MemoryUsed = 97 });
        nvml.Xid(0, 79);
        nvml.Xid(0, 13);
        await using var sp = Build(nvml, clock);
        var published = new List<BusMessage>();
        await using var sub = await sp.GetRequiredService<IEventBus>().SubscribeAsync("events:errors:hardware", m => { lock (published) published.Add(m); }, TestContext.Current.CancellationToken);
        var errors = sp.GetRequiredService<ErrorReportingService>();
        var watch = (GpuWatchService)sp.GetRequiredService<IHostedService>();

        await watch.StartAsync(TestContext.Current.CancellationToken);
        async Task<IReadOnlyList<ErrorEvent>> Events() => (await errors.QueryAsync(new ErrorQuery { Agent = "gpu-watch@test" }, TestContext.Current.CancellationToken)).Items;
        await Eventually(async () => (await Events()).Count >= 2, "the gpu_oom and XID 79 reports");

        var events = await Events();
        var oom = Assert.Single(events, e => e.ErrorType == "gpu_oom");
        Assert.Equal(("hardware", Severity.Critical, ErrorCategory.ResourceExhaustion, "GPU-hot"), (oom.Kind, oom.Severity, oom.Category, oom.Component));
        Assert.Equal(Start + TimeSpan.FromDays(7), oom.ExpiresAt);
        var xid = Assert.Single(events, e => e.ErrorType == "gpu_xid");
        Assert.Equal(("79", Severity.Critical, ErrorCategory.Infrastructure), (xid.Code, xid.Severity, xid.Category));

        var breaker = await sp.GetRequiredService<BreakerService>().GetAsync("gpu_tasks", TestContext.Current.CancellationToken);
        Assert.Equal(BreakerState.Open, breaker.State);
        Assert.Equal(Start + TimeSpan.FromMinutes(5), breaker.OpenUntil);

        var log = await sp.GetRequiredService<IHardwareLog>().ReadAsync(10, TestContext.Current.CancellationToken);
        Assert.Equal(["gpu_oom", "gpu_xid"], log.Select(e => e.Type).Order());
        lock (published) Assert.Contains(published, m => m.Payload.Contains("gpu_oom"));

        // More watch passes with memory still exhausted: nothing new is reported (same signature, inside the dedup window).
        // After the 5-minute break the breaker would probe (half-open); the watch opens it again while memory stays exhausted.
        var opened = breaker.OpenedAt;
        for (var i = 0; i < 11; i++)
        {
            var probes = nvml.CountCalls;
            clock.Advance(TimeSpan.FromSeconds(30));
            await Eventually(() => Task.FromResult(nvml.CountCalls > probes), $"watch pass {i + 2}");
        }
        await Eventually(async () => (await sp.GetRequiredService<BreakerService>().GetAsync("gpu_tasks", TestContext.Current.CancellationToken)).OpenedAt > opened, "the breaker to be opened again");
        Assert.Equal(2, (await Events()).Count);
        var reopened = await sp.GetRequiredService<BreakerService>().GetAsync("gpu_tasks", TestContext.Current.CancellationToken);
        Assert.Equal(BreakerState.Open, reopened.State);
        // At 12:05 the break ended (half-open); that pass opened it again for 5 minutes.
        Assert.Equal(Start + TimeSpan.FromMinutes(10), reopened.OpenUntil);

        await watch.StopAsync(TestContext.Current.CancellationToken);
        Assert.Equal(1, nvml.EventSetsFreed);
    }

    [Fact]
    public async Task Without_a_gpu_the_watch_turns_itself_off()
    {
        var clock = new FakeTimeProvider(Start);
        await using var sp = Build(null, clock, "libnvidia-ml.so.1 could not be loaded");
        var watch = (GpuWatchService)sp.GetRequiredService<IHostedService>();
        await watch.StartAsync(TestContext.Current.CancellationToken);
        await Eventually(() => Task.FromResult(watch.ExecuteTask?.IsCompleted == true), "the watch to stop");
        Assert.True(watch.ExecuteTask!.IsCompletedSuccessfully);
        var groups = await sp.GetRequiredService<ErrorReportingService>().ListGroupsAsync(new GroupQuery(), TestContext.Current.CancellationToken);
        Assert.Empty(groups.Items);
        await watch.StopAsync(TestContext.Current.CancellationToken);
    }
}
