using ErrorCoordinator.Core.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ErrorCoordinator.Testing.Contract;

/// <summary>
/// The reporting, breaker and retry services wired as the host wires them, on a given clock and settings; the embedded store
/// unless <c>store</c> replaces it (e.g. with the Redis stores).
/// </summary>
public static class CoordinationTestServices
{
    public static ServiceProvider Build(TimeProvider time, IDictionary<string, string?> settings, Action<IServiceCollection>? store = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(time);
        services.AddErrorReporting(configuration);
        services.AddBreakers(configuration);
        services.AddRetries(configuration);
        services.AddInMemoryStores();
        store?.Invoke(services);
        return services.BuildServiceProvider();
    }
}
