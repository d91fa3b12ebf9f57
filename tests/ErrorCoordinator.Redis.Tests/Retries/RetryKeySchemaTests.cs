using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Tests.Retries;

/// <summary>The retry queue's keys: one hash tag (every script's keys in one cluster slot), hostile names encoded.</summary>
public sealed class RetryKeySchemaTests
{
    private static readonly string[] Hostile = ["a:b", "*", "{x}", "}", "{", "x}:due", "名前", "a b", "%", "~"];

    [Fact]
    public void Every_retry_key_shares_the_rq_hash_tag_and_one_slot()
    {
        var keys = new KeySchema("ec:");
        RedisKey[] all = [.. keys.RetryQueueKeys(), keys.RetryReplays, keys.RetryBudget(null), .. Hostile.Select(h => keys.RetryBudget(h))];
        Assert.All(all, k => Assert.StartsWith("ec:{rq}:", k.ToString(), StringComparison.Ordinal));
        // Only the prefix's hash tag: no encoded name adds a brace, so the slot is that of "rq" for every key.
        Assert.All(all, k => Assert.Equal(2, k.ToString().Count(c => c is '{' or '}')));
        Assert.Equal(all.Length, all.Distinct().Count());
    }

    [Fact]
    public void Budget_keys_of_different_components_differ_and_the_placeholder_matches_no_component()
    {
        var keys = new KeySchema("ec:");
        var budgets = Hostile.Select(h => keys.RetryBudget(h).ToString()).ToList();
        Assert.Equal(budgets.Count, budgets.Distinct().Count());
        Assert.DoesNotContain(keys.RetryBudget(null).ToString(), budgets);
        Assert.Equal("ec:{rq}:budget:~", keys.RetryBudget(null).ToString());
        Assert.Equal("ec:{rq}:budget:%7E", keys.RetryBudget("~").ToString());
    }
}
