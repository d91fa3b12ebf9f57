using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Signatures;

namespace ErrorCoordinator.Core.Tests.Errors;

/// <summary>
/// Template state in the store: two reporting services (two "processes", each with its own engine and replica) on
/// one embedded store assign the same groups whatever order they see messages in.
/// </summary>
public sealed class SharedTemplateStateTests : IDisposable
{
    private readonly TestServices _a = new();
    private readonly TestServices _b;

    public SharedTemplateStateTests() => _b = new TestServices(shared: _a);

    public void Dispose()
    {
        _b.Dispose();
        _a.Dispose();
    }

    private static FailureReport R(string message) => TestServices.Report(message, errorType: "AuthError", component: null);

    [Fact]
    public async Task Two_processes_seeing_different_orders_assign_the_same_groups()
    {
        Assert.NotSame(_a.Get<ISignatureEngine>(), _b.Get<ISignatureEngine>());
        Assert.Same(_a.Store, _b.Store);

        var a1 = await _a.Errors.ReportAsync(R("session opened for user root by sshd daemon"));
        var a2 = await _a.Errors.ReportAsync(R("session opened for user cyrus by sshd daemon"));
        // B alone would create a cluster from "cyrus"; the store's bucket makes it join A's.
        var b1 = await _b.Errors.ReportAsync(R("session opened for user cyrus by sshd daemon"));
        var b2 = await _b.Errors.ReportAsync(R("session opened for user root by sshd daemon"));
        var b3 = await _b.Errors.ReportAsync(R("session opened for user news by sshd daemon"));

        Assert.Equal(a1.GroupId, a2.GroupId);
        Assert.All(new[] { b1, b2, b3 }, r => Assert.Equal(a1.GroupId, r.GroupId));
        Assert.Equal("AuthError: session opened for user <*> by sshd daemon", b1.Signature);
        Assert.Equal(5, b3.GroupCount);
        Assert.False(b1.IsNewGroup);
        var group = Assert.Single((await _a.Errors.ListGroupsAsync(new GroupQuery())).Items);
        Assert.Equal("AuthError: session opened for user <*> by sshd daemon", group.Signature); // the generalised template
    }

    [Fact]
    public async Task A_conflict_records_nothing_and_the_retry_records_once()
    {
        await _a.Errors.ReportAsync(R("session opened for user root by sshd daemon"));
        await _a.Errors.ReportAsync(R("session opened for user cyrus by sshd daemon"));
        var b = await _b.Errors.ReportAsync(R("session opened for user cyrus by sshd daemon"));
        Assert.Equal(3, b.GroupCount);
        Assert.Equal(3, (await _a.Errors.QueryAsync(new ErrorQuery { Limit = 100 })).Items.Count);
    }

    [Fact]
    public async Task A_restarted_process_assigns_existing_groups()
    {
        var before = await _a.Errors.ReportAsync(R("session opened for user root by sshd daemon"));
        await _a.Errors.ReportAsync(R("session opened for user cyrus by sshd daemon"));
        using var restarted = new TestServices(shared: _a);
        var after = await restarted.Errors.ReportAsync(R("session opened for user mail by sshd daemon"));
        Assert.Equal(before.GroupId, after.GroupId);
        Assert.False(after.IsNewGroup);
    }

    [Fact]
    public async Task Concurrent_reporters_of_one_new_template_in_two_processes_make_one_group_with_the_exact_count()
    {
        var tasks = Enumerable.Range(0, 200).Select(i => Task.Run(() =>
            (i % 2 == 0 ? _a : _b).Errors.ReportAsync(R($"token expired for client c{i % 7} after refresh"))));
        var results = await Task.WhenAll(tasks);
        Assert.Single(results.Select(r => r.GroupId).Distinct());
        Assert.Equal(1, results.Count(r => r.IsNewGroup));
        Assert.Equal(200, results.Max(r => r.GroupCount));
    }

    [Fact]
    public async Task After_the_group_ttl_the_bucket_is_gone_and_a_new_process_starts_fresh()
    {
        var old = await _a.Errors.ReportAsync(R("session opened for user root by sshd daemon"));
        await _a.Errors.ReportAsync(R("session opened for user cyrus by sshd daemon"));
        _a.Clock.Advance(TimeSpan.FromDays(400)); // beyond every retention
        var fresh = await _b.Errors.ReportAsync(R("session opened for user cyrus by sshd daemon"));
        Assert.True(fresh.IsNewGroup);
        Assert.NotEqual(old.GroupId, fresh.GroupId);
        Assert.Equal(GroupIds.FromParts("template", "AuthError", "session opened for user cyrus by sshd daemon"), fresh.GroupId);
        // A, whose replica still holds the old bucket, conflicts once, refreshes and joins the new group.
        var a = await _a.Errors.ReportAsync(R("session opened for user root by sshd daemon"));
        Assert.Equal(fresh.GroupId, a.GroupId);
    }

    [Fact]
    public async Task Signatures_without_a_template_record_as_before()
    {
        var stack = "Traceback (most recent call last):\n  File \"/app/db.py\", line 10, in connect\n    raise X\n";
        var a = await _a.Errors.ReportAsync(R("boom 1") with { Stack = stack });
        var b = await _b.Errors.ReportAsync(R("other text 2") with { Stack = stack });
        Assert.Equal(a.GroupId, b.GroupId);
        Assert.Equal(2, b.GroupCount);
    }

    [Fact]
    public async Task The_seed_engine_still_works_when_configured()
    {
        using var seed = new TestServices(new Dictionary<string, string?> { ["ErrorCoordinator:Signatures:Engine"] = "seed" });
        var r = await seed.Errors.ReportAsync(TestServices.Report("Connection to db-7 timed out after 3000 ms"));
        Assert.Equal("TimeoutError: Connection to db-<*> timed out after <*> ms", r.Signature);
    }
}
