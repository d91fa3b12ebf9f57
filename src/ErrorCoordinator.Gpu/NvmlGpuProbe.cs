using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Gpu.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ErrorCoordinator.Gpu;

/// <summary>Opens NVML: the library, or null with the reason it is unavailable.</summary>
public delegate INvml? NvmlOpener(out string reason);

/// <summary>
/// <see cref="IGpuProbe"/> over NVML. NVML is opened and initialised on first use; no library, no driver, no permission
/// or no GPU gives <see cref="GpuProbeResult.Available"/> false with the reason. NOT_SUPPORTED fields are listed as not
/// applicable, other failures as read errors; GPU_IS_LOST marks the snapshot lost.
/// </summary>
public sealed class NvmlGpuProbe : IGpuProbe, IDisposable
{
    /// <summary>How long one event wait blocks the event thread (it checks for cancellation between waits).</summary>
    internal const uint EventWaitMs = 1000;

    private readonly NvmlOpener _open;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private INvml? _nvml;
    private string? _unavailable;
    private bool _initialised;

    public NvmlGpuProbe(TimeProvider time, ILogger<NvmlGpuProbe> logger)
        : this(Open, time, logger)
    {
    }

    internal NvmlGpuProbe(NvmlOpener open, TimeProvider time, ILogger? logger = null)
    {
        _open = open;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
    }

    private static INvml? Open(out string reason) => NvmlLibrary.TryOpen(out var nvml, out reason) ? nvml : null;

    public async Task<GpuProbeResult> ProbeAsync(int? index = null, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Initialise() is { } reason) return GpuProbeResult.Unavailable(reason);
            var nvml = _nvml!;
            var r = nvml.GetDeviceCount(out var count);
            if (r != NvmlReturn.Success) return GpuProbeResult.Unavailable(Describe(nvml, "nvmlDeviceGetCount_v2", r));
            if (count == 0) return GpuProbeResult.Unavailable("NVML is loaded but this host has no NVIDIA GPU (nvmlDeviceGetCount_v2 answered 0).");
            if (index is { } i && i >= count)
                throw new ValidationException("index", $"'index' is {i} but this host has {count} GPU(s), numbered 0 to {count - 1}.");
            var driver = nvml.GetDriverVersion(out var version) == NvmlReturn.Success ? version : null;
            var snapshots = new List<GpuSnapshot>();
            for (var n = index ?? 0; n < (index is null ? (int)count : index.Value + 1); n++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                snapshots.Add(NvmlDeviceReader.Read(nvml, n));
            }
            return new GpuProbeResult(true, null, driver, (int)count, snapshots);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Null when NVML is ready; else why it is not. Library failures are permanent; an init failure is retried on the next probe.</summary>
    private string? Initialise()
    {
        if (_initialised) return null;
        if (_unavailable is not null) return _unavailable;
        if (_nvml is null)
        {
            _nvml = _open(out var openFailure);
            if (_nvml is null)
            {
                _unavailable = openFailure;
                return _unavailable;
            }
        }
        var r = _nvml.Init();
        if (r != NvmlReturn.Success)
        {
            return r switch
            {
                NvmlReturn.DriverNotLoaded => $"The NVIDIA driver is not loaded on this host (nvmlInit_v2: {_nvml.ErrorString(r)}).",
                NvmlReturn.NoPermission => $"No permission to open the GPUs (nvmlInit_v2: {_nvml.ErrorString(r)}); run the server as a user with access to /dev/nvidia*.",
                NvmlReturn.LibRmVersionMismatch => $"The NVML library and the loaded kernel driver differ in version (nvmlInit_v2: {_nvml.ErrorString(r)}); reboot or reload the driver.",
                _ => Describe(_nvml, "nvmlInit_v2", r),
            };
        }
        _initialised = true;
        return null;
    }

    private static string Describe(INvml nvml, string call, NvmlReturn r) => $"{call} failed: {nvml.ErrorString(r)} ({r}).";

    public async IAsyncEnumerable<GpuEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        List<(int Index, nint Handle, string? Uuid)> devices;
        try
        {
            if (Initialise() is { } reason)
            {
                Log.EventsUnavailable(_logger, reason);
                yield break;
            }
            devices = ListDevices(_nvml!);
        }
        finally
        {
            _gate.Release();
        }

        var nvml = _nvml!;
        if (nvml.EventSetCreate(out var set) is var created and not NvmlReturn.Success)
        {
            Log.EventsUnavailable(_logger, Describe(nvml, "nvmlEventSetCreate", created));
            yield break;
        }
        var registered = 0;
        foreach (var d in devices)
        {
            // NOT_SUPPORTED (e.g. no ECC, or events on a MIG instance) is not applicable: register what the device offers.
            if (nvml.GetSupportedEventTypes(d.Handle, out var supported) != NvmlReturn.Success) continue;
            var types = supported & NvmlEventTypes.Watched;
            if (types == 0 || nvml.RegisterEvents(d.Handle, types, set) != NvmlReturn.Success) continue;
            registered++;
            Log.EventsRegistered(_logger, d.Index, types);
        }
        if (registered == 0)
        {
            nvml.EventSetFree(set);
            Log.EventsUnavailable(_logger, "no GPU supports XID or ECC events");
            yield break;
        }

        var channel = Channel.CreateBounded<GpuEvent>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.DropOldest });
        var thread = new Thread(() => WaitLoop(nvml, set, devices, channel.Writer, cancellationToken))
        {
            IsBackground = true,
            Name = "nvml-events",
        };
        thread.Start();
        await foreach (var e in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false)) yield return e;
    }

    /// <summary>The dedicated event thread: blocks in nvmlEventSetWait_v2 (up to 1 s per wait) until cancelled, then frees the set.</summary>
    internal void WaitLoop(INvml nvml, nint set, IReadOnlyList<(int Index, nint Handle, string? Uuid)> devices, ChannelWriter<GpuEvent> writer, CancellationToken cancellationToken)
    {
        try
        {
            var failures = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                var r = nvml.EventSetWait(set, EventWaitMs, out var data);
                if (r == NvmlReturn.Timeout) continue;
                if (r == NvmlReturn.Success)
                {
                    failures = 0;
                    var device = devices.FirstOrDefault(d => d.Handle == data.Device);
                    var index = device.Handle == 0 && data.Device != 0 ? -1 : device.Index;
                    var type = (data.EventType & NvmlEventTypes.XidCriticalError) != 0 ? GpuEventType.Xid
                        : (data.EventType & NvmlEventTypes.DoubleBitEccError) != 0 ? GpuEventType.DoubleBitEcc
                        : GpuEventType.SingleBitEcc;
                    writer.TryWrite(new GpuEvent(index, device.Uuid, type, data.EventData, _time.GetUtcNow()));
                    continue;
                }
                if (r == NvmlReturn.GpuIsLost)
                {
                    var device = devices.FirstOrDefault(d => d.Handle == data.Device);
                    writer.TryWrite(new GpuEvent(device.Handle == 0 ? -1 : device.Index, device.Uuid, GpuEventType.Lost, 0, _time.GetUtcNow()));
                }
                else
                {
                    Log.EventWaitFailed(_logger, Describe(nvml, "nvmlEventSetWait_v2", r));
                }
                // Back off on repeated failures so a broken set does not spin the thread.
                if (++failures >= 100) break;
                cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(Math.Min(30, failures)));
            }
        }
        finally
        {
            nvml.EventSetFree(set);
            writer.TryComplete();
        }
    }

    private static List<(int, nint, string?)> ListDevices(INvml nvml)
    {
        var list = new List<(int, nint, string?)>();
        if (nvml.GetDeviceCount(out var count) != NvmlReturn.Success) return list;
        for (var i = 0; i < count; i++)
        {
            if (nvml.GetHandleByIndex((uint)i, out var handle) != NvmlReturn.Success) continue;
            list.Add((i, handle, nvml.GetUuid(handle, out var uuid) == NvmlReturn.Success ? uuid : null));
        }
        return list;
    }

    public void Dispose()
    {
        if (_initialised) _nvml?.Shutdown();
        _initialised = false;
        _gate.Dispose();
    }
}
