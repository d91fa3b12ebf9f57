using System.CommandLine;

namespace ErrorCoordinator.Mcp.Cli;

/// <summary>The executable's command line: the server (stdio by default, --http for Streamable HTTP).</summary>
public static class CommandLine
{
    public static RootCommand Build(TextWriter stderr)
    {
        var http = new Option<bool>("--http") { Description = "Serve MCP over Streamable HTTP at /mcp instead of stdio." };
        var port = new Option<int>("--port")
        {
            Description = $"HTTP port (with --http). 0 picks a free port. Default {ServerSettings.DefaultPort}.",
            DefaultValueFactory = _ => ServerSettings.DefaultPort,
        };
        port.Validators.Add(r =>
        {
            var v = r.GetValueOrDefault<int>();
            if (v is < 0 or > 65535) r.AddError("--port must be between 0 and 65535.");
        });
        var host = new Option<string>("--host")
        {
            Description = "Address to bind with --http. Default 127.0.0.1 (loopback only).",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var redis = new Option<string?>("--redis") { Description = "Redis URL (redis://host:port/db) or StackExchange.Redis configuration. Default: REDIS_URL, else the embedded store." };
        var prefix = new Option<string?>("--key-prefix") { Description = "Prefix of every Redis key. Default 'ec:'." };
        var set = new Option<string[]>("--set")
        {
            Description = "Set any configuration value, e.g. --set ErrorCoordinator:Retention:Default=3.00:00:00. Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };

        var root = new RootCommand("ErrorCoordinator MCP server: shared failure reporting and error groups for agents.")
        {
            http, port, host, redis, prefix, set,
        };
        root.Subcommands.Add(GroupCommand.Build(stderr));
        root.SetAction((parse, ct) => ServerHost.RunAsync(new ServerSettings
        {
            Http = parse.GetValue(http),
            Port = parse.GetValue(port),
            Host = parse.GetValue(host) ?? "127.0.0.1",
            Redis = parse.GetValue(redis),
            KeyPrefix = parse.GetValue(prefix),
            Settings = parse.GetValue(set) ?? [],
        }, stderr, ct));
        return root;
    }
}
