using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Redis.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ErrorCoordinator.Bench;

/// <summary>
/// The services a bench phase measures, wired as the host wires them: failure reporting plus the capabilities
/// <paramref name="add"/> registers, on the Redis stores of <paramref name="mux"/> (the embedded store when null), under a
/// key and channel prefix of the phase's own; options validated as at start.
/// </summary>
internal static class BenchServices
{
    public static ServiceProvider Build(IConnectionMultiplexer? mux, string prefix, Action<IServiceCollection, IConfiguration>? add = null,
        IReadOnlyDictionary<string, string?>? settings = null)
    {
        var values = new Dictionary<string, string?>
        {
            [StorageOptions.Section + ":KeyPrefix"] = prefix,
            [StorageOptions.Section + ":ChannelPrefix"] = prefix,
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) values[k] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddErrorReporting(configuration);
        add?.Invoke(services, configuration);
        services.AddInMemoryStores();
        if (mux is not null) services.AddRedisStores(mux);
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        provider.GetService<IStartupValidator>()?.Validate();
        return provider;
    }
}
