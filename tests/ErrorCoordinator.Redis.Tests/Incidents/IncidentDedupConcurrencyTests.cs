using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Incidents;
using ErrorCoordinator.Redis.Hosting;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Tests.Incidents;

/// <summary>
/// Automatic incidents across two "processes" (two service providers, each with its own Redis connection and its own
/// incident opener subscribed to the Redis bus), on one real Redis: every process sees every event, and the store's
/// atomic dedup still gives one incident per cluster.
/// </summary>
public sealed class IncidentDedupConcurrencyTests(RedisServer server) : IAsyncLifetime
{
    private readonly string _prefix = TestPrefix.New();
    private readonly List<(ServiceProvider Provider, IConnectionMultiplexer Mux)> _processes = [];

    public async ValueTask InitializeAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            var mux = await RedisTestConnections.NewAsync(server);
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                [$"{StorageOptions.Section}:KeyPrefix"] = _prefix,
                [$"{StorageOptions.Section}:ChannelPrefix"] = _prefix,
                [$"{IncidentOptions.Section}:CascadeCheckSeconds"] = "3600", // cascade checks are called by the test
            }).Build();
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddErrorReporting(config);
            services.AddCorrelation(config);
            services.AddIncidents(config);
            services.AddInMemoryStores();
            services.AddRedisStores(mux);
            var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
            await provider.GetRequiredService<IncidentOpener>().StartAsync();
            _processes.Add((provider, mux));
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (provider, mux) in _processes)
        {
            await provider.GetRequiredService<IncidentOpener>().StopAsync();
            await provider.DisposeAsync();
            await mux.DisposeAsync();
        }
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private T Get<T>(int process) where T : notnull => _processes[process].Provider.GetRequiredService<T>();

    private async Task WaitHandledAsync(long perProcess)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (_processes.Any(p => p.Provider.GetRequiredService<IncidentOpener>().HandledMessages < perProcess))
        {
            Assert.True(DateTime.UtcNow < deadline, $"openers handled {string.Join(", ", _processes.Select(p => p.Provider.GetRequiredService<IncidentOpener>().HandledMessages))} of {perProcess} messages");
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Twenty_simultaneous_critical_reports_in_one_cluster_through_two_processes_give_one_incident()
    {
        // One cluster: the same component, or the same trace on a dependent component.
        await Get<CorrelationService>(0).RegisterDependenciesAsync("api", ["postgres"], Ct);
        using var go = new ManualResetEventSlim(false);
        var reports = Enumerable.Range(0, 20).Select(n => Task.Run(async () =>
        {
            go.Wait();
            return await Get<ErrorReportingService>(n % 2).ReportAsync(new FailureReport
            {
                Agent = $"agent-{n}",
                ErrorType = n % 3 == 0 ? "CUDAError" : "OutOfMemoryError",
                Message = $"worker {n} lost its database connection",
                Component = n % 4 == 0 ? "api" : "postgres",
                TraceId = "trace-outage",
                Severity = "critical",
            }, Ct);
        })).ToArray();
        go.Set();
        var results = await Task.WhenAll(reports);
        await WaitHandledAsync(20);

        var incidents = await Get<IncidentService>(1).ListAsync(null, 50, null, Ct);
        var only = Assert.Single(incidents.Items);
        var incident = await Get<IncidentService>(0).GetAsync(only.Id, Ct);
        Assert.Equal(IncidentSources.CriticalEvent, incident.Source);
        Assert.Equal(IncidentStatus.Triggered, incident.Status);
        Assert.Equal(20, incident.EventCount);
        Assert.Equal(results.Select(r => r.EventId).Order(StringComparer.Ordinal), incident.EventIds.Order(StringComparer.Ordinal));
        var errors = incident.Timeline.Where(t => t.Type == TimelineTypes.Error).ToList();
        Assert.Equal(20, errors.Count);
        Assert.Equal(20, errors.SelectMany(t => t.EventIds).Distinct().Count());
        Assert.Equal(new[] { "api", "postgres" }, incident.Components.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_cascade_checked_by_both_processes_at_once_opens_one_incident_naming_the_root()
    {
        var correlation = Get<CorrelationService>(0);
        await correlation.RegisterDependenciesAsync("api", ["postgres"], Ct);
        await correlation.RegisterDependenciesAsync("web", ["api"], Ct);
        var now = DateTimeOffset.UtcNow;
        var reported = 0;
        async Task Report(string component, string type, int count, int startSeconds)
        {
            for (var i = 0; i < count; i++)
            {
                await Get<ErrorReportingService>(i % 2).ReportAsync(new FailureReport
                {
                    Agent = "agent-" + component, ErrorType = type, Message = $"{type} while serving request {i}", Component = component,
                    Severity = "error", OccurredAt = now.AddSeconds(startSeconds + i).ToString("O"),
                }, Ct);
                reported++;
            }
        }
        await Report("postgres", "ConnectionRefusedError", 5, -60);
        await Report("api", "TimeoutError", 5, -50);
        await Report("web", "HTTP503Error", 5, -40);
        await WaitHandledAsync(reported);
        Assert.Empty((await Get<IncidentService>(0).ListAsync(null, 50, null, Ct)).Items); // nothing critical yet

        var checks = await Task.WhenAll(Get<IncidentOpener>(0).CheckCascadesAsync(Ct), Get<IncidentOpener>(1).CheckCascadesAsync(Ct));
        var outcomes = checks.SelectMany(c => c).ToList();
        Assert.Equal(2, outcomes.Count);
        Assert.Single(outcomes, o => o.Result == SignalResult.Opened);
        var incident = await Get<IncidentService>(1).GetAsync(Assert.Single(outcomes.Select(o => o.IncidentId).Distinct())!, Ct);
        Assert.Equal(IncidentSources.Cascade, incident.Source);
        Assert.Equal("postgres", incident.SuspectedRootCause);
        Assert.Equal(15, incident.EventCount);
        var entry = Assert.Single(incident.Timeline, t => t.Type == TimelineTypes.CascadeDetected);
        Assert.Equal(15, entry.EventIds.Count);
        Assert.Single((await Get<IncidentService>(0).ListAsync(null, 50, null, Ct)).Items);
    }
}
