using Microsoft.Extensions.Logging;

namespace ErrorCoordinator.Core.Breakers;

/// <summary>Source-generated log messages for circuit breakers.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Breaker {Component}: {Type} ({Reason})")]
    public static partial void Transition(ILogger logger, string component, string type, string reason);
}
