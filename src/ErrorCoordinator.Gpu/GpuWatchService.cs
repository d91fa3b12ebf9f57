using ErrorCoordinator.Core.Gpu;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Gpu;

/// <summary>
/// The background GPU watch: every <see cref="GpuOptions.WatchInterval"/> it probes and hands the findings to
/// <see cref="GpuHealthService"/> (deduplicated reports, hardware log, gpu_tasks breaker), and it turns NVML events
/// (XID, ECC, GPU lost) into findings as they arrive. Off when disabled or when no GPU is available.
/// </summary>
public sealed class GpuWatchService(
    GpuHealthService health,
    IGpuProbe probe,
    IOptions<GpuOptions> options,
    TimeProvider time,
    ILogger<GpuWatchService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        if (!o.Enabled || !o.Watch)
        {
            Log.WatchOff(logger, o.Enabled ? "ErrorCoordinator:Gpu:Watch is false" : "ErrorCoordinator:Gpu:Enabled is false");
            return;
        }
        // Let the host finish starting before the first (possibly slow) NVML initialisation.
        await Task.Yield();
        GpuHealthReport first;
        try
        {
            (first, _) = await health.WatchOnceAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.WatchPassFailed(logger, ex);
            return;
        }
        if (!first.Available)
        {
            Log.WatchOff(logger, first.Reason ?? "no GPU available");
            return;
        }
        Log.WatchStarted(logger, first.DeviceCount, first.DriverVersion ?? "unknown", o.WatchInterval);

        var events = Task.Run(() => ConsumeEventsAsync(stoppingToken), CancellationToken.None);
        using var timer = new PeriodicTimer(o.WatchInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await health.WatchOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Log.WatchPassFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await events.ConfigureAwait(false);
    }

    private async Task ConsumeEventsAsync(CancellationToken stoppingToken)
    {
        await foreach (var e in probe.ReadEventsAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await health.HandleEventAsync(e, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.EventFailed(logger, ex);
            }
            catch (OperationCanceledException)
            {
                // Stopping: the event thread ends within one wait and completes the stream.
            }
        }
    }
}
