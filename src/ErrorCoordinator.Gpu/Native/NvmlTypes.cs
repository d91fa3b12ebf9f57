using System.Runtime.InteropServices;

namespace ErrorCoordinator.Gpu.Native;

/// <summary><c>nvmlReturn_t</c> (nvml.h).</summary>
public enum NvmlReturn
{
    Success = 0,
    Uninitialized = 1,
    InvalidArgument = 2,
    NotSupported = 3,
    NoPermission = 4,
    AlreadyInitialized = 5,
    NotFound = 6,
    InsufficientSize = 7,
    InsufficientPower = 8,
    DriverNotLoaded = 9,
    Timeout = 10,
    IrqIssue = 11,
    LibraryNotFound = 12,
    FunctionNotFound = 13,
    CorruptedInforom = 14,
    GpuIsLost = 15,
    ResetRequired = 16,
    OperatingSystem = 17,
    LibRmVersionMismatch = 18,
    InUse = 19,
    Memory = 20,
    NoData = 21,
    VgpuEccNotSupported = 22,
    InsufficientResources = 23,
    FreqNotSupported = 24,
    ArgumentVersionMismatch = 25,
    Deprecated = 26,
    NotReady = 27,
    GpuNotFound = 28,
    InvalidState = 29,
    Unknown = 999,
}

/// <summary><c>nvmlTemperatureThresholds_t</c>.</summary>
public enum NvmlTemperatureThreshold
{
    Shutdown = 0,
    Slowdown = 1,
    MemoryMax = 2,
    GpuMax = 3,
}

/// <summary><c>nvmlMemoryErrorType_t</c>.</summary>
public enum NvmlMemoryErrorType
{
    Corrected = 0,
    Uncorrected = 1,
}

/// <summary><c>nvmlEventType*</c> bits.</summary>
public static class NvmlEventTypes
{
    public const ulong SingleBitEccError = 0x1;
    public const ulong DoubleBitEccError = 0x2;
    public const ulong PState = 0x4;
    public const ulong XidCriticalError = 0x8;

    /// <summary>What the probe registers for: XID, single- and double-bit ECC.</summary>
    public const ulong Watched = XidCriticalError | SingleBitEccError | DoubleBitEccError;
}

/// <summary><c>nvmlMemory_v2_t</c>: 40 bytes; <see cref="Version"/> must be <see cref="VersionV2"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlMemoryV2
{
    /// <summary><c>nvmlMemory_v2</c> = NVML_STRUCT_VERSION(Memory, 2) = sizeof(nvmlMemory_v2_t) | 2 &lt;&lt; 24.</summary>
    public const uint VersionV2 = 0x02000028;

    public uint Version;
    public ulong Total;
    public ulong Reserved;
    public ulong Free;
    public ulong Used;
}

/// <summary><c>nvmlUtilization_t</c>: percent of time the GPU and its memory were busy over the last sample period.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlUtilization
{
    public uint Gpu;
    public uint Memory;
}

/// <summary><c>nvmlProcessInfo_t</c> (the v2 layout used by <c>nvmlDeviceGetComputeRunningProcesses_v3</c>): 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlProcessInfo
{
    /// <summary>NVML's "not available" for <see cref="UsedGpuMemory"/> (NVML_VALUE_NOT_AVAILABLE), e.g. without permission or under MIG.</summary>
    public const ulong ValueNotAvailable = ulong.MaxValue;

    public uint Pid;
    public ulong UsedGpuMemory;
    public uint GpuInstanceId;
    public uint ComputeInstanceId;
}

/// <summary><c>nvmlEventData_t</c>: 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NvmlEventData
{
    public nint Device;
    public ulong EventType;
    /// <summary>The XID number for <see cref="NvmlEventTypes.XidCriticalError"/>.</summary>
    public ulong EventData;
    public uint GpuInstanceId;
    public uint ComputeInstanceId;
}

/// <summary>What <c>nvmlDeviceGetRemappedRows</c> answers.</summary>
public readonly record struct NvmlRemappedRows(uint Correctable, uint Uncorrectable, bool Pending, bool Failure);
