using ErrorCoordinator.Core.Signatures;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Tests.Signatures;

public sealed class TemplateSignatureEngineTests
{
    private static readonly Dictionary<string, string> NoTags = new();

    private static SignatureResult Compute(TemplateSignatureEngine engine, string message, string type = "Error", string? stack = null,
        string agent = "agent-a", IReadOnlyDictionary<string, string>? tags = null) =>
        engine.Compute(new SignatureInput(type, message, stack, agent, null, tags ?? NoTags));

    private static TemplateSignatureEngine Engine(SignatureOptions? options = null) => new(Options.Create(options ?? new SignatureOptions()));

    [Fact]
    public void Messages_differing_in_values_share_a_group_with_a_placeholder_template()
    {
        var engine = Engine();
        var a = Compute(engine, "Connection to 10.0.0.7:5432 timed out after 3000 ms");
        var b = Compute(engine, "Connection to 10.0.0.9:5432 timed out after 150 ms");
        Assert.Equal(a.GroupId, b.GroupId);
        Assert.Equal("Connection to <*> timed out after <*>", b.Template);
        Assert.StartsWith("grp_", a.GroupId);
    }

    [Fact]
    public void Unknown_variable_tokens_merge_by_position()
    {
        var engine = Engine();
        var a = Compute(engine, "worker w1x7 of pool alpha-3 lost its lease on shard s9q2 while compacting segment files");
        var b = Compute(engine, "worker w4k2 of pool alpha-3 lost its lease on shard s1z8 while compacting segment files");
        Assert.Equal(a.GroupId, b.GroupId);
        Assert.Equal("worker <*> of pool alpha-<*> lost its lease on shard <*> while compacting segment files", b.Template);
    }

    [Fact]
    public void Different_words_make_different_groups()
    {
        var engine = Engine();
        Assert.NotEqual(Compute(engine, "Session initialized by client WindowsUpdateAgent").GroupId,
            Compute(engine, "Session initialized by client SPP").GroupId);
        Assert.NotEqual(Compute(engine, "db timed out").GroupId, Compute(engine, "cache timed out").GroupId);
    }

    [Fact]
    public void Error_types_never_share_a_group()
    {
        var engine = Engine();
        Assert.NotEqual(Compute(engine, "db timed out", "TimeoutError").GroupId, Compute(engine, "db timed out", "NetworkError").GroupId);
    }

    [Fact]
    public void The_same_messages_in_the_same_order_give_the_same_groups()
    {
        string[] messages =
        [
            "user 42 logged in from 10.0.0.1", "user 43 logged in from 10.0.0.2", "disk /dev/sda1 is 93% full",
            "worker w1x7 lost lease on shard s9q2", "worker w4k2 lost lease on shard s1z8", "user 44 logged in from 10.0.0.3",
        ];
        var first = messages.Select(m => Compute(Engine(), m).GroupId).ToList(); // warm-up: one engine per message
        var runA = Run();
        var runB = Run();
        Assert.Equal(runA, runB);
        Assert.Equal(runA[0], runA[1]);
        Assert.Equal(runA[0], runA[5]);
        Assert.Equal(runA[3], runA[4]);
        Assert.Equal(first[0], runA[0]);
        return;

        List<string> Run()
        {
            var engine = Engine();
            return messages.Select(m => Compute(engine, m).GroupId).ToList();
        }
    }

    [Fact]
    public void A_group_id_does_not_change_when_its_template_generalises()
    {
        var engine = Engine();
        var first = Compute(engine, "worker w1x7 lost its lease on shard s9q2 while compacting");
        Assert.Equal("worker w1x7 lost its lease on shard s9q2 while compacting", first.Template);
        var second = Compute(engine, "worker w4k2 lost its lease on shard s1z8 while compacting");
        Assert.Equal("worker <*> lost its lease on shard <*> while compacting", second.Template);
        Assert.Equal(first.GroupId, second.GroupId);
        // The id is the hash of the first template, fixed at creation, on every process.
        Assert.Equal(GroupIds.FromParts("template", "Error", "worker w1x7 lost its lease on shard s9q2 while compacting"), second.GroupId);
        Assert.Equal(first.GroupId, Compute(engine, "worker w1x7 lost its lease on shard s9q2 while compacting").GroupId);
    }

    [Fact]
    public void Template_count_is_capped_with_least_recently_used_eviction()
    {
        var engine = Engine(new SignatureOptions { MaxTemplates = 3 });
        var a = Compute(engine, "alpha failed");
        Compute(engine, "beta failed hard");
        Compute(engine, "gamma failed very hard");
        Assert.Equal(a.GroupId, Compute(engine, "alpha failed").GroupId); // alpha is now the most recent
        Compute(engine, "delta failed very very hard"); // evicts beta, the least recently used
        Assert.Equal(3, engine.Miner.Count);
        var templates = engine.Miner.Clusters.Select(c => c.Template).ToList();
        Assert.DoesNotContain("beta failed hard", templates);
        Assert.Contains("alpha failed", templates);
        // A re-created template gets the same id it had: the id is a hash of the template.
        var beta = Compute(engine, "beta failed hard");
        Assert.Equal(GroupIds.FromParts("template", "Error", "beta failed hard"), beta.GroupId);
        Assert.Equal(3, engine.Miner.Count);
    }

    [Fact]
    public async Task Concurrent_callers_are_safe_and_agree()
    {
        var engine = Engine();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
            Enumerable.Range(0, 500).Select(i => Compute(engine, $"request {t * 1000 + i} to 10.0.0.{i % 250} failed with 503").GroupId).ToList())));
        Assert.Single(results.SelectMany(r => r).Distinct());
    }

    [Fact]
    public void Very_long_messages_are_cut_to_max_tokens()
    {
        var engine = Engine(new SignatureOptions { MaxTokens = 16 });
        var a = Compute(engine, string.Join(' ', Enumerable.Range(0, 5000).Select(i => "word" + (char)('a' + i % 26))));
        Assert.Equal(16, a.Template.Split(' ').Length);
    }

    [Fact]
    public void The_template_engine_is_the_default_and_the_seed_engine_is_one_setting_away()
    {
        using var services = new TestServices(new Dictionary<string, string?> { ["ErrorCoordinator:Signatures:SimilarityThreshold"] = "0.8" });
        var engine = services.Get<TemplateSignatureEngine>();
        Assert.Same(engine, services.Get<ISignatureEngine>());
        Assert.Equal(0.8, services.Get<IOptions<SignatureOptions>>().Value.SimilarityThreshold);

        using var seed = new TestServices(new Dictionary<string, string?> { ["ErrorCoordinator:Signatures:Engine"] = "seed" });
        Assert.IsType<SeedSignatureEngine>(seed.Get<ISignatureEngine>());
    }

    [Fact]
    public void An_unknown_engine_is_rejected_at_start()
    {
        using var services = new TestServices(new Dictionary<string, string?> { ["ErrorCoordinator:Signatures:Engine"] = "drain3" });
        var ex = Assert.Throws<OptionsValidationException>(() => services.Get<IOptions<SignatureOptions>>().Value);
        Assert.Contains("Engine", ex.Message);
    }

    [Fact]
    public void Invalid_rules_are_rejected_at_start()
    {
        using var services = new TestServices(new Dictionary<string, string?>
        {
            ["ErrorCoordinator:Signatures:Rules:0:Match:colour"] = "red",
            ["ErrorCoordinator:Signatures:Rules:0:Fingerprint:0"] = "x",
        });
        var ex = Assert.Throws<OptionsValidationException>(() => services.Get<IOptions<SignatureOptions>>().Value);
        Assert.Contains("matcher", ex.Message);
    }
}
