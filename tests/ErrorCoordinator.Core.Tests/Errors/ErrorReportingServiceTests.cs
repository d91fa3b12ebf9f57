using System.Collections.Concurrent;
using System.Text.Json;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;

namespace ErrorCoordinator.Core.Tests.Errors;

public sealed class ErrorReportingServiceTests : IDisposable
{
    private readonly TestServices _s = new();

    public void Dispose() => _s.Dispose();

    [Fact]
    public async Task Reports_with_changing_numbers_collapse_into_one_group_across_agents()
    {
        var first = await _s.Errors.ReportAsync(TestServices.Report("Connection to db-7 timed out after 3000 ms", "agent-a"));
        var second = await _s.Errors.ReportAsync(TestServices.Report("Connection to db-2 timed out after 150 ms", "agent-b"));

        Assert.True(first.IsNewGroup);
        Assert.False(second.IsNewGroup);
        Assert.Equal(first.GroupId, second.GroupId);
        Assert.Equal(2, second.GroupCount);
        // The template engine (the default) reads "3000 ms" as one duration.
        Assert.Equal("TimeoutError: Connection to db-<*> timed out after <*>", second.Signature);
        Assert.Equal((Severity.Warning, ErrorCategory.Timeout, true), (second.Severity, second.Category, second.Recoverable));

        var group = (await _s.Errors.GetGroupAsync(first.GroupId)).Group;
        Assert.Equal(2, group.DistinctAgents);
        Assert.Equal(2, group.Count);
    }

    [Fact]
    public async Task Explicit_severity_and_category_override_classification()
    {
        var r = await _s.Errors.ReportAsync(TestServices.Report() with { Severity = "critical", Category = "external" });
        Assert.Equal(Severity.Critical, r.Severity);
        Assert.Equal(ErrorCategory.External, r.Category);
    }

    [Fact]
    public async Task Secrets_are_scrubbed_before_storage_and_publication()
    {
        var published = new ConcurrentQueue<string>();
        await using var _ = await _s.Bus.SubscribeAsync("events:errors:*", m => published.Enqueue(m.Payload));

        var r = await _s.Errors.ReportAsync(TestServices.Report("login to db failed password=hunter2") with
        {
            Stack = "at connect(token=abc123)",
            Tags = new Dictionary<string, string> { ["api_key"] = "k-1", ["region"] = "eu" },
        });

        var stored = (await _s.Errors.QueryAsync(new ErrorQuery { GroupId = r.GroupId })).Items.Single();
        Assert.Equal("login to db failed password=[Filtered]", stored.Message);
        Assert.Equal("at connect(token=[Filtered])", stored.Stack);
        Assert.Equal("[Filtered]", stored.Tags["api_key"]);
        Assert.DoesNotContain("hunter2", r.Signature);

        var payload = Assert.Single(published);
        Assert.DoesNotContain("hunter2", payload);
        Assert.DoesNotContain("abc123", payload);
        Assert.DoesNotContain("k-1", payload);
        using var doc = JsonDocument.Parse(payload);
        Assert.Equal(r.EventId, doc.RootElement.GetProperty("event_id").GetString());
        Assert.Equal("timeout", doc.RootElement.GetProperty("category").GetString());
    }

    [Fact]
    public async Task Events_are_published_on_the_channel_of_their_kind()
    {
        var channels = new ConcurrentQueue<string>();
        await using var _ = await _s.Bus.SubscribeAsync("events:errors:*", m => channels.Enqueue(m.Channel));
        await _s.Errors.ReportAsync(TestServices.Report(errorType: "TimeoutError"));
        await _s.Errors.ReportAsync(TestServices.Report(errorType: "CUDAError", message: "device-side assert"));
        await _s.Errors.ReportAsync(TestServices.Report(errorType: "NaNLossError", message: "loss is nan at step 100"));
        Assert.Equal(["events:errors:task_failures", "events:errors:hardware", "events:errors:training"], channels.ToArray());
    }

    [Fact]
    public async Task Invalid_reports_store_nothing()
    {
        var ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Errors.ReportAsync(TestServices.Report() with { Severity = "bad" }));
        Assert.Equal("severity", ex.Field);
        Assert.Empty((await _s.Errors.QueryAsync(new ErrorQuery())).Items);
        Assert.Empty((await _s.Errors.ListGroupsAsync(new GroupQuery())).Items);
        Assert.Empty(await _s.Store.ReadAuditAsync(10));
    }

    [Fact]
    public async Task A_batch_records_valid_items_and_reports_each_invalid_one()
    {
        var batch = new List<FailureReport>
        {
            TestServices.Report("test_login failed: expected 200 got 500", "ci"),
            TestServices.Report("") with { Agent = "ci" },
            TestServices.Report("test_logout failed: expected 200 got 503", "ci"),
            TestServices.Report("x") with { OccurredAt = "not a time" },
        };
        var results = await _s.Errors.ReportBatchAsync(batch);

        Assert.Equal(4, results.Count);
        Assert.NotNull(results[0].Result);
        Assert.Null(results[1].Result);
        Assert.Equal("failures[1].message", results[1].Field);
        Assert.Contains("'failures[1].message' is required", results[1].Error);
        Assert.NotNull(results[2].Result);
        Assert.Equal("failures[3].occurred_at", results[3].Field);
        Assert.Equal(2, (await _s.Errors.QueryAsync(new ErrorQuery())).Items.Count);
    }

    [Fact]
    public async Task A_null_batch_item_gets_its_own_error()
    {
        var results = await _s.Errors.ReportBatchAsync([TestServices.Report("first"), null!, TestServices.Report("third")]);
        Assert.NotNull(results[0].Result);
        Assert.Equal("failures[1]", results[1].Field);
        Assert.Contains("'failures[1]' is empty", results[1].Error);
        Assert.NotNull(results[2].Result);
    }

    [Fact]
    public async Task Filters_and_notes_are_held_to_the_same_limits()
    {
        var ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Errors.QueryAsync(new ErrorQuery { Agent = new string('a', 201) }));
        Assert.Equal("agent", ex.Field);
        ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Errors.ListGroupsAsync(new GroupQuery { Component = "x\ud800" }));
        Assert.Equal("component", ex.Field);
        var r = await _s.Errors.ReportAsync(TestServices.Report());
        ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Errors.UpdateGroupAsync(r.GroupId, GroupStatus.Resolved, new string('€', 6000)));
        Assert.Equal("note", ex.Field);
        Assert.Contains("bytes", ex.Message);
    }

    [Fact]
    public async Task A_batch_over_the_limit_is_refused_whole()
    {
        var batch = Enumerable.Range(0, 501).Select(i => TestServices.Report($"m {i}")).ToList();
        var ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Errors.ReportBatchAsync(batch));
        Assert.Equal("failures", ex.Field);
        Assert.Contains("limit is 500", ex.Message);
        Assert.Empty((await _s.Errors.QueryAsync(new ErrorQuery())).Items);
    }

    [Fact]
    public async Task A_resolved_group_regresses_on_a_new_event_and_ignored_groups_keep_counting()
    {
        var r = await _s.Errors.ReportAsync(TestServices.Report());
        await _s.Errors.UpdateGroupAsync(r.GroupId, GroupStatus.Resolved, "fixed in #42");
        _s.Clock.Advance(TimeSpan.FromMinutes(5));
        var again = await _s.Errors.ReportAsync(TestServices.Report());
        Assert.Equal(GroupStatus.Regressed, again.GroupStatus);
        Assert.StartsWith("Regression", again.Recommendation);
        var g = (await _s.Errors.GetGroupAsync(r.GroupId)).Group;
        Assert.Equal(GroupStatus.Regressed, g.Status);
        Assert.Equal(_s.Clock.GetUtcNow(), g.RegressedAt);
        Assert.Equal("fixed in #42", g.Note);

        var other = await _s.Errors.ReportAsync(TestServices.Report("disk quota exceeded", errorType: "QuotaError"));
        await _s.Errors.UpdateGroupAsync(other.GroupId, GroupStatus.Ignored, null);
        var counted = await _s.Errors.ReportAsync(TestServices.Report("disk quota exceeded", errorType: "QuotaError"));
        Assert.Equal(2, counted.GroupCount);
        Assert.Equal(GroupStatus.Ignored, counted.GroupStatus);
        var listed = await _s.Errors.ListGroupsAsync(new GroupQuery());
        Assert.DoesNotContain(listed.Items, x => x.Id == other.GroupId);
        Assert.Contains((await _s.Errors.ListGroupsAsync(new GroupQuery { Status = GroupStatus.Ignored })).Items, x => x.Id == other.GroupId);
    }

    [Fact]
    public async Task Regressed_cannot_be_set_by_hand_and_unknown_groups_are_not_found()
    {
        var r = await _s.Errors.ReportAsync(TestServices.Report());
        var ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Errors.UpdateGroupAsync(r.GroupId, GroupStatus.Regressed, null));
        Assert.Equal("status", ex.Field);
        await Assert.ThrowsAsync<NotFoundException>(() => _s.Errors.UpdateGroupAsync("grp_nope", GroupStatus.Resolved, null));
        await Assert.ThrowsAsync<NotFoundException>(() => _s.Errors.GetGroupAsync("grp_nope"));
    }

    [Fact]
    public async Task Retention_follows_the_kind_and_old_events_are_refused()
    {
        var task = await _s.Errors.ReportAsync(TestServices.Report());
        var training = await _s.Errors.ReportAsync(TestServices.Report("loss is nan at step 7", errorType: "NaNLossError"));
        var events = (await _s.Errors.QueryAsync(new ErrorQuery())).Items;
        Assert.Equal(TestServices.Start.AddDays(7), events.Single(e => e.EventId == task.EventId).ExpiresAt);
        Assert.Equal(TestServices.Start.AddDays(30), events.Single(e => e.EventId == training.EventId).ExpiresAt);

        _s.Clock.Advance(TimeSpan.FromDays(8));
        var left = (await _s.Errors.QueryAsync(new ErrorQuery())).Items;
        Assert.Equal([training.EventId], left.Select(e => e.EventId));

        var old = TestServices.Start.ToString("O"); // now 8 days ago: past the 7-day retention of task failures
        var ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Errors.ReportAsync(TestServices.Report() with { OccurredAt = old }));
        Assert.Equal("occurred_at", ex.Field);
        Assert.Contains("7-day retention", ex.Message);
    }

    [Fact]
    public async Task Recurring_non_recoverable_errors_say_they_need_a_permanent_fix()
    {
        ReportResult last = null!;
        for (var i = 0; i < 10; i++) last = await _s.Errors.ReportAsync(TestServices.Report($"invalid row {i}", errorType: "ValidationError"));
        Assert.StartsWith("Recurring (10 events)", last.Recommendation);
    }

    [Fact]
    public async Task Paging_arguments_are_validated()
    {
        var ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Errors.QueryAsync(new ErrorQuery { Limit = 501 }));
        Assert.Contains("between 1 and 500", ex.Message);
        ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Errors.QueryAsync(new ErrorQuery { Cursor = "garbage!" }));
        Assert.Equal("cursor", ex.Field);
        ex = await Assert.ThrowsAsync<ValidationException>(() => _s.Errors.QueryAsync(new ErrorQuery
        {
            Since = TestServices.Start, Until = TestServices.Start.AddHours(-1),
        }));
        Assert.Equal("since", ex.Field);
    }

    [Fact]
    public async Task Hourly_histogram_covers_the_last_24_hours()
    {
        var r = await _s.Errors.ReportAsync(TestServices.Report() with { OccurredAt = TestServices.Start.AddHours(-3).ToString("O") });
        await _s.Errors.ReportAsync(TestServices.Report() with { OccurredAt = TestServices.Start.AddHours(-3).AddMinutes(10).ToString("O") });
        await _s.Errors.ReportAsync(TestServices.Report());
        var d = await _s.Errors.GetGroupAsync(r.GroupId);
        Assert.Equal(24, d.Histogram.Count);
        Assert.Equal(TestServices.Start, d.Histogram[^1].Hour);
        Assert.Equal(1, d.Histogram[^1].Count);
        Assert.Equal(2, d.Histogram[^4].Count);
        Assert.Equal(3, d.Histogram.Sum(h => h.Count));
        Assert.Equal(3, d.RecentEvents.Count);
    }
}
