namespace ErrorCoordinator.Gpu.Native;

/// <summary>
/// The NVML calls the probe makes, one method per entry point, answering NVML's return code. The native implementation is
/// <see cref="NvmlLibrary"/>; tests use a fake. A function the driver does not export answers <see cref="NvmlReturn.FunctionNotFound"/>.
/// </summary>
public interface INvml
{
    /// <summary><c>nvmlInit_v2</c>.</summary>
    NvmlReturn Init();
    /// <summary><c>nvmlShutdown</c>.</summary>
    NvmlReturn Shutdown();
    /// <summary><c>nvmlErrorString</c>: NVML's text for a return code.</summary>
    string ErrorString(NvmlReturn result);
    /// <summary><c>nvmlSystemGetDriverVersion</c>.</summary>
    NvmlReturn GetDriverVersion(out string version);
    /// <summary><c>nvmlDeviceGetCount_v2</c>.</summary>
    NvmlReturn GetDeviceCount(out uint count);
    /// <summary><c>nvmlDeviceGetHandleByIndex_v2</c>.</summary>
    NvmlReturn GetHandleByIndex(uint index, out nint device);
    /// <summary><c>nvmlDeviceGetName</c>.</summary>
    NvmlReturn GetName(nint device, out string name);
    /// <summary><c>nvmlDeviceGetUUID</c>.</summary>
    NvmlReturn GetUuid(nint device, out string uuid);
    /// <summary><c>nvmlDeviceGetMemoryInfo_v2</c> (struct version 0x02000028).</summary>
    NvmlReturn GetMemoryInfo(nint device, out NvmlMemoryV2 memory);
    /// <summary><c>nvmlDeviceGetTemperature</c> of the GPU die sensor.</summary>
    NvmlReturn GetTemperature(nint device, out uint celsius);
    /// <summary><c>nvmlDeviceGetTemperatureThreshold</c>.</summary>
    NvmlReturn GetTemperatureThreshold(nint device, NvmlTemperatureThreshold threshold, out uint celsius);
    /// <summary><c>nvmlDeviceGetUtilizationRates</c> (NOT_SUPPORTED on MIG instances).</summary>
    NvmlReturn GetUtilization(nint device, out NvmlUtilization utilization);
    /// <summary><c>nvmlDeviceGetPowerUsage</c>, milliwatts.</summary>
    NvmlReturn GetPowerUsage(nint device, out uint milliwatts);
    /// <summary><c>nvmlDeviceGetEnforcedPowerLimit</c>, milliwatts.</summary>
    NvmlReturn GetPowerLimit(nint device, out uint milliwatts);
    /// <summary><c>nvmlDeviceGetCurrentClocksEventReasons</c>, or the older <c>nvmlDeviceGetCurrentClocksThrottleReasons</c>.</summary>
    NvmlReturn GetClockEventReasons(nint device, out ulong reasons);
    /// <summary><c>nvmlDeviceGetTotalEccErrors</c> with the volatile counter (since the last driver load).</summary>
    NvmlReturn GetVolatileEccErrors(nint device, NvmlMemoryErrorType type, out ulong count);
    /// <summary><c>nvmlDeviceGetRetiredPagesPendingStatus</c> (pre-Ampere; NOT_SUPPORTED where rows are remapped instead).</summary>
    NvmlReturn GetRetiredPagesPending(nint device, out bool pending);
    /// <summary><c>nvmlDeviceGetRemappedRows</c> (Ampere and later).</summary>
    NvmlReturn GetRemappedRows(nint device, out NvmlRemappedRows rows);
    /// <summary><c>nvmlDeviceGetComputeRunningProcesses_v3</c>.</summary>
    NvmlReturn GetComputeRunningProcesses(nint device, out NvmlProcessInfo[] processes);
    /// <summary><c>nvmlEventSetCreate</c>.</summary>
    NvmlReturn EventSetCreate(out nint set);
    /// <summary><c>nvmlDeviceGetSupportedEventTypes</c>.</summary>
    NvmlReturn GetSupportedEventTypes(nint device, out ulong types);
    /// <summary><c>nvmlDeviceRegisterEvents</c>.</summary>
    NvmlReturn RegisterEvents(nint device, ulong types, nint set);
    /// <summary><c>nvmlEventSetWait_v2</c>: blocks up to <paramref name="timeoutMs"/>; TIMEOUT when nothing happened.</summary>
    NvmlReturn EventSetWait(nint set, uint timeoutMs, out NvmlEventData data);
    /// <summary><c>nvmlEventSetFree</c>.</summary>
    NvmlReturn EventSetFree(nint set);
}
