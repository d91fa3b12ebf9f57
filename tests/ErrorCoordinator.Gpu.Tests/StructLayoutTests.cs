using System.Runtime.InteropServices;
using ErrorCoordinator.Gpu.Native;

namespace ErrorCoordinator.Gpu.Tests;

/// <summary>The P/Invoke structs match nvml.h's layout on 64-bit Linux (sizes and field offsets).</summary>
public sealed class StructLayoutTests
{
    [Fact]
    public void Memory_v2_is_40_bytes_with_nvml_offsets_and_its_version_encodes_the_size()
    {
        Assert.Equal(40, Marshal.SizeOf<NvmlMemoryV2>());
        Assert.Equal(0, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Version)));
        Assert.Equal(8, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Total)));
        Assert.Equal(16, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Reserved)));
        Assert.Equal(24, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Free)));
        Assert.Equal(32, Offset<NvmlMemoryV2>(nameof(NvmlMemoryV2.Used)));
        // NVML_STRUCT_VERSION(Memory, 2) = sizeof(nvmlMemory_v2_t) | (2 << 24)
        Assert.Equal(0x02000028u, NvmlMemoryV2.VersionV2);
        Assert.Equal(NvmlMemoryV2.VersionV2, (uint)Marshal.SizeOf<NvmlMemoryV2>() | (2u << 24));
    }

    [Fact]
    public void Event_data_is_32_bytes_with_nvml_offsets()
    {
        Assert.Equal(32, Marshal.SizeOf<NvmlEventData>());
        Assert.Equal(0, Offset<NvmlEventData>(nameof(NvmlEventData.Device)));
        Assert.Equal(8, Offset<NvmlEventData>(nameof(NvmlEventData.EventType)));
        Assert.Equal(16, Offset<NvmlEventData>(nameof(NvmlEventData.EventData)));
        Assert.Equal(24, Offset<NvmlEventData>(nameof(NvmlEventData.GpuInstanceId)));
        Assert.Equal(28, Offset<NvmlEventData>(nameof(NvmlEventData.ComputeInstanceId)));
    }

    [Fact]
    public void Process_info_is_24_bytes_with_nvml_offsets()
    {
        Assert.Equal(24, Marshal.SizeOf<NvmlProcessInfo>());
        Assert.Equal(0, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.Pid)));
        Assert.Equal(8, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.UsedGpuMemory)));
        Assert.Equal(16, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.GpuInstanceId)));
        Assert.Equal(20, Offset<NvmlProcessInfo>(nameof(NvmlProcessInfo.ComputeInstanceId)));
    }

    [Fact]
    public void Utilization_is_two_unsigned_ints()
    {
        Assert.Equal(8, Marshal.SizeOf<NvmlUtilization>());
        Assert.Equal(4, Offset<NvmlUtilization>(nameof(NvmlUtilization.Memory)));
    }

    [Fact]
    public void Event_type_bits_and_return_codes_match_nvml_h()
    {
        Assert.Equal(0x1UL, NvmlEventTypes.SingleBitEccError);
        Assert.Equal(0x2UL, NvmlEventTypes.DoubleBitEccError);
        Assert.Equal(0x8UL, NvmlEventTypes.XidCriticalError);
        Assert.Equal(3, (int)NvmlReturn.NotSupported);
        Assert.Equal(15, (int)NvmlReturn.GpuIsLost);
        Assert.Equal(10, (int)NvmlReturn.Timeout);
        Assert.Equal(999, (int)NvmlReturn.Unknown);
    }

    private static long Offset<T>(string field) => Marshal.OffsetOf<T>(field).ToInt64();
}
