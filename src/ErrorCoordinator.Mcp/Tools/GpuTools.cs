using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Gpu;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

#pragma warning disable IDE1006 // Parameter names are snake_case: they are the tool's wire names.

namespace ErrorCoordinator.Mcp.Tools;

public sealed record GpuFindingOutput(
    [property: Description("The rule that fired, also the error type of its event: gpu_oom, gpu_memory_high, gpu_thermal, gpu_throttle, gpu_power_cap, gpu_ecc_uncorrected, gpu_retired_pages_pending, gpu_row_remap_failure, gpu_xid, gpu_ecc_single_bit, gpu_ecc_double_bit, gpu_lost.")] string Rule,
    [property: Description("critical | error | warning | info")] string Severity,
    [property: Description("resource_exhaustion (memory) or infrastructure (everything else).")] string Category,
    [property: Description("One-line description with the figures.")] string Message,
    [property: Description("What to do about it.")] string RecommendedAction,
    [property: Description("Identifies the same finding across probes (rule, GPU, detail); the background watch reports each signature once per dedup window.")] string Signature)
{
    public static GpuFindingOutput From(GpuFinding f) => new(f.Rule, f.Severity.ToWire(), f.Category.ToWire(), f.Message, f.RecommendedAction, f.Signature);
}

public sealed record GpuProcessOutput(
    [property: Description("Process id.")] uint Pid,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("GPU memory the process holds, bytes; null when NVML cannot tell (no permission, MIG).")] ulong? UsedMemoryBytes);

public sealed record GpuOutput(
    [property: Description("The GPU's index, as nvidia-smi numbers it.")] int Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Uuid,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Bytes in use.")] ulong? MemoryUsedBytes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Bytes in total.")] ulong? MemoryTotalBytes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Used / total, 0 to 1.")] double? MemoryUsedRatio,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("GPU die temperature, °C.")] uint? TemperatureC,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Temperature at which the GPU slows its clocks, °C.")] uint? SlowdownTemperatureC,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Temperature at which the GPU shuts down, °C.")] uint? ShutdownTemperatureC,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Percent of the last sample period the GPU was busy; null on MIG instances.")] uint? UtilizationGpuPercent,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Percent of the last sample period memory was being read or written.")] uint? UtilizationMemoryPercent,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Power draw, watts.")] double? PowerDrawWatts,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Enforced power limit, watts.")] double? PowerLimitWatts,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Active clock event (throttle) reasons, e.g. sw_power_cap, hw_thermal_slowdown; empty when none.")] IReadOnlyList<string>? ClockEventReasons,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Corrected ECC errors since the driver loaded.")] ulong? EccCorrectedVolatile,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Uncorrected ECC errors since the driver loaded.")] ulong? EccUncorrectedVolatile,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Retired pages waiting for a reset (pre-Ampere GPUs).")] bool? RetiredPagesPending,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Rows remapped for correctable errors (Ampere and later).")] uint? RemappedRowsCorrectable,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Rows remapped for uncorrectable errors.")] uint? RemappedRowsUncorrectable,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("A row remap waits for a GPU reset.")] bool? RowRemapPending,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("A row remap failed: the GPU needs service.")] bool? RowRemapFailure,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Processes with a compute context on the GPU.")] IReadOnlyList<GpuProcessOutput>? Processes,
    [property: Description("True when the GPU fell off the bus (GPU_IS_LOST).")] bool Lost,
    [property: Description("Fields NVML does not support on this GPU (not applicable, not an error), e.g. utilization on a MIG instance.")] IReadOnlyList<string> NotApplicable,
    [property: Description("Fields that could not be read, with NVML's reason.")] IReadOnlyDictionary<string, string> ReadErrors,
    [property: Description("The health rules that fired on this GPU; empty when healthy.")] IReadOnlyList<GpuFindingOutput> Findings)
{
    public static GpuOutput From(GpuDeviceReport d)
    {
        var s = d.Snapshot;
        double? ratio = s.MemoryUsedBytes is { } u && s.MemoryTotalBytes is { } t && t > 0 ? Math.Round((double)u / t, 4) : null;
        return new GpuOutput(s.Index, s.Uuid, s.Name, s.MemoryUsedBytes, s.MemoryTotalBytes, ratio, s.TemperatureC, s.SlowdownTemperatureC,
            s.ShutdownTemperatureC, s.UtilizationGpuPercent, s.UtilizationMemoryPercent, s.PowerDrawWatts, s.PowerLimitWatts,
            s.ClockEventReasons is { } r ? Core.Gpu.ClockEventReasons.Describe(r) : null, s.EccCorrectedVolatile, s.EccUncorrectedVolatile,
            s.RetiredPagesPending, s.RemappedRowsCorrectable, s.RemappedRowsUncorrectable, s.RowRemapPending, s.RowRemapFailure,
            s.Processes?.Select(p => new GpuProcessOutput(p.Pid, p.UsedMemoryBytes)).ToArray(), s.Lost, s.NotApplicable, s.ReadErrors,
            d.Findings.Select(GpuFindingOutput.From).ToArray());
    }
}

public sealed record ProbeGpuOutput(
    [property: Description("False when this host has no usable NVIDIA GPU (no library, no driver, no permission, no GPU, or probing disabled); reason says which.")] bool Available,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("Why GPUs are unavailable; null when available.")] string? Reason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), Description("NVIDIA driver version.")] string? DriverVersion,
    [property: Description("GPUs on this host.")] int DeviceCount,
    [property: Description("The GPUs read (one when index was given), with their findings.")] IReadOnlyList<GpuOutput> Gpus,
    [property: Description("When the probe ran.")] DateTimeOffset ProbedAt);

/// <summary>GPU health on the host running the server.</summary>
[McpServerToolType]
public sealed class GpuTools(GpuHealthService gpus)
{
    [McpServerTool(Name = "probe_gpu", Title = "Probe GPU health", UseStructuredContent = true, OutputSchemaType = typeof(ProbeGpuOutput),
        ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false)]
    [Description("Read the NVIDIA GPUs of the host running this server (NVML): memory, temperature and its slowdown/shutdown thresholds, utilization, " +
                 "power, clock throttle reasons, ECC errors, retired pages / remapped rows and running processes, plus the health findings " +
                 "(gpu_oom at >= 95% memory, thermal, throttling, uncorrected ECC, ...). Call it before placing a GPU task or after a CUDA error. " +
                 "A host without a usable GPU answers available: false with the reason; that is a normal answer, not an error. Reports nothing: " +
                 "the server's background watch records findings as error events on its own.")]
    public Task<CallToolResult> ProbeGpu(
        [Description("Only this GPU (0-based, as nvidia-smi numbers them). Default: every GPU.")] int? index = null,
        CancellationToken cancellationToken = default) =>
        ToolCall.RunAsync(async () =>
        {
            var r = await gpus.ProbeAsync(index, cancellationToken);
            return new ProbeGpuOutput(r.Available, r.Reason, r.DriverVersion, r.DeviceCount, r.Gpus.Select(GpuOutput.From).ToArray(), r.ProbedAt);
        }, Describe);

    private static string Describe(ProbeGpuOutput r)
    {
        if (!r.Available) return $"No GPU available: {r.Reason}";
        var sb = new StringBuilder($"{ToolCall.Plural(r.DeviceCount, "GPU")} (driver {r.DriverVersion ?? "unknown"}).");
        foreach (var g in r.Gpus)
        {
            sb.Append('\n').Append(CultureInfo.InvariantCulture, $"GPU {g.Index} {g.Name}: ");
            sb.Append(g.MemoryUsedRatio is { } m ? $"memory {(m * 100).ToString("0", CultureInfo.InvariantCulture)}%" : "memory n/a");
            sb.Append(g.TemperatureC is { } t ? $", {t} °C" : "");
            sb.Append(g.Findings.Count == 0 ? ", healthy." : ": " + string.Join("; ", g.Findings.Select(f => $"{f.Severity} {f.Rule}: {f.Message}")));
        }
        return sb.ToString();
    }
}
