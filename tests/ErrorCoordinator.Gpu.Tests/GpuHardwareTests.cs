using System.Runtime.InteropServices;
using System.Text.Json;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Gpu.Native;
using Microsoft.Extensions.Logging.Abstractions;

namespace ErrorCoordinator.Gpu.Tests;

/// <summary>
/// Against the real NVML: run only where libnvidia-ml.so.1 loads (tests/gpu-check.sh on a GPU machine); skipped elsewhere.
/// </summary>
[Trait("Category", "GPU")]
public sealed class GpuHardwareTests
{
    private static bool NvmlLoads => NativeLibrary.TryLoad(NvmlLibrary.LibraryName, out _);

    [Fact]
    public async Task Probe_reads_every_gpu_through_the_versioned_entry_points()
    {
        Assert.SkipUnless(NvmlLoads, "libnvidia-ml.so.1 does not load on this host (no NVIDIA driver)");
        using var probe = new NvmlGpuProbe(TimeProvider.System, NullLogger<NvmlGpuProbe>.Instance);
        var result = await probe.ProbeAsync(cancellationToken: TestContext.Current.CancellationToken);
        TestContext.Current.TestOutputHelper?.WriteLine(JsonSerializer.Serialize(result, CoreJson.Options));
        Assert.True(result.Available, result.Reason);
        Assert.True(result.DeviceCount >= 1);
        Assert.False(string.IsNullOrWhiteSpace(result.DriverVersion));
        Assert.Equal(result.DeviceCount, result.Gpus.Count);
        foreach (var g in result.Gpus)
        {
            Assert.False(g.Lost);
            Assert.False(string.IsNullOrWhiteSpace(g.Name));
            Assert.StartsWith("GPU-", g.Uuid);
            // nvmlDeviceGetMemoryInfo_v2 accepted the struct version: memory is read, not a read error.
            Assert.False(g.ReadErrors.ContainsKey("memory"), g.ReadErrors.GetValueOrDefault("memory"));
            Assert.True(g.MemoryTotalBytes > 0);
            Assert.True(g.MemoryUsedBytes <= g.MemoryTotalBytes);
            Assert.True(g.TemperatureC is > 0 and < 130 || g.NotApplicable.Contains("temperature"));
            Assert.True(g.PowerDrawWatts > 0 || g.NotApplicable.Contains("power_draw"));
            Assert.True(g.ClockEventReasons is not null || g.NotApplicable.Contains("clock_event_reasons"));
            Assert.True(g.Processes is not null || g.ReadErrors.ContainsKey("processes") || g.NotApplicable.Contains("processes"));
            // Every rule runs on the real snapshot.
            _ = GpuHealthRules.Evaluate(g, new GpuThresholds());
        }
    }

    [Fact]
    public async Task One_gpu_by_index_and_an_index_past_the_last_is_refused()
    {
        Assert.SkipUnless(NvmlLoads, "libnvidia-ml.so.1 does not load on this host (no NVIDIA driver)");
        using var probe = new NvmlGpuProbe(TimeProvider.System, NullLogger<NvmlGpuProbe>.Instance);
        var one = await probe.ProbeAsync(0, TestContext.Current.CancellationToken);
        Assert.Equal(0, Assert.Single(one.Gpus).Index);
        var ex = await Assert.ThrowsAsync<ValidationException>(() => probe.ProbeAsync(one.DeviceCount, TestContext.Current.CancellationToken));
        Assert.Equal("index", ex.Field);
    }

    [Fact]
    public async Task Event_thread_registers_waits_and_stops_within_one_wait_of_cancellation()
    {
        Assert.SkipUnless(NvmlLoads, "libnvidia-ml.so.1 does not load on this host (no NVIDIA driver)");
        using var probe = new NvmlGpuProbe(TimeProvider.System, NullLogger<NvmlGpuProbe>.Instance);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var started = DateTime.UtcNow;
        var events = new List<GpuEvent>();
        await foreach (var e in probe.ReadEventsAsync(cts.Token)) events.Add(e);
        var elapsed = DateTime.UtcNow - started;
        TestContext.Current.TestOutputHelper?.WriteLine($"event stream ended after {elapsed.TotalSeconds:0.0} s with {events.Count} event(s)");
        // A healthy GPU raises no XID in 3 s; the stream ends within one 1 s wait after cancellation (or at once when events are unsupported).
        Assert.True(elapsed < TimeSpan.FromSeconds(3 + 2 * NvmlGpuProbe.EventWaitMs / 1000.0 + 1), $"took {elapsed}");
        Assert.DoesNotContain(events, e => e.Type == GpuEventType.Lost);
    }

    [Fact]
    public void Optional_entry_points_are_found_or_answer_function_not_found()
    {
        Assert.SkipUnless(NvmlLoads, "libnvidia-ml.so.1 does not load on this host (no NVIDIA driver)");
        Assert.True(NvmlLibrary.TryOpen(out var nvml, out var reason), reason);
        Assert.Equal(NvmlReturn.Success, nvml!.Init());
        try
        {
            Assert.Equal(NvmlReturn.Success, nvml.GetDeviceCount(out var count));
            Assert.True(count >= 1);
            Assert.Equal(NvmlReturn.Success, nvml.GetHandleByIndex(0, out var device));
            Assert.NotEqual(0, device);
            Assert.Equal(NvmlReturn.Success, nvml.GetMemoryInfo(device, out var memory));
            Assert.Equal(NvmlMemoryV2.VersionV2, memory.Version);
            Assert.True(memory.Total > 0 && memory.Used + memory.Free <= memory.Total, $"total {memory.Total}, used {memory.Used}, free {memory.Free}");
            // nvmlErrorString is read from NVML's static buffer.
            Assert.Equal("Not Supported", nvml.ErrorString(NvmlReturn.NotSupported));
            Assert.Contains(nvml.GetClockEventReasons(device, out _), new[] { NvmlReturn.Success, NvmlReturn.NotSupported });
        }
        finally
        {
            nvml.Shutdown();
        }
    }
}
