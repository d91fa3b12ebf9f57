using Microsoft.Extensions.Logging;

namespace ErrorCoordinator.Core.Incidents;

/// <summary>Source-generated log messages for incidents.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "Incident {IncidentId} opened ({Source}): {Title}")]
    public static partial void Opened(ILogger logger, string incidentId, string source, string title);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Information, Message = "Incident {IncidentId} {Status} by {By}")]
    public static partial void Transitioned(ILogger logger, string incidentId, string status, string by);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "Open-incident cap reached; {Source} signal for {Key} did not open one")]
    public static partial void Capped(ILogger logger, string source, string key);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "Incident opener queue full; dropped the oldest signal")]
    public static partial void QueueFull(ILogger logger);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "Incident opener could not handle a message on {Channel}")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string channel);

    [LoggerMessage(EventId = 7006, Level = LogLevel.Information, Message = "Post-mortem {PostmortemId} generated")]
    public static partial void PostmortemGenerated(ILogger logger, string postmortemId);

    [LoggerMessage(EventId = 7007, Level = LogLevel.Debug, Message = "Could not notify subscribers of {IncidentId}")]
    public static partial void NotifyFailed(ILogger logger, Exception exception, string incidentId);
}
