using System.Runtime.InteropServices;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Gpu.Native;

namespace ErrorCoordinator.Gpu.Tests;

public sealed class ProbeTests
{
    private static NvmlGpuProbe Probe(FakeNvml nvml) => new((out string reason) => { reason = ""; return nvml; }, TimeProvider.System);

    [Fact]
    public async Task Without_nvml_on_this_host_the_probe_answers_unavailable_with_the_reason()
    {
        Assert.SkipWhen(NativeLibrary.TryLoad(NvmlLibrary.LibraryName, out _), "libnvidia-ml.so.1 loads on this host; the GPU tests cover it");
        using var probe = new NvmlGpuProbe(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<NvmlGpuProbe>.Instance);
        var result = await probe.ProbeAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(result.Available);
        Assert.Contains("libnvidia-ml.so.1 could not be loaded", result.Reason);
        Assert.Empty(result.Gpus);
        // Asking again answers the same, without throwing; events end at once.
        Assert.Equal(result.Reason, (await probe.ProbeAsync(0, TestContext.Current.CancellationToken)).Reason);
        await foreach (var _ in probe.ReadEventsAsync(TestContext.Current.CancellationToken)) Assert.Fail("no events without NVML");
        Assert.False(NvmlLibrary.TryOpen(out var nvml, out var reason));
        Assert.Null(nvml);
        Assert.Equal(result.Reason, reason);
    }

    [Theory]
    [InlineData(NvmlReturn.DriverNotLoaded, "The NVIDIA driver is not loaded on this host (nvmlInit_v2: Driver Not Loaded).")]
    [InlineData(NvmlReturn.NoPermission, "No permission to open the GPUs (nvmlInit_v2: Insufficient Permissions)")]
    [InlineData(NvmlReturn.Unknown, "nvmlInit_v2 failed: Unknown Error (Unknown).")]
    public async Task A_failed_init_is_unavailable_with_the_reason_and_is_retried(NvmlReturn init, string reason)
    {
        var nvml = new FakeNvml(new FakeGpu()) { InitResult = init };
        using var probe = Probe(nvml);
        var result = await probe.ProbeAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(result.Available);
        Assert.StartsWith(reason, result.Reason);

        nvml.InitResult = NvmlReturn.Success;
        var later = await probe.ProbeAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(later.Available);
        Assert.Equal(2, nvml.InitCalls);
        await probe.ProbeAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(2, nvml.InitCalls);
    }

    [Fact]
    public async Task A_library_that_cannot_be_opened_is_asked_once()
    {
        var opened = 0;
        using var probe = new NvmlGpuProbe((out string reason) => { opened++; reason = "libnvidia-ml.so.1 does not export nvmlInit_v2: the NVIDIA driver is too old for this probe."; return null; }, TimeProvider.System);
        for (var i = 0; i < 3; i++)
        {
            var r = await probe.ProbeAsync(cancellationToken: TestContext.Current.CancellationToken);
            Assert.False(r.Available);
            Assert.Contains("too old", r.Reason);
        }
        Assert.Equal(1, opened);
    }

    [Fact]
    public async Task No_gpu_is_unavailable()
    {
        using var probe = Probe(new FakeNvml());
        var result = await probe.ProbeAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(result.Available);
        Assert.Contains("no NVIDIA GPU", result.Reason);
    }

    [Fact]
    public async Task Probes_every_gpu_or_one_and_refuses_an_index_past_the_last()
    {
        using var probe = Probe(new FakeNvml(new FakeGpu { Uuid = "GPU-a" }, new FakeGpu { Uuid = "GPU-b" }));
        var all = await probe.ProbeAsync(cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(all.Available);
        Assert.Equal(2, all.DeviceCount);
        Assert.Equal("550.54.15", all.DriverVersion);
        Assert.Equal(["GPU-a", "GPU-b"], all.Gpus.Select(g => g.Uuid));

        var one = await probe.ProbeAsync(1, TestContext.Current.CancellationToken);
        Assert.Equal(1, Assert.Single(one.Gpus).Index);
        Assert.Equal("GPU-b", one.Gpus[0].Uuid);

        var ex = await Assert.ThrowsAsync<ValidationException>(() => probe.ProbeAsync(2, TestContext.Current.CancellationToken));
        Assert.Equal("index", ex.Field);
        Assert.Contains("2 GPU(s), numbered 0 to 1", ex.Message);
    }

    [Fact]
    public async Task Xid_stream_registers_the_watched_events_and_applies_the_ignore_and_critical_sets()
    {
        var nvml = new FakeNvml(new FakeGpu { Uuid = "GPU-a" }, new FakeGpu { Uuid = "GPU-b", SupportedEvents = NvmlEventTypes.PState });
        ulong[] xids = [13, 31, 43, 45, 68, 109, 48, 64, 74, 79, 95, 119, 120, 140, 94, 61];
        foreach (var x in xids) nvml.Xid(0, x);
        nvml.Ecc(0, doubleBit: false);
        nvml.Ecc(0, doubleBit: true);
        nvml.Events.Enqueue((NvmlReturn.GpuIsLost, new NvmlEventData { Device = FakeNvml.HandleOf(0) }));
        var expected = xids.Length + 3;

        using var probe = Probe(nvml);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        var events = new List<GpuEvent>();
        await foreach (var e in probe.ReadEventsAsync(cts.Token))
        {
            events.Add(e);
            if (events.Count == expected) cts.Cancel();
        }

        Assert.Equal(expected, events.Count);
        // Only GPU 0 offers XID/ECC events; PState is never registered.
        Assert.Equal(NvmlEventTypes.Watched, Assert.Single(nvml.Registered).Value);
        Assert.Equal(1, nvml.EventSetsFreed);
        Assert.All(events, e => Assert.Equal(0, e.GpuIndex));
        Assert.All(events, e => Assert.Equal("GPU-a", e.GpuUuid));

        var findings = events.Select(e => GpuHealthRules.Evaluate(e, new GpuThresholds())).ToArray();
        // 13, 31, 43, 45, 68, 109: application XIDs, ignored.
        Assert.All(findings[..6], Assert.Null);
        // DCGM's failure set: critical.
        Assert.All(findings[6..14], f => Assert.Equal(("gpu_xid", Core.Errors.Severity.Critical), (f!.Rule, f.Severity)));
        Assert.Equal(["48", "64", "74", "79", "95", "119", "120", "140"], findings[6..14].Select(f => f!.Detail));
        // Any other XID: a warning.
        Assert.All(findings[14..16], f => Assert.Equal(("gpu_xid", Core.Errors.Severity.Warning), (f!.Rule, f.Severity)));
        Assert.Equal(("gpu_ecc_single_bit", Core.Errors.Severity.Warning), (findings[16]!.Rule, findings[16]!.Severity));
        Assert.Equal(("gpu_ecc_double_bit", Core.Errors.Severity.Critical), (findings[17]!.Rule, findings[17]!.Severity));
        Assert.Equal(("gpu_lost", Core.Errors.Severity.Critical), (findings[18]!.Rule, findings[18]!.Severity));
        // Each XID is its own signature, so XID 79 and XID 48 are deduplicated separately.
        Assert.Equal(10, findings.Where(f => f?.Rule == "gpu_xid").Select(f => f!.Signature).Distinct().Count());
    }

    [Fact]
    public void Configured_xid_lists_replace_the_defaults()
    {
        var t = new GpuThresholds { IgnoredXids = [79], CriticalXids = [13] };
        var at = DateTimeOffset.UnixEpoch;
        Assert.Null(GpuHealthRules.Evaluate(new GpuEvent(0, null, GpuEventType.Xid, 79, at), t));
        Assert.Equal(Core.Errors.Severity.Critical, GpuHealthRules.Evaluate(new GpuEvent(0, null, GpuEventType.Xid, 13, at), t)!.Severity);
        Assert.Equal(Core.Errors.Severity.Warning, GpuHealthRules.Evaluate(new GpuEvent(0, null, GpuEventType.Xid, 48, at), t)!.Severity);
    }
}
