using ErrorCoordinator.Mcp.Cli;

return await CommandLine.Build(Console.Error).Parse(args).InvokeAsync();
