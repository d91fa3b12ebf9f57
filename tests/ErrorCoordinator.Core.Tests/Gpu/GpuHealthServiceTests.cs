using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Core.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Core.Tests.Gpu;

/// <summary>GpuHealthService on the embedded store with a scripted probe.</summary>
public sealed class GpuHealthServiceTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _clock = new(TestServices.Start);
    private readonly ScriptedProbe _probe = new();
    private readonly FlakyLog _log;
    private readonly ServiceProvider _sp;

    public GpuHealthServiceTests() : this(new Dictionary<string, string?>()) { }

    private GpuHealthServiceTests(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddErrorReporting(configuration);
        services.AddInMemoryStores();
        services.AddBreakers(configuration);
        services.AddSingleton<IGpuProbe>(_probe);
        _log = new FlakyLog(new Storage.InMemory.InMemoryHardwareLog(_clock));
        services.AddSingleton<IHardwareLog>(_log);
        services.AddGpuHealth(configuration);
        _sp = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    private GpuHealthService Health => _sp.GetRequiredService<GpuHealthService>();

    private static GpuSnapshot Gpu(ulong used, uint temp = 50, ulong reasons = 0) =>
        new() { Index = 0, Uuid = "GPU-1", Name = "NVIDIA A100", MemoryTotalBytes = 100, MemoryUsedBytes = used, TemperatureC = temp, SlowdownTemperatureC = 90, ClockEventReasons = reasons };

    [Fact]
    public async Task Probe_applies_the_rules_and_reports_nothing()
    {
        _probe.Next = Gpu(97);
        var report = await Health.ProbeAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(report.Available);
        Assert.Equal(["gpu_oom"], Assert.Single(report.Gpus).Findings.Select(f => f.Rule));
        Assert.Empty((await _sp.GetRequiredService<ErrorReportingService>().ListGroupsAsync(new GroupQuery(), TestContext.Current.CancellationToken)).Items);
        Assert.Equal(BreakerState.Closed, (await _sp.GetRequiredService<BreakerService>().GetAsync("gpu_tasks", TestContext.Current.CancellationToken)).State);
    }

    [Fact]
    public async Task A_negative_index_names_the_field()
    {
        var ex = await Assert.ThrowsAsync<ValidationException>(() => Health.ProbeAsync(-1, TestContext.Current.CancellationToken));
        Assert.Equal("index", ex.Field);
    }

    [Fact]
    public async Task Info_findings_are_not_reported_and_a_repeat_is_deduplicated_until_the_window_ends()
    {
        _probe.Next = Gpu(50, temp: 82, reasons: ClockEventReasons.SwPowerCap);
        var (_, first) = await Health.WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.Equal(["gpu_thermal", "gpu_power_cap"], first!.Findings.Select(f => f.Rule));
        var reported = Assert.Single(first.Reported);
        Assert.Equal((Severity.Warning, ErrorCategory.Infrastructure), (reported.Severity, reported.Category));

        var (_, second) = await Health.WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.Empty(second!.Reported);
        Assert.Equal(1, second.Deduplicated);

        _clock.Advance(TimeSpan.FromHours(1));
        var (_, later) = await Health.WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.Single(later!.Reported);
        Assert.Equal(2, (await _log.ReadAsync(10, TestContext.Current.CancellationToken)).Count);
    }

    [Fact]
    public async Task A_warning_that_becomes_critical_is_reported_again_inside_the_dedup_window()
    {
        _probe.Next = Gpu(50, temp: 85);
        var (_, warm) = await Health.WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.Equal(Severity.Warning, Assert.Single(warm!.Reported).Severity);
        _clock.Advance(TimeSpan.FromMinutes(1));
        _probe.Next = Gpu(50, temp: 92);
        var (_, hot) = await Health.WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.Equal(Severity.Critical, Assert.Single(hot!.Reported).Severity);
        _clock.Advance(TimeSpan.FromMinutes(1));
        var (_, still) = await Health.WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.Empty(still!.Reported);
    }

    [Fact]
    public async Task Without_a_uuid_the_same_gpu_index_on_two_hosts_is_not_one_finding()
    {
        _probe.Next = Gpu(50, temp: 85) with { Uuid = null };
        var (_, a) = await HealthWithAgent("gpu-watch@host-a").WatchOnceAsync(TestContext.Current.CancellationToken);
        var (_, b) = await HealthWithAgent("gpu-watch@host-b").WatchOnceAsync(TestContext.Current.CancellationToken);
        var (_, again) = await HealthWithAgent("gpu-watch@host-a").WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.Single(a!.Reported);
        Assert.Single(b!.Reported);
        Assert.Empty(again!.Reported);
        Assert.Equal(["gpu-watch@host-b:gpu_thermal:warning:gpu0", "gpu-watch@host-a:gpu_thermal:warning:gpu0"],
            (await _log.ReadAsync(10, TestContext.Current.CancellationToken)).Select(e => e.Signature));
    }

    [Fact]
    public async Task A_finding_whose_report_fails_is_tried_again_on_the_next_pass()
    {
        _probe.Next = Gpu(50, temp: 85);
        // A watch configured with an agent name over the limit: its report is refused after the finding was logged.
        var (_, first) = await HealthWithAgent(new string('a', 300)).WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.Empty(first!.Reported);
        Assert.Equal(0, first.Deduplicated);
        Assert.Equal(1, _log.Forgotten);

        var (_, second) = await Health.WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.StartsWith("gpu_thermal:", Assert.Single(second!.Reported).Signature);
    }

    private GpuHealthService HealthWithAgent(string agent) => new(_probe, _log, _sp.GetRequiredService<ErrorReportingService>(), _sp.GetRequiredService<BreakerService>(),
        Microsoft.Extensions.Options.Options.Create(new GpuOptions { Agent = agent }), _clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<GpuHealthService>.Instance);

    [Fact]
    public async Task A_breaker_that_cannot_be_opened_does_not_stop_the_report()
    {
        _probe.Next = Gpu(97);
        var (_, outcome) = await HealthWithAgent(new string('a', 300)).WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.False(outcome!.BreakerOpened);
        Assert.Equal(1, _log.Forgotten); // the report with that agent fails too, and is retried
        var (_, next) = await Health.WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.True(next!.BreakerOpened);
        Assert.Single(next.Reported);
    }

    [Fact]
    public async Task Disabled_probing_is_unavailable_with_the_reason()
    {
        var svc = new GpuHealthService(_probe, _log, _sp.GetRequiredService<ErrorReportingService>(), _sp.GetRequiredService<BreakerService>(),
            Microsoft.Extensions.Options.Options.Create(new GpuOptions { Enabled = false }), _clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<GpuHealthService>.Instance);
        _probe.Next = Gpu(97);
        var r = await svc.ProbeAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(r.Available);
        Assert.Contains("disabled", r.Reason);
        Assert.Equal(0, _probe.Calls);
    }

    [Fact]
    public async Task Memory_exhaustion_opens_gpu_tasks_once_while_it_is_open()
    {
        _probe.Next = Gpu(96);
        var (_, first) = await Health.WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.True(first!.BreakerOpened);
        _clock.Advance(TimeSpan.FromMinutes(1));
        var (_, second) = await Health.WatchOnceAsync(TestContext.Current.CancellationToken);
        Assert.False(second!.BreakerOpened);
        var breaker = await _sp.GetRequiredService<BreakerService>().GetAsync("gpu_tasks", TestContext.Current.CancellationToken);
        Assert.Equal(BreakerState.Open, breaker.State);
        Assert.Equal(TestServices.Start + TimeSpan.FromMinutes(5), breaker.OpenUntil);
        Assert.Contains("memory 96% used", breaker.Reason);
    }

    [Theory]
    [InlineData("ErrorCoordinator:Gpu:Thresholds:MemoryCriticalRatio", "1.5", "MemoryCriticalRatio must be between 0.01 and 1")]
    [InlineData("ErrorCoordinator:Gpu:Thresholds:MemoryWarningRatio", "0.99", "MemoryWarningRatio must not exceed MemoryCriticalRatio")]
    [InlineData("ErrorCoordinator:Gpu:WatchInterval", "00:00:00.100", "WatchInterval must be between 1 second and 1 hour")]
    [InlineData("ErrorCoordinator:Gpu:LogMaxEntries", "1", "LogMaxEntries must be between 10 and 1000000")]
    public void Options_are_validated_at_start(string key, string value, string message)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        var services = new ServiceCollection();
        services.AddErrorReporting(configuration);
        services.AddGpuHealth(configuration);
        using var sp = services.BuildServiceProvider();
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<GpuOptions>>().Value);
        Assert.Contains(message, ex.Message);
    }

    public async ValueTask DisposeAsync() => await _sp.DisposeAsync();

    private sealed class ScriptedProbe : IGpuProbe
    {
        public GpuSnapshot? Next { get; set; }
        public int Calls { get; private set; }

        public Task<GpuProbeResult> ProbeAsync(int? index = null, CancellationToken cancellationToken = default)
        {
            Calls++;
            return Task.FromResult(Next is null ? GpuProbeResult.Unavailable("none") : new GpuProbeResult(true, null, "550", 1, [Next]));
        }

        public async IAsyncEnumerable<GpuEvent> ReadEventsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.CompletedTask;
            yield break;
        }
    }

    private sealed class FlakyLog(IHardwareLog inner) : IHardwareLog
    {
        public int Forgotten { get; private set; }

        public Task<bool> TryAppendAsync(HardwareLogEntry entry, TimeSpan dedupWindow, int maxEntries, TimeSpan retention, CancellationToken cancellationToken = default) =>
            inner.TryAppendAsync(entry, dedupWindow, maxEntries, retention, cancellationToken);

        public Task ForgetAsync(string signature, CancellationToken cancellationToken = default)
        {
            Forgotten++;
            return inner.ForgetAsync(signature, cancellationToken);
        }

        public Task<IReadOnlyList<HardwareLogEntry>> ReadAsync(int limit, CancellationToken cancellationToken = default) => inner.ReadAsync(limit, cancellationToken);
    }
}
