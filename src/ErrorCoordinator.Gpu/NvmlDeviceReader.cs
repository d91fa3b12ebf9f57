using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Gpu.Native;

namespace ErrorCoordinator.Gpu;

/// <summary>
/// Reads one GPU through <see cref="INvml"/> into a <see cref="GpuSnapshot"/>. Each field is read on its own:
/// NOT_SUPPORTED marks it not applicable, another failure records NVML's reason, GPU_IS_LOST marks the GPU lost
/// (and stops reading it). Nothing here throws for an NVML answer.
/// </summary>
internal static class NvmlDeviceReader
{
    public static GpuSnapshot Read(INvml nvml, int index)
    {
        var reader = new FieldReader(nvml);
        var r = nvml.GetHandleByIndex((uint)index, out var device);
        if (r != NvmlReturn.Success)
        {
            reader.Check("handle", r);
            return new GpuSnapshot { Index = index, Lost = reader.Lost, NotApplicable = reader.NotApplicable, ReadErrors = reader.Errors };
        }

        string? name = null, uuid = null;
        ulong? used = null, total = null, eccCorrected = null, eccUncorrected = null, reasons = null;
        uint? temp = null, slowdown = null, shutdown = null, utilGpu = null, utilMem = null;
        uint? remapCorr = null, remapUnc = null;
        bool? retiredPending = null, remapPending = null, remapFailure = null;
        double? power = null, powerLimit = null;
        IReadOnlyList<GpuProcess>? processes = null;

        // Each read is skipped once the GPU is lost: a lost device answers GPU_IS_LOST to everything.
        if (reader.Check("name", nvml.GetName(device, out var n))) name = n;
        if (reader.Check("uuid", nvml.GetUuid(device, out var u))) uuid = u;
        if (reader.Check("memory", nvml.GetMemoryInfo(device, out var mem)))
        {
            used = mem.Used;
            total = mem.Total;
        }
        if (reader.Check("temperature", nvml.GetTemperature(device, out var t))) temp = t;
        if (reader.Check("temperature_slowdown", nvml.GetTemperatureThreshold(device, NvmlTemperatureThreshold.Slowdown, out var sd))) slowdown = sd;
        if (reader.Check("temperature_shutdown", nvml.GetTemperatureThreshold(device, NvmlTemperatureThreshold.Shutdown, out var sh))) shutdown = sh;
        if (reader.Check("utilization", nvml.GetUtilization(device, out var util)))
        {
            utilGpu = util.Gpu;
            utilMem = util.Memory;
        }
        if (reader.Check("power_draw", nvml.GetPowerUsage(device, out var mw))) power = mw / 1000.0;
        if (reader.Check("power_limit", nvml.GetPowerLimit(device, out var limit))) powerLimit = limit / 1000.0;
        if (reader.Check("clock_event_reasons", nvml.GetClockEventReasons(device, out var cr))) reasons = cr;
        if (reader.Check("ecc_corrected", nvml.GetVolatileEccErrors(device, NvmlMemoryErrorType.Corrected, out var ec))) eccCorrected = ec;
        if (reader.Check("ecc_uncorrected", nvml.GetVolatileEccErrors(device, NvmlMemoryErrorType.Uncorrected, out var eu))) eccUncorrected = eu;
        if (reader.Check("retired_pages_pending", nvml.GetRetiredPagesPending(device, out var rp))) retiredPending = rp;
        if (reader.Check("remapped_rows", nvml.GetRemappedRows(device, out var rows)))
        {
            remapCorr = rows.Correctable;
            remapUnc = rows.Uncorrectable;
            remapPending = rows.Pending;
            remapFailure = rows.Failure;
        }
        if (reader.Check("processes", nvml.GetComputeRunningProcesses(device, out var procs)))
            processes = procs.Select(p => new GpuProcess(p.Pid, p.UsedGpuMemory == NvmlProcessInfo.ValueNotAvailable ? null : p.UsedGpuMemory)).ToArray();

        return new GpuSnapshot
        {
            Index = index, Name = name, Uuid = uuid, MemoryUsedBytes = used, MemoryTotalBytes = total,
            TemperatureC = temp, SlowdownTemperatureC = slowdown, ShutdownTemperatureC = shutdown,
            UtilizationGpuPercent = utilGpu, UtilizationMemoryPercent = utilMem, PowerDrawWatts = power, PowerLimitWatts = powerLimit,
            ClockEventReasons = reasons, EccCorrectedVolatile = eccCorrected, EccUncorrectedVolatile = eccUncorrected,
            RetiredPagesPending = retiredPending, RemappedRowsCorrectable = remapCorr, RemappedRowsUncorrectable = remapUnc,
            RowRemapPending = remapPending, RowRemapFailure = remapFailure, Processes = processes,
            Lost = reader.Lost, NotApplicable = reader.NotApplicable, ReadErrors = reader.Errors,
        };
    }

    private sealed class FieldReader(INvml nvml)
    {
        public readonly List<string> NotApplicable = [];
        public readonly Dictionary<string, string> Errors = new(StringComparer.Ordinal);
        public bool Lost;

        /// <summary>True when the read succeeded; otherwise files the field as not applicable, unreadable or lost.</summary>
        public bool Check(string field, NvmlReturn r)
        {
            if (Lost) return false;
            switch (r)
            {
                case NvmlReturn.Success:
                    return true;
                case NvmlReturn.NotSupported:
                    NotApplicable.Add(field);
                    return false;
                case NvmlReturn.GpuIsLost:
                    Lost = true;
                    return false;
                case NvmlReturn.FunctionNotFound:
                    Errors[field] = "not exported by this NVIDIA driver version";
                    return false;
                default:
                    Errors[field] = $"{nvml.ErrorString(r)} ({r})";
                    return false;
            }
        }
    }
}
