using ErrorCoordinator.Mcp.Tests.Infrastructure;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

public sealed class StartupTests
{
    [Fact]
    public async Task Without_redis_the_embedded_store_is_announced_in_one_stderr_line()
    {
        await using var server = await ServerProcess.StartHttpAsync([]);
        var notice = server.Stderr.Split('\n').Where(l => l.Contains("embedded in-memory store")).ToList();
        var line = Assert.Single(notice);
        Assert.Contains("not shared", line);
        Assert.Contains("lost on exit", line);
    }

    [Fact]
    public async Task Unreachable_redis_at_start_is_one_clear_error_and_a_non_zero_exit()
    {
        var (exit, stderr) = await ServerProcess.RunToExitAsync(["--redis", "redis://127.0.0.1:1"]);
        Assert.NotEqual(0, exit);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var error = Assert.Single(lines, l => l.StartsWith("ErrorCoordinator:"));
        Assert.Contains("127.0.0.1:1", error);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task Invalid_configuration_fails_at_start_naming_the_setting()
    {
        var (exit, stderr) = await ServerProcess.RunToExitAsync(["--http", "--port", "0", "--set", "ErrorCoordinator:Limits:MaxTags=-1"]);
        Assert.NotEqual(0, exit);
        Assert.Contains("MaxTags", stderr);
    }

    [Fact]
    public async Task Redis_url_from_the_environment_is_used_when_no_option_is_given()
    {
        var (exit, stderr) = await ServerProcess.RunToExitAsync([], new Dictionary<string, string?> { ["REDIS_URL"] = "redis://127.0.0.1:1" });
        Assert.NotEqual(0, exit);
        Assert.Contains("127.0.0.1:1", stderr);
    }
}
