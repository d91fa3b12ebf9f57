using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Redis.Errors;
using ErrorCoordinator.Redis.Scripting;
using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Tests.Errors;

public sealed class RedisErrorStoreConcurrencyTests(RedisServer server)
{
    [Fact]
    public async Task Concurrent_reports_through_separate_connections_lose_no_count_and_open_the_group_once()
    {
        const int connections = 8, reports = 64;
        var prefix = TestPrefix.New();
        var time = new FakeTimeProvider(ErrorStoreContractTests.Start);
        var muxes = new List<IConnectionMultiplexer>();
        try
        {
            for (var i = 0; i < connections; i++) muxes.Add(await RedisTestConnections.NewAsync(server));
            var stores = muxes.Select(m => new RedisErrorStore(m, new KeySchema(prefix), new RedisScripts(m), time)).ToList();
            var f = new EventFactory(time, new Core.Events.ChannelNames(prefix));
            var events = Enumerable.Range(0, reports).Select(i => f.Event("same-signature", agent: "agent-" + (i % 5))).ToList();

            using var start = new SemaphoreSlim(0);
            var tasks = events.Select((e, i) => Task.Run(async () =>
            {
                await start.WaitAsync(TestContext.Current.CancellationToken);
                return await stores[i % connections].RecordAsync(e, f.Options(), TestContext.Current.CancellationToken);
            })).ToList();
            start.Release(reports);
            var outcomes = await Task.WhenAll(tasks);

            Assert.Equal(1, outcomes.Count(o => o.IsNewGroup));
            Assert.Equal(Enumerable.Range(1, reports).Select(n => (long)n), outcomes.Select(o => o.GroupCount).Order());
            var group = (await stores[0].GetGroupAsync("same-signature", time.GetUtcNow(), 100, 24, TestContext.Current.CancellationToken))!.Group;
            Assert.Equal(reports, group.Count);
            Assert.Equal(5, group.DistinctAgents);
            Assert.Equal(reports, group.TopAgents.Sum(a => a.Count));

            var keys = new KeySchema(prefix);
            var db = muxes[0].GetDatabase();
            Assert.Equal(reports, await db.SortedSetLengthAsync(keys.GroupIndex("same-signature")));
            Assert.Equal(reports, await db.SortedSetLengthAsync(keys.TimeIndex));
            Assert.Equal(reports, await db.HashLengthAsync(keys.Events));
            var all = new List<ErrorEvent>();
            string? cursor = null;
            do
            {
                var page = await stores[1].QueryEventsAsync(new ErrorQuery { GroupId = "same-signature", Limit = 10, Cursor = cursor }, TestContext.Current.CancellationToken);
                all.AddRange(page.Items);
                cursor = page.NextCursor;
            } while (cursor is not null);
            Assert.Equal(events.Select(e => e.EventId).Order(), all.Select(e => e.EventId).Order());
        }
        finally
        {
            foreach (var m in muxes) await m.DisposeAsync();
        }
    }
}
