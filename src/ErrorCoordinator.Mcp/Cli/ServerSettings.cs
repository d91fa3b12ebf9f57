namespace ErrorCoordinator.Mcp.Cli;

/// <summary>What the command line asked for.</summary>
public sealed record ServerSettings
{
    public bool Http { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = DefaultPort;
    public string? Redis { get; init; }
    public string? KeyPrefix { get; init; }
    public IReadOnlyList<string> Settings { get; init; } = [];

    public const int DefaultPort = 3001;
}
