using System.Text.Json;
using ErrorCoordinator.Mcp.Cli;

namespace ErrorCoordinator.Mcp.Tests.EndToEnd;

/// <summary>mcp.json, the file clients are pointed at, names real entries for stdio and HTTP.</summary>
public sealed class ClientConfigTests
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ErrorCoordinator.Mcp.sln"))) return dir.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    [Theory]
    [InlineData("mcp.json", "mcpServers")]
    [InlineData("mcp.json", "servers")]
    [InlineData(".vscode/mcp.json", "servers")]
    public void Entries_launch_the_server_project_and_name_the_http_endpoint(string file, string section)
    {
        var root = RepoRoot();
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, file)));
        var servers = doc.RootElement.GetProperty(section);

        var stdio = servers.GetProperty("error-coordinator");
        Assert.Equal("dotnet", stdio.GetProperty("command").GetString());
        var args = stdio.GetProperty("args").EnumerateArray().Select(a => a.GetString()!).ToList();
        var project = args[args.IndexOf("--project") + 1].Replace("${workspaceFolder}/", "");
        Assert.True(File.Exists(Path.Combine(root, project, "ErrorCoordinator.Mcp.csproj")), $"{file}: {project} is not the server project");
        Assert.Equal("--", args[^1]);

        var http = servers.GetProperty("error-coordinator-http");
        Assert.Equal("http", http.GetProperty("type").GetString());
        Assert.Equal($"http://127.0.0.1:{ServerSettings.DefaultPort}/mcp", http.GetProperty("url").GetString());
    }
}
