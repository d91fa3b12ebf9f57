using Microsoft.Extensions.Logging;

namespace ErrorCoordinator.Core.Errors;

/// <summary>Source-generated log messages for failure reporting.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "New error group {GroupId}: {Signature}")]
    public static partial void NewGroup(ILogger logger, string groupId, string signature);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Error group {GroupId} set to {Status}")]
    public static partial void GroupStatusChanged(ILogger logger, string groupId, string status);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "Template bucket {Bucket} changed in the store (try {Attempt}); replica refreshed, assigning again")]
    public static partial void TemplateConflict(ILogger logger, string bucket, int attempt);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Batch item {Index} could not be recorded")]
    public static partial void BatchItemFailed(ILogger logger, int index, Exception exception);
}
