using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Core.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ErrorCoordinator.Gpu.Hosting;

public static class GpuServiceCollectionExtensions
{
    /// <summary>
    /// GPU health over NVML: the Core rules and service (<see cref="GpuTrainingServiceCollectionExtensions.AddGpuHealth"/>),
    /// <see cref="NvmlGpuProbe"/> as <see cref="IGpuProbe"/> (replacing the unavailable one), and the background
    /// <see cref="GpuWatchService"/>. Safe on hosts without a GPU: the probe answers unavailable and the watch turns itself off.
    /// Needs AddErrorReporting and AddBreakers.
    /// </summary>
    public static IServiceCollection AddGpu(this IServiceCollection services, IConfiguration configuration)
    {
        services.RemoveAll<IGpuProbe>();
        services.AddSingleton<NvmlGpuProbe>();
        services.AddSingleton<IGpuProbe>(sp => sp.GetRequiredService<NvmlGpuProbe>());
        services.AddGpuHealth(configuration);
        services.AddHostedService<GpuWatchService>();
        return services;
    }
}
