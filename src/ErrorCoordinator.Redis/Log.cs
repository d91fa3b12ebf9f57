using Microsoft.Extensions.Logging;

namespace ErrorCoordinator.Redis;

/// <summary>Source-generated log messages of the Redis layer.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Loaded {Count} Lua scripts on {Endpoint}")]
    public static partial void ScriptsLoaded(ILogger logger, int count, string endpoint);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Redis answered NOSCRIPT for {Script}; loaded it again and retried")]
    public static partial void ScriptReloaded(ILogger logger, string script);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Information, Message = "Connected to Redis at {Endpoints}")]
    public static partial void Connected(ILogger logger, string endpoints);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Event bus subscriber for {Pattern} threw")]
    public static partial void SubscriberFailed(ILogger logger, Exception exception, string pattern);
}
