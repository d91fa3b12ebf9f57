using Microsoft.Extensions.Logging;

namespace ErrorCoordinator.Core.Correlation;

/// <summary>Source-generated log messages for correlation.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Dependencies of {Component} set to {Count} components")]
    public static partial void DependenciesRegistered(ILogger logger, string component, int count);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Dependency graph has {Count} cycles, e.g. {Cycle}")]
    public static partial void CyclesFound(ILogger logger, int count, string cycle);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Debug, Message = "Correlated {Events} events into {Clusters} clusters in {ElapsedMs} ms (abstain: {Abstain})")]
    public static partial void Correlated(ILogger logger, int events, int clusters, long elapsedMs, bool abstain);
}
