using Microsoft.Extensions.Logging;

namespace ErrorCoordinator.Gpu;

/// <summary>Source-generated log messages for the NVML probe and the GPU watch.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "GPU watch is off: {Reason}")]
    public static partial void WatchOff(ILogger logger, string reason);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "GPU watch started: {Count} GPU(s), driver {Driver}, every {Interval}")]
    public static partial void WatchStarted(ILogger logger, int count, string driver, TimeSpan interval);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "GPU watch pass failed")]
    public static partial void WatchPassFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Information, Message = "NVML events registered on GPU {Index}: 0x{Types:x}")]
    public static partial void EventsRegistered(ILogger logger, int index, ulong types);

    [LoggerMessage(EventId = 7105, Level = LogLevel.Information, Message = "NVML events are not available: {Reason}")]
    public static partial void EventsUnavailable(ILogger logger, string reason);

    [LoggerMessage(EventId = 7106, Level = LogLevel.Warning, Message = "NVML event wait failed: {Reason}")]
    public static partial void EventWaitFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 7107, Level = LogLevel.Warning, Message = "GPU event could not be handled")]
    public static partial void EventFailed(ILogger logger, Exception exception);
}
