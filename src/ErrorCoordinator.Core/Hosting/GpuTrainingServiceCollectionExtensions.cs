using ErrorCoordinator.Core.Gpu;
using ErrorCoordinator.Core.Storage.InMemory;
using ErrorCoordinator.Core.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Hosting;

/// <summary>Registrations of the GPU health and training-run capabilities.</summary>
public static class GpuTrainingServiceCollectionExtensions
{
    /// <summary>
    /// Training-run anomaly detection: options (validated at start), the service, and the embedded store unless a store is
    /// registered (the Redis one replaces it). Needs <see cref="CoreServiceCollectionExtensions.AddErrorReporting"/>.
    /// </summary>
    public static IServiceCollection AddTraining(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<TrainingOptions>().Bind(configuration.GetSection(TrainingOptions.Section)).ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrainingOptions>>(new RuleValidator<TrainingOptions>(o => o.Validate()));
        services.TryAddSingleton<ITrainingStore, InMemoryTrainingStore>();
        services.TryAddSingleton<TrainingAnomalyService>();
        return services;
    }

    /// <summary>
    /// GPU health rules and reporting: options (validated at start), the service, the embedded hardware log unless one is
    /// registered, and a probe that answers unavailable unless a real one (NVML) is registered.
    /// Needs <see cref="CoreServiceCollectionExtensions.AddErrorReporting"/> and <see cref="CoreServiceCollectionExtensions.AddBreakers"/>.
    /// </summary>
    public static IServiceCollection AddGpuHealth(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<GpuOptions>().Bind(configuration.GetSection(GpuOptions.Section)).ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GpuOptions>>(new RuleValidator<GpuOptions>(o => o.Validate()));
        services.TryAddSingleton<IHardwareLog, InMemoryHardwareLog>();
        services.TryAddSingleton<IGpuProbe>(new UnavailableGpuProbe("no GPU probe is configured in this process"));
        services.TryAddSingleton<GpuHealthService>();
        return services;
    }
}

/// <summary>Validates an options class with its own cross-field rules, reporting each failure with its message.</summary>
internal sealed class RuleValidator<T>(Func<T, IEnumerable<string>> rules) : IValidateOptions<T> where T : class
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var failures = rules(options).ToArray();
        return failures.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
