using ErrorCoordinator.Core.Errors;

namespace ErrorCoordinator.Core.Gpu;

/// <summary>A process holding a compute context on a GPU.</summary>
public sealed record GpuProcess(uint Pid, ulong? UsedMemoryBytes);

/// <summary>
/// What one read of a GPU returned. A null field was not read: NVML answered NOT_SUPPORTED (listed in
/// <see cref="NotApplicable"/>, e.g. utilization on a MIG instance, ECC on a consumer card) or failed
/// (listed in <see cref="ReadErrors"/> with NVML's reason).
/// </summary>
public sealed record GpuSnapshot
{
    public required int Index { get; init; }
    public string? Uuid { get; init; }
    public string? Name { get; init; }
    public ulong? MemoryUsedBytes { get; init; }
    public ulong? MemoryTotalBytes { get; init; }
    public uint? TemperatureC { get; init; }
    /// <summary>The temperature at which the GPU slows its clocks (NVML slowdown threshold).</summary>
    public uint? SlowdownTemperatureC { get; init; }
    /// <summary>The temperature at which the GPU shuts down (NVML shutdown threshold).</summary>
    public uint? ShutdownTemperatureC { get; init; }
    public uint? UtilizationGpuPercent { get; init; }
    public uint? UtilizationMemoryPercent { get; init; }
    public double? PowerDrawWatts { get; init; }
    public double? PowerLimitWatts { get; init; }
    /// <summary>The clock event (throttle) reason bit mask; see <see cref="ClockEventReasons"/>.</summary>
    public ulong? ClockEventReasons { get; init; }
    public ulong? EccCorrectedVolatile { get; init; }
    public ulong? EccUncorrectedVolatile { get; init; }
    public bool? RetiredPagesPending { get; init; }
    public uint? RemappedRowsCorrectable { get; init; }
    public uint? RemappedRowsUncorrectable { get; init; }
    public bool? RowRemapPending { get; init; }
    public bool? RowRemapFailure { get; init; }
    public IReadOnlyList<GpuProcess>? Processes { get; init; }
    /// <summary>NVML answered GPU_IS_LOST: the device fell off the bus and needs a reset or reboot.</summary>
    public bool Lost { get; init; }
    /// <summary>Fields NVML reports as not supported on this device: not applicable, not an error.</summary>
    public IReadOnlyList<string> NotApplicable { get; init; } = [];
    /// <summary>Fields that could not be read, with NVML's reason.</summary>
    public IReadOnlyDictionary<string, string> ReadErrors { get; init; } = new Dictionary<string, string>();
}

/// <summary>The NVML clock event (throttle) reason bits (nvml.h <c>nvmlClocksEventReason*</c>).</summary>
public static class ClockEventReasons
{
    public const ulong GpuIdle = 0x1;
    public const ulong ApplicationsClocksSetting = 0x2;
    public const ulong SwPowerCap = 0x4;
    public const ulong HwSlowdown = 0x8;
    public const ulong SyncBoost = 0x10;
    public const ulong SwThermalSlowdown = 0x20;
    public const ulong HwThermalSlowdown = 0x40;
    public const ulong HwPowerBrakeSlowdown = 0x80;
    public const ulong DisplayClockSetting = 0x100;

    /// <summary>The thermal bits: any of them set means the GPU is throttling because it is too hot.</summary>
    public const ulong Thermal = SwThermalSlowdown | HwThermalSlowdown;

    private static readonly (ulong Bit, string Name)[] Names =
    [
        (GpuIdle, "gpu_idle"), (ApplicationsClocksSetting, "applications_clocks_setting"), (SwPowerCap, "sw_power_cap"),
        (HwSlowdown, "hw_slowdown"), (SyncBoost, "sync_boost"), (SwThermalSlowdown, "sw_thermal_slowdown"),
        (HwThermalSlowdown, "hw_thermal_slowdown"), (HwPowerBrakeSlowdown, "hw_power_brake_slowdown"), (DisplayClockSetting, "display_clock_setting"),
    ];

    /// <summary>The names of the bits set in <paramref name="mask"/>, e.g. [hw_slowdown, sw_thermal_slowdown]; unknown bits as hex.</summary>
    public static IReadOnlyList<string> Describe(ulong mask)
    {
        var result = new List<string>();
        var known = 0UL;
        foreach (var (bit, name) in Names)
        {
            known |= bit;
            if ((mask & bit) != 0) result.Add(name);
        }
        if ((mask & ~known) != 0) result.Add($"0x{mask & ~known:x}");
        return result;
    }
}

/// <summary>An asynchronous NVML event.</summary>
public enum GpuEventType
{
    /// <summary>An XID error; <see cref="GpuEvent.Data"/> holds the XID number.</summary>
    Xid,
    SingleBitEcc,
    DoubleBitEcc,
    /// <summary>The event wait answered GPU_IS_LOST.</summary>
    Lost,
}

/// <summary>One event from the NVML event set.</summary>
public sealed record GpuEvent(int GpuIndex, string? GpuUuid, GpuEventType Type, ulong Data, DateTimeOffset At);

/// <summary>One health finding: a rule that fired on a snapshot or an event.</summary>
public sealed record GpuFinding
{
    /// <summary>The rule, used as the error type: gpu_oom, gpu_memory_high, gpu_thermal, gpu_throttle, gpu_power_cap, gpu_ecc_uncorrected, gpu_retired_pages_pending, gpu_row_remap_failure, gpu_xid, gpu_ecc_single_bit, gpu_ecc_double_bit, gpu_lost.</summary>
    public required string Rule { get; init; }
    public required Severity Severity { get; init; }
    public required ErrorCategory Category { get; init; }
    public required int GpuIndex { get; init; }
    public string? GpuUuid { get; init; }
    public required string Message { get; init; }
    public required string RecommendedAction { get; init; }
    /// <summary>What distinguishes two findings of one rule on one GPU (the XID number); null when nothing does.</summary>
    public string? Detail { get; init; }
    /// <summary>The figures behind the finding (memory_used_bytes, temperature_c, xid, ...), for the log and the event's tags.</summary>
    public IReadOnlyDictionary<string, string> Figures { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Identifies "the same finding" for deduplication: rule, severity, GPU and detail. The severity is part of it, so a
    /// warning that becomes critical (a GPU heating past its slowdown threshold) is reported again at once.
    /// </summary>
    public string Signature => $"{Rule}:{Severity.ToWire()}:{GpuUuid ?? "gpu" + GpuIndex}" + (Detail is null ? "" : ":" + Detail);
}

/// <summary>One GPU: what was read and which rules fired.</summary>
public sealed record GpuDeviceReport(GpuSnapshot Snapshot, IReadOnlyList<GpuFinding> Findings);

/// <summary>What a probe read. With <see cref="Available"/> false, <see cref="Reason"/> says why (no library, no driver, no permission, no GPU).</summary>
public sealed record GpuProbeResult(bool Available, string? Reason, string? DriverVersion, int DeviceCount, IReadOnlyList<GpuSnapshot> Gpus)
{
    public static GpuProbeResult Unavailable(string reason) => new(false, reason, null, 0, []);
}

/// <summary>The answer to probe_gpu: availability, then every GPU read with its findings.</summary>
public sealed record GpuHealthReport(bool Available, string? Reason, string? DriverVersion, int DeviceCount, IReadOnlyList<GpuDeviceReport> Gpus, DateTimeOffset ProbedAt);
