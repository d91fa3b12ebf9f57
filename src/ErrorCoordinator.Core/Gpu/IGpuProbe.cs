namespace ErrorCoordinator.Core.Gpu;

/// <summary>
/// Reads the GPUs of this host (NVML in production). Never throws for a missing library, driver, permission or GPU:
/// it answers <see cref="GpuProbeResult.Available"/> false with the reason.
/// </summary>
public interface IGpuProbe
{
    /// <summary>Reads every GPU, or only <paramref name="index"/> when given (a <see cref="Common.ValidationException"/> on <c>index</c> when there is no such GPU).</summary>
    Task<GpuProbeResult> ProbeAsync(int? index = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asynchronous events (XID, single- and double-bit ECC, GPU lost), waited for on a dedicated thread.
    /// Completes at once when GPUs are unavailable or the driver supports no events.
    /// </summary>
    IAsyncEnumerable<GpuEvent> ReadEventsAsync(CancellationToken cancellationToken = default);
}

/// <summary>The probe used when no GPU support is configured: always unavailable with the reason.</summary>
public sealed class UnavailableGpuProbe(string reason) : IGpuProbe
{
    public Task<GpuProbeResult> ProbeAsync(int? index = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(GpuProbeResult.Unavailable(reason));

    public async IAsyncEnumerable<GpuEvent> ReadEventsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask;
        yield break;
    }
}
