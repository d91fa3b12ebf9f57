using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Incidents;

namespace ErrorCoordinator.Core.Tests.Incidents;

/// <summary>Post-mortem content: every section, citations that resolve, and MTTA/MTTR from the recorded (fake) times.</summary>
public sealed class PostmortemTests : IAsyncLifetime
{
    private readonly IncidentTestServices _s = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => _s.DisposeAsync();

    private static readonly string[] Sections =
    [
        "## Summary", "## Impact", "## Timeline", "## Root cause and trigger", "## Detection", "## Response and resolution",
        "## What went well", "## What went wrong", "## Action items", "## Recommendations",
    ];

    /// <summary>
    /// A GPU training outage: the GPU node runs out of memory (critical), the trainer then times out 6 times and the
    /// scheduler follows; one thermal event. Detected at the first event, acknowledged after 2 minutes, resolved after 12.
    /// </summary>
    private async Task<(Incident Incident, List<ReportResult> Reports)> OutageAsync()
    {
        await _s.Correlation.RegisterDependenciesAsync("trainer", ["gpu-node-3"]);
        await _s.Correlation.RegisterDependenciesAsync("scheduler", ["trainer"]);
        var reports = new List<ReportResult>
        {
            await _s.ReportAsync("gpu-node-3", "CUDAError", "CUDA out of memory. Tried to allocate 2.00 GiB", "critical", agent: "trainer-1", taskId: "train-42"),
        };
        for (var i = 0; i < 6; i++)
        {
            _s.Clock.Advance(TimeSpan.FromSeconds(4));
            reports.Add(await _s.ReportAsync("trainer", "TimeoutError", $"step {i} timed out after 30000 ms", agent: $"trainer-{i % 2 + 1}", taskId: $"train-{42 + i % 3}"));
        }
        _s.Clock.Advance(TimeSpan.FromSeconds(3));
        reports.Add(await _s.ReportAsync("gpu-node-3", "GpuThermalWarning", "GPU temperature 91C above threshold", "warning",
            agent: "monitor", tags: new Dictionary<string, string> { ["temperature"] = "91" }));
        reports.Add(await _s.ReportAsync("scheduler", "UpstreamUnavailableError", "trainer unavailable", agent: "scheduler"));
        var incident = Assert.Single((await _s.Incidents.ListAsync(null, 50, null)).Items);
        return (incident, reports);
    }

    [Fact]
    public async Task An_incident_post_mortem_has_every_section_cites_existing_events_and_computes_mtta_and_mttr()
    {
        var (incident, reports) = await OutageAsync();
        var opened = incident.CreatedAt;
        _s.Clock.SetUtcNow(opened.AddMinutes(2));
        await _s.Incidents.AcknowledgeAsync(incident.Id, "alice");
        _s.Clock.SetUtcNow(opened.AddMinutes(12));
        await _s.Incidents.ResolveAsync(incident.Id, "Enabled gradient checkpointing and restarted the job", "gpu-node-3 memory exhaustion", "alice");

        var pm = await _s.Postmortems.GenerateAsync(incident.Id, null, null);

        // Every section, in order, in the Markdown; and the structured parts are filled.
        var positions = Sections.Select(h => pm.Markdown.IndexOf(h, StringComparison.Ordinal)).ToList();
        Assert.All(positions.Zip(Sections), p => Assert.True(p.First >= 0, $"missing section {p.Second}"));
        Assert.Equal(positions.Order(), positions);
        Assert.StartsWith($"# Post-mortem: {incident.Title}", pm.Markdown);
        Assert.Equal("pm_" + incident.Id, pm.Id);
        Assert.Contains("Root cause: gpu-node-3 memory exhaustion", pm.Summary);

        // Impact: agents, tasks, components, error counts by type.
        Assert.Equal(reports.Count, pm.Impact.TotalErrors);
        Assert.Equal(["monitor", "scheduler", "trainer-1", "trainer-2"], pm.Impact.Agents);
        Assert.Equal(["train-42", "train-43", "train-44"], pm.Impact.Tasks);
        Assert.Equal(["gpu-node-3", "scheduler", "trainer"], pm.Impact.Components);
        Assert.Equal(new ErrorTypeCount("TimeoutError", 6), pm.Impact.ErrorCounts[0]);
        Assert.Contains(new ErrorTypeCount("CUDAError", 1), pm.Impact.ErrorCounts);

        // Timeline: every entry cites events, and every cited event exists (an error event in the store, or the incident's own).
        var stored = (await _s.ErrorStore.QueryEventsAsync(new ErrorQuery { Limit = 500 })).Items.Select(e => e.EventId).ToHashSet();
        var incidentEvents = (await _s.Incidents.GetAsync(incident.Id)).EventIds.ToHashSet();
        Assert.Equal(reports.Count + 2, pm.Timeline.Count); // the errors, acknowledgement, resolution
        Assert.All(pm.Timeline, t =>
        {
            Assert.NotEmpty(t.EventIds);
            Assert.All(t.EventIds, id => Assert.True(stored.Contains(id) || (id.StartsWith("iev_", StringComparison.Ordinal) && incidentEvents.Contains(id)), $"{t.Type} cites unknown event {id}"));
        });
        Assert.All(reports, r => Assert.Contains(pm.Timeline, t => t.EventIds.Contains(r.EventId)));
        Assert.Equal([TimelineTypes.Acknowledged, TimelineTypes.Resolved], pm.Timeline.TakeLast(2).Select(t => t.Type));
        Assert.All(pm.Timeline, t => Assert.Contains(string.Join(", ", t.EventIds.Select(e => $"`{e}`")), pm.Markdown));

        // Root cause and trigger, with the ranked candidates and their evidence.
        Assert.Equal("gpu-node-3 memory exhaustion", pm.RootCause.Recorded);
        Assert.Equal(reports[0].EventId, pm.RootCause.TriggerEventId);
        Assert.Equal("gpu-node-3", pm.RootCause.Candidates[0].Component);
        Assert.Contains(reports[0].EventId, pm.RootCause.Candidates[0].Evidence);
        Assert.Equal(["gpu-node-3", "trainer", "scheduler"], pm.RootCause.Candidates[0].Path);

        // Detection, response: from the recorded times.
        Assert.Equal(0, pm.Detection.TimeToDetectSeconds);
        Assert.Equal(reports[0].EventId, pm.Detection.FirstEventId);
        Assert.Equal(120, pm.Response.TimeToAcknowledgeSeconds);
        Assert.Equal(720, pm.Response.TimeToResolveSeconds);
        Assert.Equal("alice", pm.Response.AcknowledgedBy);
        Assert.Contains("Time to acknowledge (MTTA): 2 min", pm.Markdown);
        Assert.Contains("Time to resolve (MTTR): 12 min", pm.Markdown);
        Assert.Contains(pm.WentWell, w => w.StartsWith("Time to detect 0 s", StringComparison.Ordinal));
        Assert.Contains(pm.WentWrong, w => w.StartsWith("Resolved after 12 min", StringComparison.Ordinal));

        // Recommendations from rules, the original design's included; action items with an open owner.
        var rules = pm.Recommendations.Select(r => r.Rule).ToList();
        Assert.Contains("gpu_oom", rules);
        Assert.Contains("repeated_timeouts", rules);
        Assert.Contains("gpu_temperature", rules);
        Assert.Contains(pm.Recommendations, r => r.Action == "Enable gradient checkpointing in training configuration");
        Assert.Contains(pm.Recommendations, r => r.Action == "Increase timeout thresholds or optimize slow operations" && r.Rationale.StartsWith("6 timeout"));
        Assert.Contains(pm.Recommendations, r => r.Action == "Improve GPU cooling system" && r.Rationale.Contains("91"));
        Assert.Equal(pm.Recommendations.Count, pm.ActionItems.Count);
        Assert.All(pm.ActionItems, a => { Assert.Null(a.Owner); Assert.Contains(a.Type, new[] { "mitigate", "prevent", "process" }); });
        Assert.Contains("| Item | Type | Owner |", pm.Markdown);

        // Stored, and read back the same.
        var read = await _s.Postmortems.GetAsync(pm.Id);
        Assert.Equal(pm.Markdown, read.Markdown);
        Assert.Equal(pm.Response, read.Response);
    }

    [Fact]
    public async Task Five_timeouts_do_not_trigger_the_timeout_rule_and_an_unacknowledged_incident_has_no_mtta()
    {
        var first = await _s.ReportAsync("api", "TimeoutError", "call timed out after 3000 ms", "critical");
        for (var i = 0; i < 4; i++)
        {
            _s.Clock.Advance(TimeSpan.FromSeconds(1));
            await _s.ReportAsync("api", "TimeoutError", $"call {i} timed out after 3000 ms");
        }
        var incident = Assert.Single((await _s.Incidents.ListAsync(null, 50, null)).Items);
        _s.Clock.SetUtcNow(incident.CreatedAt.AddMinutes(3));
        await _s.Incidents.ResolveAsync(incident.Id, "transient", null);
        var pm = await _s.Postmortems.GenerateAsync(incident.Id, null, null);
        Assert.DoesNotContain(pm.Recommendations, r => r.Rule == "repeated_timeouts");
        Assert.Null(pm.Response.TimeToAcknowledgeSeconds);
        Assert.Equal(180, pm.Response.TimeToResolveSeconds);
        Assert.Contains("Resolved without being acknowledged first.", pm.WentWrong);
        Assert.Equal(first.EventId, pm.Detection.FirstEventId);
    }

    [Fact]
    public async Task A_range_post_mortem_covers_the_errors_between_since_and_until()
    {
        var a = await _s.ReportAsync("cache", "KeyError", "missing key user:1");
        _s.Clock.Advance(TimeSpan.FromMinutes(1));
        var b = await _s.ReportAsync("cache", "KeyError", "missing key user:2");
        _s.Clock.Advance(TimeSpan.FromMinutes(10));
        await _s.ReportAsync("cache", "KeyError", "missing key user:3");

        var pm = await _s.Postmortems.GenerateAsync(null, IncidentTestServices.Start, IncidentTestServices.Start.AddMinutes(2));
        Assert.Null(pm.IncidentId);
        Assert.Equal(2, pm.Impact.TotalErrors);
        Assert.Equal([a.EventId, b.EventId], pm.Timeline.SelectMany(t => t.EventIds));
        Assert.All(Sections, h => Assert.Contains(h, pm.Markdown));
        Assert.Equal(pm.Id, (await _s.Postmortems.GetAsync(pm.Id)).Id);
    }

    [Fact]
    public async Task Bad_arguments_name_the_field()
    {
        Assert.Equal("incident_id", (await Assert.ThrowsAsync<ValidationException>(() => _s.Postmortems.GenerateAsync(null, null, null))).Field);
        Assert.Equal("incident_id", (await Assert.ThrowsAsync<ValidationException>(() => _s.Postmortems.GenerateAsync("inc_1", IncidentTestServices.Start, null))).Field);
        Assert.Equal("since", (await Assert.ThrowsAsync<ValidationException>(() =>
            _s.Postmortems.GenerateAsync(null, IncidentTestServices.Start, IncidentTestServices.Start.AddMinutes(-1)))).Field);
        Assert.Equal("until", (await Assert.ThrowsAsync<ValidationException>(() =>
            _s.Postmortems.GenerateAsync(null, IncidentTestServices.Start, IncidentTestServices.Start.AddDays(40)))).Field);
        await Assert.ThrowsAsync<NotFoundException>(() => _s.Postmortems.GenerateAsync("inc_missing", null, null));
        await Assert.ThrowsAsync<NotFoundException>(() => _s.Postmortems.GetAsync("pm_missing"));
    }
}
