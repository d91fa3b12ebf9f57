using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace ErrorCoordinator.Gpu.Native;

/// <summary>
/// NVML through <c>libnvidia-ml.so.1</c>. The library is loaded lazily with <see cref="NativeLibrary.TryLoad(string, out nint)"/>,
/// never at type load: a host without the driver gets a reason, not an exception. The entry points every probe needs are
/// source-generated <see cref="LibraryImportAttribute"/> stubs, bound to the loaded handle by a resolver and checked with
/// <see cref="NativeLibrary.TryGetExport"/> before first use; the optional ones (newer or older driver APIs) are function
/// pointers from <see cref="NativeLibrary.TryGetExport"/>, null when the driver does not export them.
/// </summary>
public sealed unsafe partial class NvmlLibrary : INvml
{
    public const string LibraryName = "libnvidia-ml.so.1";

    /// <summary>The versioned entry points the probe cannot work without.</summary>
    internal static readonly string[] RequiredExports =
        ["nvmlInit_v2", "nvmlShutdown", "nvmlErrorString", "nvmlDeviceGetCount_v2", "nvmlDeviceGetHandleByIndex_v2"];

    private const int NameBuffer = 96;      // NVML_DEVICE_NAME_V2_BUFFER_SIZE
    private const int UuidBuffer = 96;      // NVML_DEVICE_UUID_V2_BUFFER_SIZE
    private const int VersionBuffer = 80;   // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

    private static readonly Lock LoadGate = new();
    private static nint s_handle;
    private static string? s_loadFailure;
    private static bool s_loadTried;

    private readonly delegate* unmanaged<nint, byte*, uint, NvmlReturn> _getName;
    private readonly delegate* unmanaged<nint, byte*, uint, NvmlReturn> _getUuid;
    private readonly delegate* unmanaged<byte*, uint, NvmlReturn> _getDriverVersion;
    private readonly delegate* unmanaged<nint, NvmlMemoryV2*, NvmlReturn> _getMemoryInfoV2;
    private readonly delegate* unmanaged<nint, int, uint*, NvmlReturn> _getTemperature;
    private readonly delegate* unmanaged<nint, int, uint*, NvmlReturn> _getTemperatureThreshold;
    private readonly delegate* unmanaged<nint, NvmlUtilization*, NvmlReturn> _getUtilization;
    private readonly delegate* unmanaged<nint, uint*, NvmlReturn> _getPowerUsage;
    private readonly delegate* unmanaged<nint, uint*, NvmlReturn> _getPowerLimit;
    private readonly delegate* unmanaged<nint, ulong*, NvmlReturn> _getClockEventReasons;
    private readonly delegate* unmanaged<nint, int, int, ulong*, NvmlReturn> _getTotalEccErrors;
    private readonly delegate* unmanaged<nint, int*, NvmlReturn> _getRetiredPagesPending;
    private readonly delegate* unmanaged<nint, uint*, uint*, uint*, uint*, NvmlReturn> _getRemappedRows;
    private readonly delegate* unmanaged<nint, uint*, NvmlProcessInfo*, NvmlReturn> _getComputeProcessesV3;
    private readonly delegate* unmanaged<nint*, NvmlReturn> _eventSetCreate;
    private readonly delegate* unmanaged<nint, ulong*, NvmlReturn> _getSupportedEventTypes;
    private readonly delegate* unmanaged<nint, ulong, nint, NvmlReturn> _registerEvents;
    private readonly delegate* unmanaged<nint, NvmlEventData*, uint, NvmlReturn> _eventSetWaitV2;
    private readonly delegate* unmanaged<nint, NvmlReturn> _eventSetFree;

    private NvmlLibrary(nint handle)
    {
        _getName = (delegate* unmanaged<nint, byte*, uint, NvmlReturn>)Export(handle, "nvmlDeviceGetName");
        _getUuid = (delegate* unmanaged<nint, byte*, uint, NvmlReturn>)Export(handle, "nvmlDeviceGetUUID");
        _getDriverVersion = (delegate* unmanaged<byte*, uint, NvmlReturn>)Export(handle, "nvmlSystemGetDriverVersion");
        _getMemoryInfoV2 = (delegate* unmanaged<nint, NvmlMemoryV2*, NvmlReturn>)Export(handle, "nvmlDeviceGetMemoryInfo_v2");
        _getTemperature = (delegate* unmanaged<nint, int, uint*, NvmlReturn>)Export(handle, "nvmlDeviceGetTemperature");
        _getTemperatureThreshold = (delegate* unmanaged<nint, int, uint*, NvmlReturn>)Export(handle, "nvmlDeviceGetTemperatureThreshold");
        _getUtilization = (delegate* unmanaged<nint, NvmlUtilization*, NvmlReturn>)Export(handle, "nvmlDeviceGetUtilizationRates");
        _getPowerUsage = (delegate* unmanaged<nint, uint*, NvmlReturn>)Export(handle, "nvmlDeviceGetPowerUsage");
        _getPowerLimit = (delegate* unmanaged<nint, uint*, NvmlReturn>)Export(handle, "nvmlDeviceGetEnforcedPowerLimit");
        // Renamed in driver 535 (throttle -> clocks event); the old name stays exported for compatibility.
        var reasons = Export(handle, "nvmlDeviceGetCurrentClocksEventReasons");
        if (reasons == 0) reasons = Export(handle, "nvmlDeviceGetCurrentClocksThrottleReasons");
        _getClockEventReasons = (delegate* unmanaged<nint, ulong*, NvmlReturn>)reasons;
        _getTotalEccErrors = (delegate* unmanaged<nint, int, int, ulong*, NvmlReturn>)Export(handle, "nvmlDeviceGetTotalEccErrors");
        _getRetiredPagesPending = (delegate* unmanaged<nint, int*, NvmlReturn>)Export(handle, "nvmlDeviceGetRetiredPagesPendingStatus");
        _getRemappedRows = (delegate* unmanaged<nint, uint*, uint*, uint*, uint*, NvmlReturn>)Export(handle, "nvmlDeviceGetRemappedRows");
        _getComputeProcessesV3 = (delegate* unmanaged<nint, uint*, NvmlProcessInfo*, NvmlReturn>)Export(handle, "nvmlDeviceGetComputeRunningProcesses_v3");
        _eventSetCreate = (delegate* unmanaged<nint*, NvmlReturn>)Export(handle, "nvmlEventSetCreate");
        _getSupportedEventTypes = (delegate* unmanaged<nint, ulong*, NvmlReturn>)Export(handle, "nvmlDeviceGetSupportedEventTypes");
        _registerEvents = (delegate* unmanaged<nint, ulong, nint, NvmlReturn>)Export(handle, "nvmlDeviceRegisterEvents");
        _eventSetWaitV2 = (delegate* unmanaged<nint, NvmlEventData*, uint, NvmlReturn>)Export(handle, "nvmlEventSetWait_v2");
        _eventSetFree = (delegate* unmanaged<nint, NvmlReturn>)Export(handle, "nvmlEventSetFree");
    }

    /// <summary>
    /// Loads <c>libnvidia-ml.so.1</c> (once per process) and checks the required entry points. Never throws: on failure
    /// <paramref name="reason"/> says why (no library, or a driver too old for the versioned entry points).
    /// </summary>
    public static bool TryOpen(out INvml? nvml, out string reason)
    {
        lock (LoadGate)
        {
            if (!s_loadTried)
            {
                s_loadTried = true;
                s_loadFailure = Load();
            }
        }
        if (s_loadFailure is not null)
        {
            nvml = null;
            reason = s_loadFailure;
            return false;
        }
        nvml = new NvmlLibrary(s_handle);
        reason = "";
        return true;
    }

    private static string? Load()
    {
        if (!OperatingSystem.IsLinux()) return $"NVML is only probed on Linux ({LibraryName}); this host runs {RuntimeInformation.OSDescription}.";
        if (!NativeLibrary.TryLoad(LibraryName, out var handle))
            return $"{LibraryName} could not be loaded: no NVIDIA driver is installed on this host, or the library is not on the loader path.";
        foreach (var name in RequiredExports)
        {
            if (!NativeLibrary.TryGetExport(handle, name, out _))
                return $"{LibraryName} does not export {name}: the NVIDIA driver is too old for this probe.";
        }
        s_handle = handle;
        NativeLibrary.SetDllImportResolver(typeof(NvmlLibrary).Assembly, Resolve);
        return null;
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        libraryName == LibraryName ? s_handle : 0;

    private static nint Export(nint handle, string name) => NativeLibrary.TryGetExport(handle, name, out var address) ? address : 0;

    // The required entry points: source-generated stubs, resolved to the loaded handle (never called before Load succeeded).
    [LibraryImport(LibraryName, EntryPoint = "nvmlInit_v2")] private static partial NvmlReturn NativeInit();
    [LibraryImport(LibraryName, EntryPoint = "nvmlShutdown")] private static partial NvmlReturn NativeShutdown();
    /// <summary>Returns a pointer to a static buffer owned by NVML: read it, never free it or marshal it as an owned string.</summary>
    [LibraryImport(LibraryName, EntryPoint = "nvmlErrorString")] private static partial byte* NativeErrorString(NvmlReturn result);
    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetCount_v2")] private static partial NvmlReturn NativeGetCount(uint* count);
    [LibraryImport(LibraryName, EntryPoint = "nvmlDeviceGetHandleByIndex_v2")] private static partial NvmlReturn NativeGetHandleByIndex(uint index, nint* device);

    public NvmlReturn Init() => NativeInit();

    public NvmlReturn Shutdown() => NativeShutdown();

    public string ErrorString(NvmlReturn result)
    {
        var p = NativeErrorString(result);
        return p is null ? result.ToString() : Marshal.PtrToStringUTF8((nint)p) ?? result.ToString();
    }

    public NvmlReturn GetDeviceCount(out uint count)
    {
        uint c = 0;
        var r = NativeGetCount(&c);
        count = c;
        return r;
    }

    public NvmlReturn GetHandleByIndex(uint index, out nint device)
    {
        nint d = 0;
        var r = NativeGetHandleByIndex(index, &d);
        device = d;
        return r;
    }

    public NvmlReturn GetDriverVersion(out string version)
    {
        version = "";
        if (_getDriverVersion is null) return NvmlReturn.FunctionNotFound;
        var buffer = stackalloc byte[VersionBuffer];
        var r = _getDriverVersion(buffer, VersionBuffer);
        if (r == NvmlReturn.Success) version = Utf8(buffer, VersionBuffer);
        return r;
    }

    public NvmlReturn GetName(nint device, out string name) => ReadString(_getName, device, NameBuffer, out name);

    public NvmlReturn GetUuid(nint device, out string uuid) => ReadString(_getUuid, device, UuidBuffer, out uuid);

    public NvmlReturn GetMemoryInfo(nint device, out NvmlMemoryV2 memory)
    {
        memory = default;
        if (_getMemoryInfoV2 is null) return NvmlReturn.FunctionNotFound;
        var m = new NvmlMemoryV2 { Version = NvmlMemoryV2.VersionV2 };
        var r = _getMemoryInfoV2(device, &m);
        memory = m;
        return r;
    }

    public NvmlReturn GetTemperature(nint device, out uint celsius) => ReadUInt(_getTemperature, device, 0 /* NVML_TEMPERATURE_GPU */, out celsius);

    public NvmlReturn GetTemperatureThreshold(nint device, NvmlTemperatureThreshold threshold, out uint celsius) =>
        ReadUInt(_getTemperatureThreshold, device, (int)threshold, out celsius);

    public NvmlReturn GetUtilization(nint device, out NvmlUtilization utilization)
    {
        utilization = default;
        if (_getUtilization is null) return NvmlReturn.FunctionNotFound;
        NvmlUtilization u;
        var r = _getUtilization(device, &u);
        utilization = u;
        return r;
    }

    public NvmlReturn GetPowerUsage(nint device, out uint milliwatts) => ReadUInt(_getPowerUsage, device, out milliwatts);

    public NvmlReturn GetPowerLimit(nint device, out uint milliwatts) => ReadUInt(_getPowerLimit, device, out milliwatts);

    public NvmlReturn GetClockEventReasons(nint device, out ulong reasons)
    {
        reasons = 0;
        if (_getClockEventReasons is null) return NvmlReturn.FunctionNotFound;
        ulong v = 0;
        var r = _getClockEventReasons(device, &v);
        reasons = v;
        return r;
    }

    public NvmlReturn GetVolatileEccErrors(nint device, NvmlMemoryErrorType type, out ulong count)
    {
        count = 0;
        if (_getTotalEccErrors is null) return NvmlReturn.FunctionNotFound;
        ulong v = 0;
        var r = _getTotalEccErrors(device, (int)type, 0 /* NVML_VOLATILE_ECC */, &v);
        count = v;
        return r;
    }

    public NvmlReturn GetRetiredPagesPending(nint device, out bool pending)
    {
        pending = false;
        if (_getRetiredPagesPending is null) return NvmlReturn.FunctionNotFound;
        var state = 0;
        var r = _getRetiredPagesPending(device, &state);
        pending = state != 0;
        return r;
    }

    public NvmlReturn GetRemappedRows(nint device, out NvmlRemappedRows rows)
    {
        rows = default;
        if (_getRemappedRows is null) return NvmlReturn.FunctionNotFound;
        uint corr = 0, unc = 0, pending = 0, failure = 0;
        var r = _getRemappedRows(device, &corr, &unc, &pending, &failure);
        rows = new NvmlRemappedRows(corr, unc, pending != 0, failure != 0);
        return r;
    }

    public NvmlReturn GetComputeRunningProcesses(nint device, out NvmlProcessInfo[] processes)
    {
        processes = [];
        if (_getComputeProcessesV3 is null) return NvmlReturn.FunctionNotFound;
        // Ask for the count, then read with some headroom for processes starting in between; retry a few times if they keep growing.
        uint count = 0;
        var r = _getComputeProcessesV3(device, &count, null);
        if (r == NvmlReturn.Success) return r;
        for (var attempt = 0; attempt < 3 && r == NvmlReturn.InsufficientSize; attempt++)
        {
            var buffer = new NvmlProcessInfo[count + 8];
            count = (uint)buffer.Length;
            fixed (NvmlProcessInfo* p = buffer) r = _getComputeProcessesV3(device, &count, p);
            if (r == NvmlReturn.Success)
            {
                processes = buffer[..(int)count];
                return r;
            }
        }
        return r;
    }

    public NvmlReturn EventSetCreate(out nint set)
    {
        set = 0;
        if (_eventSetCreate is null) return NvmlReturn.FunctionNotFound;
        nint s = 0;
        var r = _eventSetCreate(&s);
        set = s;
        return r;
    }

    public NvmlReturn GetSupportedEventTypes(nint device, out ulong types)
    {
        types = 0;
        if (_getSupportedEventTypes is null) return NvmlReturn.FunctionNotFound;
        ulong t = 0;
        var r = _getSupportedEventTypes(device, &t);
        types = t;
        return r;
    }

    public NvmlReturn RegisterEvents(nint device, ulong types, nint set) =>
        _registerEvents is null ? NvmlReturn.FunctionNotFound : _registerEvents(device, types, set);

    public NvmlReturn EventSetWait(nint set, uint timeoutMs, out NvmlEventData data)
    {
        data = default;
        if (_eventSetWaitV2 is null) return NvmlReturn.FunctionNotFound;
        NvmlEventData d;
        var r = _eventSetWaitV2(set, &d, timeoutMs);
        data = d;
        return r;
    }

    public NvmlReturn EventSetFree(nint set) => _eventSetFree is null ? NvmlReturn.FunctionNotFound : _eventSetFree(set);

    private static NvmlReturn ReadString(delegate* unmanaged<nint, byte*, uint, NvmlReturn> fn, nint device, int size, out string value)
    {
        value = "";
        if (fn is null) return NvmlReturn.FunctionNotFound;
        var buffer = stackalloc byte[size];
        var r = fn(device, buffer, (uint)size);
        if (r == NvmlReturn.Success) value = Utf8(buffer, size);
        return r;
    }

    private static NvmlReturn ReadUInt(delegate* unmanaged<nint, uint*, NvmlReturn> fn, nint device, out uint value)
    {
        value = 0;
        if (fn is null) return NvmlReturn.FunctionNotFound;
        uint v = 0;
        var r = fn(device, &v);
        value = v;
        return r;
    }

    private static NvmlReturn ReadUInt(delegate* unmanaged<nint, int, uint*, NvmlReturn> fn, nint device, int arg, out uint value)
    {
        value = 0;
        if (fn is null) return NvmlReturn.FunctionNotFound;
        uint v = 0;
        var r = fn(device, arg, &v);
        value = v;
        return r;
    }

    private static string Utf8(byte* buffer, int size)
    {
        var span = new ReadOnlySpan<byte>(buffer, size);
        var end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }
}
