using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Incidents;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Core.Tests.Incidents;

/// <summary>Reporting, correlation and incidents wired as the host wires them, on the embedded store and a fake clock.</summary>
public sealed class IncidentTestServices : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private readonly ServiceProvider _provider;

    public IncidentTestServices(IDictionary<string, string?>? settings = null, IIncidentObserver? observer = null)
    {
        Clock = new FakeTimeProvider(Start);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(Clock);
        if (observer is not null) services.AddSingleton(observer);
        services.AddErrorReporting(configuration);
        services.AddCorrelation(configuration);
        services.AddIncidents(configuration);
        services.AddInMemoryStores();
        _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    public FakeTimeProvider Clock { get; }
    public ErrorReportingService Errors => _provider.GetRequiredService<ErrorReportingService>();
    public CorrelationService Correlation => _provider.GetRequiredService<CorrelationService>();
    public IncidentService Incidents => _provider.GetRequiredService<IncidentService>();
    public IncidentOpener Opener => _provider.GetRequiredService<IncidentOpener>();
    public PostmortemService Postmortems => _provider.GetRequiredService<PostmortemService>();
    public IErrorStore ErrorStore => _provider.GetRequiredService<IErrorStore>();
    public T Get<T>() where T : notnull => _provider.GetRequiredService<T>();

    /// <summary>Reports one failure at the current fake time and lets the opener handle its published event.</summary>
    public async Task<ReportResult> ReportAsync(string component, string errorType, string message, string severity = "error",
        string agent = "agent-a", string? taskId = null, IReadOnlyDictionary<string, string>? tags = null, string? category = null)
    {
        var published = new TaskCompletionSource<Core.Events.BusMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bus = _provider.GetRequiredService<Core.Events.IEventBus>();
        await using var sub = await bus.SubscribeAsync(Get<Core.Events.ChannelNames>().AllErrors, m => published.TrySetResult(m));
        var r = await Errors.ReportAsync(new FailureReport
        {
            Agent = agent, ErrorType = errorType, Message = message, Component = component, Severity = severity, TaskId = taskId,
            Tags = tags, Category = category,
        });
        await Opener.HandleAsync(await published.Task);
        return r;
    }

    public async ValueTask DisposeAsync() => await _provider.DisposeAsync();
}
