using System.Text.Json;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Training;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Core.Tests.Training;

/// <summary>The service on the embedded store: anomalies become training events (30 days, events:errors:training), groups and log entries.</summary>
public sealed class TrainingAnomalyServiceTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _clock = new(TestServices.Start);
    private readonly ServiceProvider _sp;

    public TrainingAnomalyServiceTests()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_clock);
        services.AddErrorReporting(configuration);
        services.AddInMemoryStores();
        services.AddTraining(configuration);
        _sp = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
    }

    private TrainingAnomalyService Training => _sp.GetRequiredService<TrainingAnomalyService>();
    private ErrorReportingService Errors => _sp.GetRequiredService<ErrorReportingService>();

    private Task<TrainingStepResult> Step(long step, double loss, string run = "r1", double? grad = null, string project = "llama-ft") =>
        Training.ReportAsync(new TrainingMetric { Project = project, Run = run, Step = step, Loss = loss, GradNorm = grad, LearningRate = 3e-4 }, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Nan_loss_is_a_critical_training_event_in_a_group_published_and_logged_for_30_days()
    {
        var published = new List<BusMessage>();
        await using var sub = await _sp.GetRequiredService<IEventBus>().SubscribeAsync("events:errors:training", m => published.Add(m), TestContext.Current.CancellationToken);
        for (var i = 0; i < 5; i++) Assert.Empty((await Step(i, 2.0 - i * 0.1)).Anomalies);

        var result = await Step(5, double.NaN);
        var a = Assert.Single(result.Anomalies);
        Assert.Equal(("nan_loss_detected", "stop_training"), (a.Finding.Type, a.Finding.RecommendedAction));

        var group = await Errors.GetGroupAsync(a.GroupId, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(1, group.Group.Count);
        var e = Assert.Single(group.RecentEvents);
        Assert.Equal(a.EventId, e.EventId);
        Assert.Equal(("training", Severity.Critical, ErrorCategory.Data, false), (e.Kind, e.Severity, e.Category, e.Recoverable));
        Assert.Equal(("llama-ft", "r1", "nan_loss_detected"), (e.Project, e.TaskId, e.ErrorType));
        Assert.Equal(TestServices.Start + TimeSpan.FromDays(30), e.ExpiresAt);
        Assert.Equal("stop_training", e.Tags["recovery_action"]);
        Assert.Equal("NaN", e.Tags["value"]);

        var message = Assert.Single(published);
        Assert.Equal("events:errors:training", message.Channel);
        Assert.Contains(a.EventId, message.Payload);

        var log = Assert.Single(await Training.ReadLogAsync("llama-ft", cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(("nan_loss_detected", "r1", 5L, a.EventId, a.GroupId), (log.Type, log.Run, log.Step, log.EventId, log.GroupId));
        Assert.True(double.IsNaN(log.Value));
        // The log entry survives a JSON round trip with its NaN.
        Assert.True(double.IsNaN(CoreJson.Deserialize<TrainingLogEntry>(CoreJson.Serialize(log)).Loss!.Value));
    }

    [Fact]
    public async Task A_normal_step_records_no_event()
    {
        foreach (var (loss, i) in new[] { 9.0, 6.0, 4.5, 3.6, 3.1 }.Select((l, i) => (l, i)))
            Assert.Empty((await Step(i, loss, grad: 1.0)).Anomalies);
        var groups = await Errors.ListGroupsAsync(new GroupQuery(), TestContext.Current.CancellationToken);
        Assert.Empty(groups.Items);
        Assert.Empty(await Training.ReadLogAsync("llama-ft", cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Spikes_are_judged_per_run_and_the_same_anomaly_joins_one_group()
    {
        for (var i = 0; i < 20; i++)
        {
            Assert.Empty((await Step(i, 2.0 + 0.01 * (i % 3), run: "a")).Anomalies);
            Assert.Empty((await Step(i, 8.0 + 0.01 * (i % 3), run: "b")).Anomalies);
        }
        // 8.0 is normal for run b; for run a it is a spike.
        Assert.Empty((await Step(20, 8.0, run: "b")).Anomalies);
        var first = Assert.Single((await Step(20, 8.0, run: "a")).Anomalies);
        Assert.Equal(("gradient_explosion", "spike"), (first.Finding.Type, first.Finding.Reason));

        _clock.Advance(TimeSpan.FromMinutes(1));
        var second = Assert.Single((await Step(21, 150, run: "a")).Anomalies);
        Assert.Equal("ceiling", second.Finding.Reason);
        var events = (await Errors.QueryAsync(new ErrorQuery { Agent = "trainer" }, TestContext.Current.CancellationToken)).Items;
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(("training", Severity.Critical, true), (e.Kind, e.Severity, e.Recoverable)));
        Assert.Equal(2, (await Training.ReadLogAsync("llama-ft", cancellationToken: TestContext.Current.CancellationToken)).Count);
    }

    [Theory]
    [InlineData("", "r", 1, 1.0, null, null, "project")]
    [InlineData("p", "", 1, 1.0, null, null, "run")]
    [InlineData("p", null, -1, 1.0, null, null, "step")]
    [InlineData("p", null, 1, 1.0, -0.5, null, "grad_norm")]
    [InlineData("p", null, 1, 1.0, null, double.NaN, "learning_rate")]
    [InlineData("p", null, 1, 1.0, null, -1.0, "learning_rate")]
    public async Task Bad_input_names_the_field_and_writes_nothing(string project, string? run, long step, double loss, double? grad, double? lr, string field)
    {
        var ex = await Assert.ThrowsAsync<ValidationException>(() => Training.ReportAsync(
            new TrainingMetric { Project = project, Run = run, Step = step, Loss = loss, GradNorm = grad, LearningRate = lr }, TestContext.Current.CancellationToken));
        Assert.Equal(field, ex.Field);
        Assert.Contains($"'{field}'", ex.Message);
        var window = await _sp.GetRequiredService<ITrainingStore>().RecordStepAsync(project.Length == 0 ? "x" : project, run is { Length: > 0 } ? run : "default", null, null, 50, TimeSpan.FromDays(1), TestContext.Current.CancellationToken);
        Assert.Empty(window.Losses);
    }

    [Fact]
    public async Task Names_over_the_limit_are_refused_with_the_limit()
    {
        var ex = await Assert.ThrowsAsync<ValidationException>(() => Step(1, 1.0, project: new string('p', 201)));
        Assert.Equal("project", ex.Field);
        Assert.Contains("200", ex.Message);
    }

    [Fact]
    public void Options_are_validated_at_start()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ErrorCoordinator:Training:Window"] = "20",
            ["ErrorCoordinator:Training:MinSamples"] = "30",
        }).Build();
        var services = new ServiceCollection();
        services.AddErrorReporting(configuration);
        services.AddTraining(configuration);
        using var sp = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<TrainingOptions>>().Value);
        Assert.Contains("MinSamples (30) must not exceed Window (20)", ex.Message);
    }

    public async ValueTask DisposeAsync() => await _sp.DisposeAsync();
}
