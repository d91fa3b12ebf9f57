using System.Text.RegularExpressions;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Redis.Errors;
using ErrorCoordinator.Redis.Scripting;
using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Redis.Tests.Scripting;

public sealed class RedisScriptsTests(RedisServer server)
{
    [Fact]
    public async Task Recording_still_works_after_SCRIPT_FLUSH()
    {
        await using var admin = (StackExchange.Redis.ConnectionMultiplexer)await RedisTestConnections.AdminAsync(server);
        var prefix = TestPrefix.New();
        var time = new FakeTimeProvider(ErrorStoreContractTests.Start);
        var store = new RedisErrorStore(admin, new KeySchema(prefix), new RedisScripts(admin), time);
        var f = new EventFactory(time, new Core.Events.ChannelNames(prefix));
        await store.RecordAsync(f.Event(), f.Options(), TestContext.Current.CancellationToken);

        var srv = admin.GetServer(admin.GetEndPoints()[0]);
        await srv.ScriptFlushAsync();
        Assert.False(await srv.ScriptExistsAsync(RedisScripts.Get(RedisScripts.RecordFailure).Sha1));

        var outcome = await store.RecordAsync(f.Event(), f.Options(), TestContext.Current.CancellationToken);
        Assert.Equal(new RecordOutcome(false, 2, GroupStatus.Unresolved), outcome);
        Assert.True(await srv.ScriptExistsAsync(RedisScripts.Get(RedisScripts.RecordFailure).Sha1));

        await srv.ScriptFlushAsync();
        var updated = await store.UpdateGroupStatusAsync("g1", GroupStatus.Resolved, null, time.GetUtcNow(), "x", TestContext.Current.CancellationToken);
        Assert.Equal(GroupStatus.Resolved, updated!.Status);
    }

    [Fact]
    public void Every_script_is_embedded_named_by_key_count_and_documents_its_keys_and_args()
    {
        Assert.Contains(RedisScripts.RecordFailure, RedisScripts.All.Keys);
        Assert.Contains(RedisScripts.UpdateGroupStatus, RedisScripts.All.Keys);
        foreach (var script in RedisScripts.All.Values)
        {
            var m = Regex.Match(script.Name, @"^[a-z][A-Za-z]+-(\d+)$");
            Assert.True(m.Success, $"{script.Name} should be named <verbNoun>-<keyCount>");
            var keyCount = int.Parse(m.Groups[1].Value);
            for (var i = 1; i <= keyCount; i++) Assert.Contains($"KEYS[{i}]", script.Text);
            Assert.DoesNotContain($"KEYS[{keyCount + 1}]", script.Text);
            Assert.Contains("ARGV[1]", script.Text);
            Assert.Contains("Returns", script.Text);
            // Time comes from ARGV: no clock reads inside scripts.
            Assert.DoesNotContain("'TIME'", script.Text);
        }
    }
}
