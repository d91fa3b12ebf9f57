using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Gpu.Native;

namespace ErrorCoordinator.Gpu.Tests;

/// <summary>
/// Every health rule, as a table: a fake GPU read through the real <see cref="NvmlDeviceReader"/>, the rules applied with the
/// default thresholds, and the findings expected (rule:severity, in order).
/// </summary>
public sealed class GpuRulesTableTests
{
    private const ulong Gib = 1UL << 30;
    private static readonly NvmlReturn NS = NvmlReturn.NotSupported;

    private static readonly Dictionary<string, (FakeGpu Gpu, string[] Expected)> Table = new()
    {
        ["healthy"] = (new FakeGpu(), []),
        ["memory 89% is fine"] = (new FakeGpu { MemoryTotal = 100 * Gib, MemoryUsed = 89 * Gib }, []),
        ["memory 90% warns"] = (new FakeGpu { MemoryTotal = 100 * Gib, MemoryUsed = 90 * Gib }, ["gpu_memory_high:warning"]),
        ["memory 94.9% warns"] = (new FakeGpu { MemoryTotal = 1000 * Gib, MemoryUsed = 949 * Gib }, ["gpu_memory_high:warning"]),
        ["memory 95% is gpu_oom"] = (new FakeGpu { MemoryTotal = 100 * Gib, MemoryUsed = 95 * Gib }, ["gpu_oom:critical"]),
        ["memory full is gpu_oom"] = (new FakeGpu { MemoryTotal = 80 * Gib, MemoryUsed = 80 * Gib }, ["gpu_oom:critical"]),
        ["memory not supported"] = (new FakeGpu { MemoryUsed = 80 * Gib, Fails = new() { ["GetMemoryInfo"] = NS } }, []),

        ["11 below slowdown is fine"] = (new FakeGpu { Temperature = 79, Slowdown = 90 }, []),
        ["10 below slowdown warns"] = (new FakeGpu { Temperature = 80, Slowdown = 90 }, ["gpu_thermal:warning"]),
        ["at slowdown is critical"] = (new FakeGpu { Temperature = 90, Slowdown = 90 }, ["gpu_thermal:critical"]),
        ["over slowdown is critical"] = (new FakeGpu { Temperature = 93, Slowdown = 90 }, ["gpu_thermal:critical"]),
        ["no threshold, 84 is fine"] = (new FakeGpu { Temperature = 84, Fails = new() { ["GetTemperatureThresholdSlowdown"] = NS, ["GetTemperatureThresholdShutdown"] = NS } }, []),
        ["no threshold, 85 warns"] = (new FakeGpu { Temperature = 85, Fails = new() { ["GetTemperatureThresholdSlowdown"] = NS } }, ["gpu_thermal:warning"]),
        ["no threshold, 90 is critical"] = (new FakeGpu { Temperature = 90, Fails = new() { ["GetTemperatureThresholdSlowdown"] = NS } }, ["gpu_thermal:critical"]),
        ["temperature not supported"] = (new FakeGpu { Temperature = 99, Fails = new() { ["GetTemperature"] = NS } }, []),
        ["sw thermal bit when cool is critical"] = (new FakeGpu { Temperature = 50, ClockReasons = 0x20 }, ["gpu_thermal:critical", "gpu_throttle:critical"]),
        ["hw thermal bit is critical"] = (new FakeGpu { Temperature = 70, ClockReasons = 0x40 }, ["gpu_thermal:critical", "gpu_throttle:critical"]),

        ["idle clocks are fine"] = (new FakeGpu { ClockReasons = 0x1 }, []),
        ["sw power cap is info"] = (new FakeGpu { ClockReasons = 0x4 }, ["gpu_power_cap:info"]),
        ["hw slowdown is critical"] = (new FakeGpu { ClockReasons = 0x8 }, ["gpu_throttle:critical"]),
        ["hw power brake is critical"] = (new FakeGpu { ClockReasons = 0x80 }, ["gpu_throttle:critical"]),
        ["power cap with hw slowdown is only critical"] = (new FakeGpu { ClockReasons = 0x4 | 0x8 }, ["gpu_throttle:critical"]),
        ["throttle reasons not supported"] = (new FakeGpu { ClockReasons = 0x8, Fails = new() { ["GetClockEventReasons"] = NS } }, []),

        ["corrected ECC is fine"] = (new FakeGpu { EccCorrected = 1000 }, []),
        ["one uncorrected ECC is critical"] = (new FakeGpu { EccUncorrected = 1 }, ["gpu_ecc_uncorrected:critical"]),
        ["ECC not supported (consumer card)"] = (new FakeGpu { EccUncorrected = 5, Fails = new() { ["GetVolatileEccErrors"] = NS } }, []),
        ["retired pages pending is critical"] = (new FakeGpu { RetiredPending = true }, ["gpu_retired_pages_pending:critical"]),
        ["row remap failure is critical"] = (new FakeGpu { Rows = new NvmlRemappedRows(2, 1, false, true) }, ["gpu_row_remap_failure:critical"]),
        ["remapped rows without failure are fine"] = (new FakeGpu { Rows = new NvmlRemappedRows(4, 0, true, false) }, []),

        ["lost GPU is critical and nothing else"] = (new FakeGpu { MemoryUsed = 80 * Gib, Fails = new() { ["GetMemoryInfo"] = NvmlReturn.GpuIsLost } }, ["gpu_lost:critical"]),
        ["MIG instance without utilization"] = (new FakeGpu { Fails = new() { ["GetUtilization"] = NS, ["GetPowerUsage"] = NS } }, []),
        ["several at once"] = (new FakeGpu { MemoryTotal = 100 * Gib, MemoryUsed = 99 * Gib, Temperature = 91, Slowdown = 90, EccUncorrected = 2 },
            ["gpu_oom:critical", "gpu_thermal:critical", "gpu_ecc_uncorrected:critical"]),
    };

    public static TheoryData<string> Cases => new(Table.Keys);

    [Theory, MemberData(nameof(Cases))]
    public void Rule(string name)
    {
        var (gpu, expected) = Table[name];
        var snapshot = NvmlDeviceReader.Read(new FakeNvml(gpu), 0);
        var findings = GpuHealthRules.Evaluate(snapshot, new GpuThresholds());
        Assert.Equal(expected, findings.Select(f => $"{f.Rule}:{f.Severity.ToString().ToLowerInvariant()}"));
        Assert.All(findings, f =>
        {
            Assert.Equal(gpu.Uuid, f.GpuUuid);
            Assert.False(string.IsNullOrWhiteSpace(f.Message));
            Assert.False(string.IsNullOrWhiteSpace(f.RecommendedAction));
            Assert.Equal(f.Rule is "gpu_oom" or "gpu_memory_high" ? Core.Errors.ErrorCategory.ResourceExhaustion : Core.Errors.ErrorCategory.Infrastructure, f.Category);
        });
    }

    [Fact]
    public void Not_supported_fields_are_not_applicable_not_errors()
    {
        var gpu = new FakeGpu
        {
            Fails = new()
            {
                ["GetVolatileEccErrors"] = NS, ["GetRetiredPagesPending"] = NS, ["GetRemappedRows"] = NS,
                ["GetUtilization"] = NS, ["GetTemperatureThresholdSlowdown"] = NS,
            },
        };
        var s = NvmlDeviceReader.Read(new FakeNvml(gpu), 0);
        Assert.Empty(s.ReadErrors);
        Assert.Equal(["temperature_slowdown", "utilization", "ecc_corrected", "ecc_uncorrected", "retired_pages_pending", "remapped_rows"], s.NotApplicable);
        Assert.Null(s.UtilizationGpuPercent);
        Assert.Null(s.UtilizationMemoryPercent);
        Assert.Null(s.EccUncorrectedVolatile);
        Assert.Null(s.RowRemapFailure);
        Assert.Null(s.SlowdownTemperatureC);
        // What is supported is still read.
        Assert.Equal(gpu.MemoryUsed, s.MemoryUsedBytes);
        Assert.Equal(gpu.Temperature, s.TemperatureC);
        Assert.Equal(gpu.Shutdown, s.ShutdownTemperatureC);
        Assert.Equal(300.0, s.PowerDrawWatts);
        Assert.Equal(700.0, s.PowerLimitWatts);
    }

    [Fact]
    public void Mig_style_missing_utilization_leaves_memory_rules_working()
    {
        var gpu = new FakeGpu { MemoryTotal = 10 * Gib, MemoryUsed = 10 * Gib - 1, Fails = new() { ["GetUtilization"] = NS } };
        var s = NvmlDeviceReader.Read(new FakeNvml(gpu), 0);
        Assert.Contains("utilization", s.NotApplicable);
        Assert.Null(s.UtilizationGpuPercent);
        Assert.Equal(["gpu_oom"], GpuHealthRules.Evaluate(s, new GpuThresholds()).Select(f => f.Rule));
    }

    [Fact]
    public void Other_failures_are_read_errors_with_nvml_reason()
    {
        var gpu = new FakeGpu { Fails = new() { ["GetComputeRunningProcesses"] = NvmlReturn.NoPermission, ["GetClockEventReasons"] = NvmlReturn.FunctionNotFound } };
        var s = NvmlDeviceReader.Read(new FakeNvml(gpu), 0);
        Assert.Equal("Insufficient Permissions (NoPermission)", s.ReadErrors["processes"]);
        Assert.Equal("not exported by this NVIDIA driver version", s.ReadErrors["clock_event_reasons"]);
        Assert.Null(s.Processes);
        Assert.Empty(s.NotApplicable);
    }

    [Fact]
    public void Lost_gpu_stops_reading_at_the_first_lost_answer()
    {
        var gpu = new FakeGpu { Fails = new() { ["GetUuid"] = NvmlReturn.GpuIsLost } };
        var s = NvmlDeviceReader.Read(new FakeNvml(gpu), 0);
        Assert.True(s.Lost);
        Assert.Equal(gpu.Name, s.Name);
        Assert.Null(s.MemoryTotalBytes);
        Assert.Null(s.TemperatureC);
    }

    [Fact]
    public void Processes_keep_pid_and_memory_and_unavailable_memory_is_null()
    {
        var gpu = new FakeGpu
        {
            Processes = [new NvmlProcessInfo { Pid = 4242, UsedGpuMemory = 3 * Gib }, new NvmlProcessInfo { Pid = 7, UsedGpuMemory = NvmlProcessInfo.ValueNotAvailable }],
        };
        var s = NvmlDeviceReader.Read(new FakeNvml(gpu), 0);
        Assert.Equal([new GpuProcess(4242, 3 * Gib), new GpuProcess(7, null)], s.Processes!);
    }

    [Fact]
    public void Thresholds_are_configurable()
    {
        var s = NvmlDeviceReader.Read(new FakeNvml(new FakeGpu { MemoryTotal = 100 * Gib, MemoryUsed = 80 * Gib, Temperature = 70, Slowdown = 90 }), 0);
        var t = new GpuThresholds { MemoryWarningRatio = 0.7, MemoryCriticalRatio = 0.8, TemperatureWarningMarginC = 20 };
        Assert.Equal(["gpu_oom", "gpu_thermal"], GpuHealthRules.Evaluate(s, t).Select(f => f.Rule));
        Assert.Empty(GpuHealthRules.Evaluate(s, new GpuThresholds()));
    }
}
