using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Storage.InMemory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Core.Tests;

/// <summary>The Core services wired as the host wires them, on the embedded store and a fake clock.</summary>
public sealed class TestServices : IDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _provider;

    /// <param name="shared">Another instance whose store and clock this one uses: a second "process" on one store.</param>
    public TestServices(IDictionary<string, string?>? settings = null, TestServices? shared = null)
    {
        Clock = shared?.Clock ?? new FakeTimeProvider(Start);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Clock);
        if (shared is not null) services.AddSingleton(shared.Store);
        services.AddErrorReporting(configuration);
        services.AddInMemoryStores();
        _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    public FakeTimeProvider Clock { get; }
    public ErrorReportingService Errors => _provider.GetRequiredService<ErrorReportingService>();
    public IErrorStore Store => _provider.GetRequiredService<IErrorStore>();
    public IEventBus Bus => _provider.GetRequiredService<IEventBus>();
    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    public static FailureReport Report(string message = "Connection to db-7 timed out after 3000 ms", string agent = "agent-a",
        string errorType = "TimeoutError", string? component = "postgres") =>
        new() { Agent = agent, ErrorType = errorType, Message = message, Component = component };

    public void Dispose() => _provider.Dispose();
}
