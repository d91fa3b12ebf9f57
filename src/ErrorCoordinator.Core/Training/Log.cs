using Microsoft.Extensions.Logging;

namespace ErrorCoordinator.Core.Training;

/// <summary>Source-generated log messages for training-run anomalies.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "Training anomaly {Type} in {Project}/{Run} at step {Step}: {Message}")]
    public static partial void Anomaly(ILogger logger, string type, string project, string run, long step, string message);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "Training anomaly of {Project}/{Run} at step {Step} was recorded as event {EventId} but not appended to the project's training log")]
    public static partial void LogAppendFailed(ILogger logger, string project, string run, long step, string eventId, Exception exception);
}
