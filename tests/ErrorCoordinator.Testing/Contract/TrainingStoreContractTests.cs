using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Core.Training;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace ErrorCoordinator.Testing.Contract;

/// <summary>The one contract every <see cref="ITrainingStore"/> passes (Redis and in-memory).</summary>
public abstract class TrainingStoreContractTests
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    protected FakeTimeProvider Time { get; } = new(Start);

    /// <summary>A fresh store that shares no data with any other test. For Redis, expiry is Redis's own clock, not <see cref="Time"/>.</summary>
    protected abstract ITrainingStore CreateStore();

    /// <summary>Lets retention run out: advances the fake clock (in memory) or waits (Redis TTLs).</summary>
    protected abstract Task ElapseAsync(TimeSpan span);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Returns_the_window_before_the_step_newest_first_and_caps_it()
    {
        var store = CreateStore();
        var seen = new List<TrainingWindow>();
        for (var i = 1; i <= 7; i++) seen.Add(await store.RecordStepAsync("p", "r", i, i * 10, 5, TimeSpan.FromDays(1), Ct));
        Assert.Empty(seen[0].Losses);
        Assert.Equal([1.0], seen[1].Losses);
        Assert.Equal([6.0, 5.0, 4.0, 3.0, 2.0], seen[6].Losses);
        Assert.Equal([60.0, 50.0, 40.0, 30.0, 20.0], seen[6].GradNorms);
    }

    [Fact]
    public async Task Null_values_are_not_appended_and_values_round_trip_exactly()
    {
        var store = CreateStore();
        await store.RecordStepAsync("p", "r", 0.1 + 0.2, null, 50, TimeSpan.FromDays(1), Ct);
        await store.RecordStepAsync("p", "r", null, 1e-300, 50, TimeSpan.FromDays(1), Ct);
        await store.RecordStepAsync("p", "r", 12345.678901234567, 5e300, 50, TimeSpan.FromDays(1), Ct);
        var w = await store.RecordStepAsync("p", "r", null, null, 50, TimeSpan.FromDays(1), Ct);
        Assert.Equal([12345.678901234567, 0.1 + 0.2], w.Losses);
        Assert.Equal([5e300, 1e-300], w.GradNorms);
    }

    [Fact]
    public async Task The_window_is_the_last_n_steps_so_a_step_without_a_loss_still_takes_a_slot()
    {
        var store = CreateStore();
        await store.RecordStepAsync("p", "r", 1, 1, 3, TimeSpan.FromDays(1), Ct);
        await store.RecordStepAsync("p", "r", null, 2, 3, TimeSpan.FromDays(1), Ct);
        await store.RecordStepAsync("p", "r", 3, 3, 3, TimeSpan.FromDays(1), Ct);
        await store.RecordStepAsync("p", "r", 4, 4, 3, TimeSpan.FromDays(1), Ct);
        await store.RecordStepAsync("p", "r", null, null, 3, TimeSpan.FromDays(1), Ct); // nothing finite: not a step
        var w = await store.RecordStepAsync("p", "r", null, null, 3, TimeSpan.FromDays(1), Ct);
        Assert.Equal([4.0, 3.0], w.Losses);
        Assert.Equal([4.0, 3.0, 2.0], w.GradNorms);
    }

    [Fact]
    public async Task Runs_and_projects_are_separate_even_with_separator_characters()
    {
        var store = CreateStore();
        await store.RecordStepAsync("a/b", "c", 1, null, 50, TimeSpan.FromDays(1), Ct);
        await store.RecordStepAsync("a", "b/c", 2, null, 50, TimeSpan.FromDays(1), Ct);
        await store.RecordStepAsync("a}{", "b:*", 3, null, 50, TimeSpan.FromDays(1), Ct);
        Assert.Equal([1.0], (await store.RecordStepAsync("a/b", "c", null, null, 50, TimeSpan.FromDays(1), Ct)).Losses);
        Assert.Equal([2.0], (await store.RecordStepAsync("a", "b/c", null, null, 50, TimeSpan.FromDays(1), Ct)).Losses);
        Assert.Equal([3.0], (await store.RecordStepAsync("a}{", "b:*", null, null, 50, TimeSpan.FromDays(1), Ct)).Losses);
    }

    [Fact]
    public async Task A_run_idle_past_its_retention_starts_over()
    {
        var store = CreateStore();
        await store.RecordStepAsync("p", "r", 1, 1, 50, TimeSpan.FromSeconds(1), Ct);
        await ElapseAsync(TimeSpan.FromMilliseconds(1300));
        var w = await store.RecordStepAsync("p", "r", 2, 2, 50, TimeSpan.FromSeconds(1), Ct);
        Assert.Empty(w.Losses);
        Assert.Empty(w.GradNorms);
    }

    [Fact]
    public async Task The_training_log_is_per_project_newest_first_capped_and_expires()
    {
        var store = CreateStore();
        for (var i = 0; i < 5; i++) await store.AppendLogAsync("p", Entry(i), 3, TimeSpan.FromSeconds(1), Ct);
        await store.AppendLogAsync("q", Entry(99), 3, TimeSpan.FromDays(1), Ct);
        var log = await store.ReadLogAsync("p", 10, Ct);
        Assert.Equal([4L, 3L, 2L], log.Select(e => e.Step));
        Assert.True(double.IsNaN(log[0].Value));
        Assert.Equal("evt_4", log[0].EventId);
        Assert.Equal([4L, 3L], (await store.ReadLogAsync("p", 2, Ct)).Select(e => e.Step));
        Assert.Equal([99L], (await store.ReadLogAsync("q", 10, Ct)).Select(e => e.Step));
        await ElapseAsync(TimeSpan.FromMilliseconds(1300));
        Assert.Empty(await store.ReadLogAsync("p", 10, Ct));
        Assert.Single(await store.ReadLogAsync("q", 10, Ct));
    }

    [Fact]
    public async Task Concurrent_steps_of_one_run_each_see_a_distinct_window()
    {
        // 64 callers reporting the same run at once: read-and-append is atomic, so the windows they see are
        // exactly the prefixes 0..63 of one order of appends (no lost or doubled value).
        var store = CreateStore();
        const int n = 64;
        var windows = await Task.WhenAll(Enumerable.Range(0, n).Select(i =>
            Task.Run(() => store.RecordStepAsync("p", "shared", i, null, 100, TimeSpan.FromDays(1), Ct))));
        Assert.Equal(Enumerable.Range(0, n), windows.Select(w => w.Losses.Count).Order());
        var final = await store.RecordStepAsync("p", "shared", null, null, 100, TimeSpan.FromDays(1), Ct);
        Assert.Equal(Enumerable.Range(0, n).Select(i => (double)i), final.Losses.Order());
        // Each caller's window is the tail of the final order: what was appended before it.
        foreach (var w in windows) Assert.Equal(final.Losses.Skip(final.Losses.Count - w.Losses.Count), w.Losses);
    }

    private TrainingLogEntry Entry(int step) => new()
    {
        Type = "nan_loss_detected", Run = "r", Step = step, Metric = "loss", Reason = "non_finite", Value = double.NaN, Loss = double.NaN,
        RecoveryAction = "stop_training", EventId = "evt_" + step, GroupId = "g", Timestamp = Time.GetUtcNow(),
    };
}

/// <summary>The one contract every <see cref="IHardwareLog"/> passes (Redis and in-memory).</summary>
public abstract class HardwareLogContractTests
{
    protected FakeTimeProvider Time { get; } = new(TrainingStoreContractTests.Start);

    protected abstract IHardwareLog CreateLog();

    protected abstract Task ElapseAsync(TimeSpan span);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected HardwareLogEntry Entry(string signature, string type = "gpu_oom") =>
        new(type, "critical", 0, "GPU-1", "GPU 0 memory 97% used", signature, new Dictionary<string, string> { ["memory_used_ratio"] = "0.970" }, Time.GetUtcNow());

    [Fact]
    public async Task A_signature_is_appended_once_per_dedup_window()
    {
        var log = CreateLog();
        Assert.True(await log.TryAppendAsync(Entry("gpu_oom:GPU-1"), TimeSpan.FromSeconds(1), 100, TimeSpan.FromDays(7), Ct));
        Assert.False(await log.TryAppendAsync(Entry("gpu_oom:GPU-1"), TimeSpan.FromSeconds(1), 100, TimeSpan.FromDays(7), Ct));
        Assert.True(await log.TryAppendAsync(Entry("gpu_thermal:GPU-1", "gpu_thermal"), TimeSpan.FromSeconds(1), 100, TimeSpan.FromDays(7), Ct));
        await ElapseAsync(TimeSpan.FromMilliseconds(1300));
        Assert.True(await log.TryAppendAsync(Entry("gpu_oom:GPU-1"), TimeSpan.FromSeconds(1), 100, TimeSpan.FromDays(7), Ct));
        var entries = await log.ReadAsync(10, Ct);
        Assert.Equal(["gpu_oom", "gpu_thermal", "gpu_oom"], entries.Select(e => e.Type));
        Assert.Equal("0.970", entries[0].Figures["memory_used_ratio"]);
    }

    [Fact]
    public async Task Forget_lets_the_signature_in_again()
    {
        var log = CreateLog();
        Assert.True(await log.TryAppendAsync(Entry("gpu_xid:GPU-1:79"), TimeSpan.FromHours(1), 100, TimeSpan.FromDays(7), Ct));
        await log.ForgetAsync("gpu_xid:GPU-1:79", Ct);
        Assert.True(await log.TryAppendAsync(Entry("gpu_xid:GPU-1:79"), TimeSpan.FromHours(1), 100, TimeSpan.FromDays(7), Ct));
    }

    [Fact]
    public async Task The_log_is_capped_and_expires_after_its_retention()
    {
        var log = CreateLog();
        for (var i = 0; i < 6; i++) Assert.True(await log.TryAppendAsync(Entry("s" + i), TimeSpan.FromHours(1), 4, TimeSpan.FromSeconds(1), Ct));
        Assert.Equal(["s5", "s4", "s3", "s2"], (await log.ReadAsync(10, Ct)).Select(e => e.Signature));
        await ElapseAsync(TimeSpan.FromMilliseconds(1300));
        Assert.Empty(await log.ReadAsync(10, Ct));
    }

    [Fact]
    public async Task Concurrent_appends_of_one_signature_admit_exactly_one()
    {
        var log = CreateLog();
        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            Task.Run(() => log.TryAppendAsync(Entry("gpu_oom:GPU-1"), TimeSpan.FromHours(1), 100, TimeSpan.FromDays(7), Ct))));
        Assert.Equal(1, results.Count(r => r));
        Assert.Single(await log.ReadAsync(100, Ct));
    }
}
