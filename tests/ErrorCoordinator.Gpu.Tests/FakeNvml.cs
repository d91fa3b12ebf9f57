using System.Collections.Concurrent;
using ErrorCoordinator.Gpu.Native;

namespace ErrorCoordinator.Gpu.Tests;

/// <summary>One fake GPU: every reading and, per NVML function, the return code to answer instead of success.</summary>
public sealed class FakeGpu
{
    public string Name { get; init; } = "NVIDIA H100 80GB HBM3";
    public string Uuid { get; init; } = "GPU-00000000-0000-0000-0000-000000000000";
    public ulong MemoryTotal { get; init; } = 80UL << 30;
    public ulong MemoryUsed { get; init; } = 10UL << 30;
    public uint Temperature { get; init; } = 45;
    public uint Slowdown { get; init; } = 90;
    public uint Shutdown { get; init; } = 95;
    public uint UtilGpu { get; init; } = 50;
    public uint UtilMemory { get; init; } = 20;
    public uint PowerMw { get; init; } = 300_000;
    public uint PowerLimitMw { get; init; } = 700_000;
    public ulong ClockReasons { get; init; }
    public ulong EccCorrected { get; init; }
    public ulong EccUncorrected { get; init; }
    public bool RetiredPending { get; init; }
    public NvmlRemappedRows Rows { get; init; }
    public NvmlProcessInfo[] Processes { get; init; } = [];
    public ulong SupportedEvents { get; init; } = NvmlEventTypes.Watched | NvmlEventTypes.PState;

    /// <summary>Function name (as in INvml, e.g. "GetUtilization") -> the code it answers.</summary>
    public Dictionary<string, NvmlReturn> Fails { get; init; } = new();

    public NvmlReturn Answer(string function) => Fails.TryGetValue(function, out var r) ? r : Fails.TryGetValue("*", out var all) ? all : NvmlReturn.Success;
}

/// <summary>An <see cref="INvml"/> over fake GPUs, with a scripted event stream.</summary>
public sealed class FakeNvml(params FakeGpu[] gpus) : INvml
{
    public NvmlReturn InitResult { get; set; } = NvmlReturn.Success;
    public int InitCalls { get; private set; }
    public int ShutdownCalls { get; private set; }
    public int EventSetsFreed { get; private set; }
    public ConcurrentDictionary<nint, ulong> Registered { get; } = new();

    /// <summary>What each event wait answers, in order; an empty queue answers TIMEOUT.</summary>
    public ConcurrentQueue<(NvmlReturn Result, NvmlEventData Data)> Events { get; } = new();

    public static nint HandleOf(int index) => 0x1000 + index;

    private FakeGpu? Gpu(nint device) => device - 0x1000 is var i && i >= 0 && i < gpus.Length ? gpus[i] : null;

    private NvmlReturn Read<T>(nint device, string function, Func<FakeGpu, T> value, out T result)
    {
        result = default!;
        if (Gpu(device) is not { } g) return NvmlReturn.InvalidArgument;
        var r = g.Answer(function);
        if (r == NvmlReturn.Success) result = value(g);
        return r;
    }

    public NvmlReturn Init()
    {
        InitCalls++;
        return InitResult;
    }

    public NvmlReturn Shutdown()
    {
        ShutdownCalls++;
        return NvmlReturn.Success;
    }

    public string ErrorString(NvmlReturn result) => result switch
    {
        NvmlReturn.NoPermission => "Insufficient Permissions",
        NvmlReturn.DriverNotLoaded => "Driver Not Loaded",
        NvmlReturn.Unknown => "Unknown Error",
        NvmlReturn.GpuIsLost => "GPU is lost",
        _ => result.ToString(),
    };

    public NvmlReturn GetDriverVersion(out string version)
    {
        version = "550.54.15";
        return NvmlReturn.Success;
    }

    private int _countCalls;

    /// <summary>How many times the device count was read (once per probe, once when the event thread starts).</summary>
    public int CountCalls => Volatile.Read(ref _countCalls);

    public NvmlReturn GetDeviceCount(out uint count)
    {
        Interlocked.Increment(ref _countCalls);
        count = (uint)gpus.Length;
        return NvmlReturn.Success;
    }

    public NvmlReturn GetHandleByIndex(uint index, out nint device)
    {
        device = index < gpus.Length ? HandleOf((int)index) : 0;
        if (index >= gpus.Length) return NvmlReturn.InvalidArgument;
        return gpus[index].Answer(nameof(GetHandleByIndex));
    }

    public NvmlReturn GetName(nint device, out string name) => Read(device, nameof(GetName), g => g.Name, out name);
    public NvmlReturn GetUuid(nint device, out string uuid) => Read(device, nameof(GetUuid), g => g.Uuid, out uuid);

    public NvmlReturn GetMemoryInfo(nint device, out NvmlMemoryV2 memory) => Read(device, nameof(GetMemoryInfo),
        g => new NvmlMemoryV2 { Version = NvmlMemoryV2.VersionV2, Total = g.MemoryTotal, Used = g.MemoryUsed, Free = g.MemoryTotal - g.MemoryUsed }, out memory);

    public NvmlReturn GetTemperature(nint device, out uint celsius) => Read(device, nameof(GetTemperature), g => g.Temperature, out celsius);

    public NvmlReturn GetTemperatureThreshold(nint device, NvmlTemperatureThreshold threshold, out uint celsius) =>
        Read(device, nameof(GetTemperatureThreshold) + threshold, g => threshold == NvmlTemperatureThreshold.Slowdown ? g.Slowdown : g.Shutdown, out celsius);

    public NvmlReturn GetUtilization(nint device, out NvmlUtilization utilization) =>
        Read(device, nameof(GetUtilization), g => new NvmlUtilization { Gpu = g.UtilGpu, Memory = g.UtilMemory }, out utilization);

    public NvmlReturn GetPowerUsage(nint device, out uint milliwatts) => Read(device, nameof(GetPowerUsage), g => g.PowerMw, out milliwatts);
    public NvmlReturn GetPowerLimit(nint device, out uint milliwatts) => Read(device, nameof(GetPowerLimit), g => g.PowerLimitMw, out milliwatts);
    public NvmlReturn GetClockEventReasons(nint device, out ulong reasons) => Read(device, nameof(GetClockEventReasons), g => g.ClockReasons, out reasons);

    public NvmlReturn GetVolatileEccErrors(nint device, NvmlMemoryErrorType type, out ulong count) =>
        Read(device, nameof(GetVolatileEccErrors), g => type == NvmlMemoryErrorType.Corrected ? g.EccCorrected : g.EccUncorrected, out count);

    public NvmlReturn GetRetiredPagesPending(nint device, out bool pending) => Read(device, nameof(GetRetiredPagesPending), g => g.RetiredPending, out pending);
    public NvmlReturn GetRemappedRows(nint device, out NvmlRemappedRows rows) => Read(device, nameof(GetRemappedRows), g => g.Rows, out rows);
    public NvmlReturn GetComputeRunningProcesses(nint device, out NvmlProcessInfo[] processes) => Read(device, nameof(GetComputeRunningProcesses), g => g.Processes, out processes);

    public NvmlReturn EventSetCreate(out nint set)
    {
        set = 0x5e7;
        return NvmlReturn.Success;
    }

    public NvmlReturn GetSupportedEventTypes(nint device, out ulong types) => Read(device, nameof(GetSupportedEventTypes), g => g.SupportedEvents, out types);

    public NvmlReturn RegisterEvents(nint device, ulong types, nint set)
    {
        Registered[device] = types;
        return NvmlReturn.Success;
    }

    public NvmlReturn EventSetWait(nint set, uint timeoutMs, out NvmlEventData data)
    {
        if (Events.TryDequeue(out var e))
        {
            data = e.Data;
            return e.Result;
        }
        data = default;
        Thread.Sleep(5);
        return NvmlReturn.Timeout;
    }

    public NvmlReturn EventSetFree(nint set)
    {
        EventSetsFreed++;
        return NvmlReturn.Success;
    }

    public void Xid(int gpu, ulong xid) => Events.Enqueue((NvmlReturn.Success, new NvmlEventData { Device = HandleOf(gpu), EventType = NvmlEventTypes.XidCriticalError, EventData = xid }));
    public void Ecc(int gpu, bool doubleBit) => Events.Enqueue((NvmlReturn.Success, new NvmlEventData { Device = HandleOf(gpu), EventType = doubleBit ? NvmlEventTypes.DoubleBitEccError : NvmlEventTypes.SingleBitEccError }));
}
