using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Retries;
using ErrorCoordinator.Core.Incidents;
using ErrorCoordinator.Core.Scrubbing;
using ErrorCoordinator.Core.Signatures;
using ErrorCoordinator.Core.Storage.InMemory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Hosting;

/// <summary>Options shared by every capability's storage. Bound from <c>ErrorCoordinator:Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "ErrorCoordinator:Storage";

    /// <summary>Redis connection: a redis:// or rediss:// URL, or a StackExchange.Redis configuration string. Empty: the embedded store.</summary>
    public string? Redis { get; set; }

    /// <summary>Prefix of every Redis key, so several deployments can share one Redis.</summary>
    [System.ComponentModel.DataAnnotations.RegularExpression(@"^[A-Za-z0-9_.\-]{0,32}:?$", ErrorMessage = "KeyPrefix may use letters, digits, '_', '.', '-' and one trailing ':' (at most 32 characters).")]
    public string KeyPrefix { get; set; } = Common.Defaults.KeyPrefix;

    /// <summary>Prefix of every pub/sub channel; empty keeps the original design's names (events:errors:*).</summary>
    public string ChannelPrefix { get; set; } = "";

    public bool UsesRedis => !string.IsNullOrWhiteSpace(Redis);
}

public static class CoreServiceCollectionExtensions
{
    /// <summary>Failure reporting: options, validation, scrubbing, classification, signatures and the service.</summary>
    public static IServiceCollection AddErrorReporting(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<LimitsOptions>().Bind(configuration.GetSection(LimitsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.Section)).ValidateDataAnnotations()
            .Validate(o => o.Default > TimeSpan.Zero && o.Groups > TimeSpan.Zero && o.Kinds.Values.All(v => v > TimeSpan.Zero),
                "Retention periods must be positive.")
            .ValidateOnStart();
        services.AddOptions<ScrubbingOptions>().Bind(configuration.GetSection(ScrubbingOptions.Section)).ValidateOnStart();
        services.AddOptions<ClassificationOptions>().Bind(configuration.GetSection(ClassificationOptions.Section))
            .Validate(o => o.Rules.All(r => IsValidRegex(r.ErrorType) && IsValidRegex(r.Message) && IsValidRegex(r.Code)),
                "Every classification rule pattern must be a valid regular expression.")
            .ValidateOnStart();
        services.AddOptions<SignatureOptions>().Bind(configuration.GetSection(SignatureOptions.Section)).ValidateDataAnnotations()
            .Validate(o => FingerprintRules.Validate(o.Rules).Count == 0, "Every Signatures:Rules entry needs a known matcher (error_type, message, agent, component, stack, tags.<key>) and a Fingerprint or Title.")
            .ValidateOnStart();
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateDataAnnotations().ValidateOnStart();

        services.TryAddSingleton(sp => new ChannelNames(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ChannelPrefix));
        services.TryAddSingleton<FailureValidator>();
        services.TryAddSingleton<SecretScrubber>();
        services.TryAddSingleton<ErrorClassifier>();
        services.TryAddSingleton<TemplateSignatureEngine>();
        // The server's engine: template mining with its state in the store (default), or the seed signature.
        services.TryAddSingleton<ISignatureEngine>(sp =>
            sp.GetRequiredService<IOptions<SignatureOptions>>().Value.Engine == "seed"
                ? new SeedSignatureEngine()
                : sp.GetRequiredService<TemplateSignatureEngine>());
        services.TryAddSingleton<ErrorReportingService>();
        return services;
    }

    /// <summary>Fleet-wide circuit breakers: options (validated at start) and the service. Needs <see cref="AddErrorReporting"/>.</summary>
    public static IServiceCollection AddBreakers(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<BreakerOptions>().Bind(configuration.GetSection(BreakerOptions.Section)).ValidateDataAnnotations()
            .Validate(o => TryValidatePolicy(o.Default), "ErrorCoordinator:Breakers:Default is not a valid breaker policy (see configure_breaker for each field's range).")
            .Validate(o => o.IdleRetention >= BreakerOptions.MinIdleRetention, "ErrorCoordinator:Breakers:IdleRetention must be at least 01:00:00.")
            .ValidateOnStart();
        services.TryAddSingleton<BreakerService>();
        return services;
    }

    /// <summary>The leased retry queue: options (validated at start), the jitter source and the service. Needs <see cref="AddBreakers"/>.</summary>
    public static IServiceCollection AddRetries(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<RetryOptions>().Bind(configuration.GetSection(RetryOptions.Section)).ValidateDataAnnotations()
            .Validate(o => o.IsConsistent(), "ErrorCoordinator:Retries: DefaultBaseDelayMs must not exceed DefaultMaxDelayMs, DeadLetterMaxAge and SweepInterval must be positive, OutcomeCountCacheTtl between 0 and 1 minute.")
            .ValidateOnStart();
        services.TryAddSingleton<IRandomSource, SystemRandomSource>();
        services.TryAddSingleton<RetryService>();
        return services;
    }

    /// <summary>Dependency graph and correlation: options (validated at start) and the service. Needs <see cref="AddErrorReporting"/>.</summary>
    public static IServiceCollection AddCorrelation(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<CorrelationOptions>().Bind(configuration.GetSection(CorrelationOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<CorrelationService>();
        return services;
    }

    /// <summary>Incidents, the automatic opener and post-mortems: options (validated at start) and the services. Needs <see cref="AddCorrelation"/>.</summary>
    public static IServiceCollection AddIncidents(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<IncidentOptions>().Bind(configuration.GetSection(IncidentOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<IncidentService>();
        services.TryAddSingleton<IncidentOpener>();
        services.TryAddSingleton<PostmortemService>();
        return services;
    }

    private static bool TryValidatePolicy(BreakerPolicy policy)
    {
        try
        {
            BreakerService.ValidatePolicy(policy);
            return true;
        }
        catch (Common.ValidationException)
        {
            return false;
        }
    }

    /// <summary>The embedded store: every port in memory, one process, not durable.</summary>
    public static IServiceCollection AddInMemoryStores(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InMemoryEventBus>();
        services.TryAddSingleton<IEventBus>(sp => sp.GetRequiredService<InMemoryEventBus>());
        services.TryAddSingleton<IErrorStore, InMemoryErrorStore>();
        services.TryAddSingleton<IDependencyStore, InMemoryDependencyStore>();
        services.TryAddSingleton<IIncidentStore, InMemoryIncidentStore>();
        services.TryAddSingleton<IBreakerStore, InMemoryBreakerStore>();
        services.TryAddSingleton<IRetryQueue, InMemoryRetryQueue>();
        return services;
    }

    private static bool IsValidRegex(string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern)) return true;
        try
        {
            _ = new System.Text.RegularExpressions.Regex(pattern);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
