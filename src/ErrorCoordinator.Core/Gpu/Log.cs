using Microsoft.Extensions.Logging;

namespace ErrorCoordinator.Core.Gpu;

/// <summary>Source-generated log messages for the GPU probe and watch.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "GPU finding {Signature} ({Severity}): {Message}")]
    public static partial void FindingReported(ILogger logger, string signature, string severity, string message);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Debug, Message = "GPU finding {Signature} already reported within the dedup window")]
    public static partial void FindingDeduplicated(ILogger logger, string signature);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Warning, Message = "GPU finding {Signature} could not be reported; it will be tried again")]
    public static partial void FindingFailed(ILogger logger, string signature, Exception exception);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "Opened breaker {Component} for {Minutes} min: {Reason}")]
    public static partial void BreakerOpened(ILogger logger, string component, double minutes, string reason);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "Breaker {Component} could not be opened on GPU memory exhaustion; the next pass tries again")]
    public static partial void BreakerFailed(ILogger logger, string component, Exception exception);
}
