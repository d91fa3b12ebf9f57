using Microsoft.Extensions.Logging;

namespace ErrorCoordinator.Core.Retries;

/// <summary>Source-generated log messages for the retry queue.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Retry task {TaskId} dead-lettered: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string taskId, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Retry for {Component} refused: budget exhausted ({Retries} of {Allowed} retries in the last minute)")]
    public static partial void BudgetExhausted(ILogger logger, string component, long retries, long allowed);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Debug, Message = "Claim by {Worker}: {Claimed} handed out, {Deferred} deferred behind open breakers, {Reaped} expired leases returned")]
    public static partial void Claimed(ILogger logger, string worker, int claimed, int deferred, int reaped);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Retry sweep: {Requeued} expired leases returned, {DeadLettered} dead-lettered, {Trimmed} dead letters trimmed")]
    public static partial void Swept(ILogger logger, int requeued, int deadLettered, int trimmed);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Retry sweep failed; trying again at the next interval")]
    public static partial void SweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Information, Message = "Replayed {Count} dead letters (dry run: {DryRun})")]
    public static partial void Replayed(ILogger logger, int count, bool dryRun);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Purged {Count} dead letters")]
    public static partial void Purged(ILogger logger, int count);
}
