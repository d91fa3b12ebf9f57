using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Signatures;
using ErrorCoordinator.Redis.Hosting;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Tests.Errors;

/// <summary>
/// Template state in Redis: independent "processes" (each its own multiplexer, engine, replica and services) on one
/// Redis assign the same group to the same template whatever order they see messages in, and across a restart.
/// </summary>
public sealed class SharedTemplateStateRedisTests(RedisServer server) : IAsyncLifetime
{
    private readonly string _prefix = TestPrefix.New();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
    private readonly List<(ServiceProvider Provider, IConnectionMultiplexer Mux)> _processes = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var (provider, mux) in _processes)
        {
            await provider.DisposeAsync();
            await mux.DisposeAsync();
        }
    }

    /// <summary>A counting decorator: every RecordAsync of the Redis store is exactly one EVALSHA.</summary>
    private sealed class CountingStore(IErrorStore inner) : IErrorStore
    {
        public int Records;
        public int Conflicts;

        public async Task<RecordOutcome> RecordAsync(ErrorEvent e, RecordOptions options, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref Records);
            var outcome = await inner.RecordAsync(e, options, cancellationToken);
            if (outcome.Conflict is not null) Interlocked.Increment(ref Conflicts);
            return outcome;
        }

        public Task<Page<ErrorEvent>> QueryEventsAsync(ErrorQuery query, CancellationToken cancellationToken = default) => inner.QueryEventsAsync(query, cancellationToken);
        public Task<Page<ErrorGroup>> ListGroupsAsync(GroupQuery query, CancellationToken cancellationToken = default) => inner.ListGroupsAsync(query, cancellationToken);
        public Task<ErrorGroupDetail?> GetGroupAsync(string groupId, DateTimeOffset now, int samples, int hours, CancellationToken cancellationToken = default) =>
            inner.GetGroupAsync(groupId, now, samples, hours, cancellationToken);
        public Task<ErrorGroup?> UpdateGroupStatusAsync(string groupId, GroupStatus status, string? note, DateTimeOffset now, string channel, CancellationToken cancellationToken = default) =>
            inner.UpdateGroupStatusAsync(groupId, status, note, now, channel, cancellationToken);
        public Task<IReadOnlyList<string>> ReadAuditAsync(int count, CancellationToken cancellationToken = default) => inner.ReadAuditAsync(count, cancellationToken);
    }

    private sealed record Process(ErrorReportingService Errors, CountingStore Store, ISignatureEngine Engine);

    private async Task<Process> StartAsync()
    {
        var mux = await RedisTestConnections.NewAsync(server);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ErrorCoordinator:Storage:KeyPrefix"] = _prefix,
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<TimeProvider>(_time);
        services.AddErrorReporting(configuration);
        services.AddRedisStores(mux);
        var redisStore = services.Single(d => d.ServiceType == typeof(IErrorStore));
        services.Remove(redisStore);
        services.AddSingleton<Redis.Errors.RedisErrorStore>();
        services.AddSingleton(sp => new CountingStore(sp.GetRequiredService<Redis.Errors.RedisErrorStore>()));
        services.AddSingleton<IErrorStore>(sp => sp.GetRequiredService<CountingStore>());
        var provider = services.BuildServiceProvider();
        _processes.Add((provider, mux));
        return new Process(provider.GetRequiredService<ErrorReportingService>(), provider.GetRequiredService<CountingStore>(), provider.GetRequiredService<ISignatureEngine>());
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FailureReport R(string message, string agent = "agent") => new() { Agent = agent, ErrorType = "AuthError", Message = message };

    private static readonly string[] Users = ["root", "cyrus", "news", "mail", "test", "guest"];
    private static string Session(string user) => $"session opened for user {user} by sshd daemon";
    private static string Disk(string volume) => $"disk quota exceeded on volume {volume} for tenant acme";

    [Fact]
    public async Task Two_processes_fed_the_same_messages_in_different_orders_assign_the_same_group_ids()
    {
        var a = await StartAsync();
        var b = await StartAsync();
        Assert.NotSame(a.Engine, b.Engine);

        var messages = Users.Select(Session).Concat(Users.Select(Disk)).ToList();
        var forward = new Dictionary<string, string>();
        var backward = new Dictionary<string, string>();
        // Interleaved: A goes forward, B goes backward, one report each at a time.
        for (var i = 0; i < messages.Count; i++)
        {
            forward[messages[i]] = (await a.Errors.ReportAsync(R(messages[i], "a"), Ct)).GroupId;
            var m = messages[^(i + 1)];
            backward[m] = (await b.Errors.ReportAsync(R(m, "b"), Ct)).GroupId;
        }
        Assert.Equal(forward.OrderBy(x => x.Key).ToList(), backward.OrderBy(x => x.Key).ToList());
        Assert.Equal(2, forward.Values.Distinct().Count());
        var groups = (await a.Errors.ListGroupsAsync(new GroupQuery(), Ct)).Items;
        Assert.Equal(2, groups.Count);
        Assert.All(groups, g => Assert.Equal(2 * Users.Length, g.Count));
        Assert.Contains(groups, g => g.Signature == "AuthError: session opened for user <*> by sshd daemon");
    }

    [Fact]
    public async Task A_restarted_process_assigns_the_existing_ids()
    {
        var first = await StartAsync();
        var ids = new List<string>();
        foreach (var u in Users.Take(3)) ids.Add((await first.Errors.ReportAsync(R(Session(u)), Ct)).GroupId);
        Assert.Single(ids.Distinct());

        var restarted = await StartAsync(); // same Redis, empty replica
        var again = await restarted.Errors.ReportAsync(R(Session("postfix")), Ct);
        Assert.Equal(ids[0], again.GroupId);
        Assert.False(again.IsNewGroup);
        Assert.Equal(4, again.GroupCount);
        // First sighting of the bucket in this process: one conflict (the refresh), then the record.
        Assert.Equal((2, 1), (restarted.Store.Records, restarted.Store.Conflicts));
    }

    [Fact]
    public async Task The_steady_state_is_one_round_trip_per_report()
    {
        var a = await StartAsync();
        var b = await StartAsync();
        await a.Errors.ReportAsync(R(Session("root")), Ct);
        await a.Errors.ReportAsync(R(Session("cyrus")), Ct);
        await b.Errors.ReportAsync(R(Session("news")), Ct);
        var (ra, rb) = (a.Store.Records, b.Store.Records);
        for (var i = 0; i < 50; i++)
        {
            await a.Errors.ReportAsync(R(Session(Users[i % Users.Length])), Ct);
            await b.Errors.ReportAsync(R(Session(Users[(i + 3) % Users.Length])), Ct);
        }
        Assert.Equal(50, a.Store.Records - ra);
        Assert.Equal(50, b.Store.Records - rb);
    }

    [Fact]
    public async Task Many_concurrent_reporters_of_one_new_template_in_two_processes_make_one_group_with_the_exact_count()
    {
        const int reports = 200;
        var a = await StartAsync();
        var b = await StartAsync();
        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, reports).Select(i => Task.Run(async () =>
        {
            await start.WaitAsync(TestContext.Current.CancellationToken);
            return await (i % 2 == 0 ? a : b).Errors.ReportAsync(R($"token expired for client c{i % 9} after refresh", "agent-" + (i % 4)));
        })).ToList();
        start.Release(reports);
        var results = await Task.WhenAll(tasks);

        var id = Assert.Single(results.Select(r => r.GroupId).Distinct());
        Assert.Equal(1, results.Count(r => r.IsNewGroup));
        Assert.Equal(Enumerable.Range(1, reports).Select(n => (long)n), results.Select(r => r.GroupCount).Order());
        var group = (await a.Errors.GetGroupAsync(id, cancellationToken: Ct)).Group;
        Assert.Equal(reports, group.Count);
        Assert.Equal(reports, (await a.Errors.QueryAsync(new ErrorQuery { GroupId = id, Limit = 500 }, Ct)).Items.Count);
    }

    [Fact]
    public async Task Many_concurrent_reporters_of_many_new_templates_in_one_bucket_all_succeed_and_agree()
    {
        // One bucket (same error type, length and leading tokens), 24 templates created at once by 128 reporters in
        // two processes: creates race each other, every report must still land, and each text must get one group.
        const int reports = 128;
        string[] words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima",
            "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey", "xray"];
        var a = await StartAsync();
        var b = await StartAsync();
        using var start = new SemaphoreSlim(0);
        var tasks = Enumerable.Range(0, reports).Select(i => Task.Run(async () =>
        {
            await start.WaitAsync(TestContext.Current.CancellationToken);
            var text = $"cache miss storm on shard {words[i % words.Length]} during rebalance";
            return (text, await (i % 2 == 0 ? a : b).Errors.ReportAsync(R(text, "agent-" + (i % 4))));
        })).ToList();
        start.Release(reports);
        var results = await Task.WhenAll(tasks);

        foreach (var byText in results.GroupBy(r => r.text))
            Assert.Single(byText.Select(r => r.Item2.GroupId).Distinct());
        long total = 0;
        foreach (var id in results.Select(r => r.Item2.GroupId).Distinct())
            total += (await a.Errors.GetGroupAsync(id, cancellationToken: Ct)).Group.Count;
        Assert.Equal(reports, total);
    }

    [Fact]
    public async Task A_component_first_seen_after_the_group_was_created_still_gets_a_ttl()
    {
        var a = await StartAsync();
        var first = await a.Errors.ReportAsync(R(Disk("vol-1")), Ct);
        _time.Advance(TimeSpan.FromMinutes(5)); // within the hour: the group keys' TTL is not refreshed again
        await a.Errors.ReportAsync(R(Disk("vol-2")) with { Component = "quota-service" }, Ct);
        var key = new KeySchema(_prefix).GroupComponents(first.GroupId);
        var db = _processes[0].Mux.GetDatabase();
        Assert.True(await db.SetContainsAsync(key, "quota-service"));
        var ttl = await db.KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.True(ttl > TimeSpan.FromDays(1), $"TTL {ttl}");
    }

    [Fact]
    public async Task The_bucket_key_is_under_the_error_hash_tag_with_a_ttl()
    {
        var a = await StartAsync();
        var r = await a.Errors.ReportAsync(R(Session("root")), Ct);
        var engine = Assert.IsType<TemplateSignatureEngine>(a.Engine);
        var tokens = new List<string>();
        MessageNormalizer.Default.Tokenize(Session("root"), tokens, SignatureDefaults.MaxTokens);
        var key = new KeySchema(_prefix).TemplateBucket(engine.Replica.BucketKeyOf("AuthError", tokens));
        Assert.Contains("{err}:tpl:", key.ToString());
        var db = _processes[0].Mux.GetDatabase();
        Assert.True(await db.HashExistsAsync(key, "c:" + r.GroupId));
        var ttl = await db.KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.True(ttl > TimeSpan.FromDays(1), $"TTL {ttl}");
    }
}
