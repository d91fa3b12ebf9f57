using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Redis.Errors;
using ErrorCoordinator.Redis.Scripting;
using ErrorCoordinator.Testing.Contract;
using ErrorCoordinator.Testing.Redis;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Tests;

public sealed class KeySchemaTests(RedisServer server)
{
    private static readonly string[] Hostile =
        ["a:b", "a", "a%3Ab", "*", "?", "[ab]", "{x}", "{", "}", "x}:idx:time", "x}", "line\nbreak", "tab\t", "名前", "🙂", "a b", "", "%", "%25", ".", "..", "-_."];

    [Theory]
    [InlineData("plain-Name_1.2", "plain-Name_1.2")]
    [InlineData("a:b", "a%3Ab")]
    [InlineData("*", "%2A")]
    [InlineData("{x}", "%7Bx%7D")]
    [InlineData("line\nbreak", "line%0Abreak")]
    [InlineData("名前", "%E5%90%8D%E5%89%8D")]
    [InlineData("%", "%25")]
    [InlineData("a b", "a%20b")]
    public void Encode_percent_encodes_everything_outside_the_safe_set(string name, string encoded) =>
        Assert.Equal(encoded, KeySchema.Encode(name));

    [Fact]
    public void Encoded_names_contain_only_safe_characters_and_are_injective()
    {
        var encoded = Hostile.Select(KeySchema.Encode).ToList();
        Assert.All(encoded, e => Assert.Matches("^[A-Za-z0-9._%-]*$", e));
        Assert.Equal(Hostile.Length, encoded.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Lone_surrogates_are_refused_rather_than_collapsed()
    {
        Assert.ThrowsAny<ArgumentException>(() => KeySchema.Encode("\ud800"));
    }

    [Fact]
    public void Keys_for_hostile_names_stay_inside_the_hash_tag_and_never_collide()
    {
        var k = new KeySchema();
        var all = new List<string>();
        foreach (var n in Hostile)
        {
            all.AddRange(new[]
            {
                k.AgentIndex(n), k.ComponentIndex(n), k.GroupIndex(n), k.TaskIndex(n),
                k.Group(n), k.GroupAgents(n), k.GroupComponents(n), k.GroupSamples(n), k.GroupHistogram(n), k.TemplateBucket(n),
            }.Select(x => x.ToString()));
        }
        all.AddRange(new[] { k.Events, k.EventExpiry, k.TimeIndex, k.GroupsByLastSeen, k.GroupsByFirstSeen, k.GroupsByCount, k.GroupsByExpiry,
            k.Audit, k.ComponentIndex(null), k.TaskIndex(null) }.Select(x => x.ToString()));

        Assert.Equal(all.Count, all.Distinct(StringComparer.Ordinal).Count());
        foreach (var key in all)
        {
            Assert.StartsWith("ec:{err}:", key);
            Assert.Equal(1, key.Count(c => c == '{'));
            Assert.Equal(1, key.Count(c => c == '}'));
            Assert.DoesNotContain('*', key);
            Assert.DoesNotContain('\n', key);
            Assert.All(key, c => Assert.True(c < 0x80, $"non-ASCII in {key}"));
        }
        // The agent that looks like another key does not produce that key.
        Assert.NotEqual(k.TimeIndex.ToString(), k.AgentIndex("x}:idx:time").ToString());
        Assert.Equal("ec:{err}:idx:agent:x%7D%3Aidx%3Atime", k.AgentIndex("x}:idx:time").ToString());
        // "a:b"'s group keys are not "a"'s sub-keys.
        Assert.NotEqual(k.Group("a:agents").ToString(), k.GroupAgents("a").ToString());
    }

    [Fact]
    public void Prefix_is_configurable_and_may_not_carry_a_hash_tag()
    {
        Assert.Equal("custom.{err}:events", new KeySchema("custom.").Events.ToString());
        Assert.Equal("ec:{err}:audit", new KeySchema().Audit.ToString());
        Assert.Throws<ArgumentException>(() => new KeySchema("x{y}:"));
        Assert.Throws<ArgumentException>(() => new KeySchema("with space:"));
    }

    [Fact]
    public async Task Every_key_written_for_hostile_names_is_in_one_hash_slot_under_the_prefix()
    {
        var mux = await RedisTestConnections.SharedAsync(server);
        var prefix = TestPrefix.New();
        var keys = new KeySchema(prefix);
        var time = new FakeTimeProvider(ErrorStoreContractTests.Start);
        var store = new RedisErrorStore(mux, keys, new RedisScripts(mux), time);
        var f = new EventFactory(time, new Core.Events.ChannelNames(prefix));
        foreach (var n in Hostile.Where(n => n.Length > 0))
            await store.RecordAsync(f.Event(group: n, agent: n, component: n, taskId: n), f.Options(), TestContext.Current.CancellationToken);

        var server0 = mux.GetServer(mux.GetEndPoints()[0]);
        var written = new List<string>();
        await foreach (var key in server0.KeysAsync(pattern: prefix + "*", pageSize: 500)) written.Add(key.ToString());
        Assert.NotEmpty(written);
        var slot = mux.HashSlot(keys.Events);
        Assert.All(written, key =>
        {
            Assert.StartsWith(prefix + "{err}:", key);
            Assert.Equal(slot, mux.HashSlot(key));
        });
        // Nothing was written with an unencoded name.
        Assert.DoesNotContain(written, key => key.Contains("x}:idx:time", StringComparison.Ordinal) || key.Contains('\n'));
    }
}
