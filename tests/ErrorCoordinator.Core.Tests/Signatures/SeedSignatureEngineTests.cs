using ErrorCoordinator.Core.Signatures;

namespace ErrorCoordinator.Core.Tests.Signatures;

public sealed class SeedSignatureEngineTests
{
    private static readonly SeedSignatureEngine Engine = new();

    private static SignatureResult Compute(string message, string type = "TimeoutError") =>
        Engine.ComputeAsync(new SignatureInput(type, message, null, "a", null, new Dictionary<string, string>())).AsTask().Result;

    [Fact]
    public void Numbers_and_uuids_become_placeholders()
    {
        var r = Compute("task 3f2b8c1e-9a4d-4e5f-8b6a-1c2d3e4f5a6b failed after 30 retries");
        Assert.Equal("task <*> failed after <*> retries", r.Template);
        Assert.Equal("TimeoutError: task <*> failed after <*> retries", r.Signature("TimeoutError"));
    }

    [Fact]
    public void Messages_differing_in_numbers_share_a_group_and_types_do_not()
    {
        Assert.Equal(Compute("db-1 timed out after 300 ms").GroupId, Compute("db-7 timed out after 5000 ms").GroupId);
        Assert.NotEqual(Compute("db timed out").GroupId, Compute("db timed out", "NetworkError").GroupId);
        Assert.NotEqual(Compute("db timed out").GroupId, Compute("cache timed out").GroupId);
    }

    [Fact]
    public void Group_ids_are_deterministic_and_prefixed()
    {
        var a = Compute("x 1");
        Assert.Equal(a.GroupId, Compute("x 2").GroupId);
        Assert.StartsWith("grp_", a.GroupId);
        Assert.Equal(24, a.GroupId.Length);
    }

    [Fact]
    public void Templates_are_cut_to_100_characters_as_in_the_original()
    {
        Assert.Equal(100, Compute(new string('a', 500)).Template.Length);
    }
}
