namespace ErrorCoordinator.Core.Common;

/// <summary>Every default the coordinator ships with, in one place. Options classes read from here.</summary>
public static class Defaults
{
    public const string KeyPrefix = "ec:";

    // Input limits (configurable under ErrorCoordinator:Limits).
    public const int MaxMessageBytes = 16 * 1024;
    public const int MaxStackBytes = 64 * 1024;
    public const int MaxTags = 32;
    public const int MaxTagLength = 256;
    public const int MaxNameLength = 200;
    public const int MaxBatchSize = 500;
    public static readonly TimeSpan MaxFutureSkew = TimeSpan.FromDays(1);

    // Paging.
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 500;

    // Retention (configurable under ErrorCoordinator:Retention).
    public static readonly TimeSpan DefaultEventRetention = TimeSpan.FromDays(7);
    public static readonly TimeSpan TrainingEventRetention = TimeSpan.FromDays(30);
    public static readonly TimeSpan AgentCrashRetention = TimeSpan.FromDays(30);
    public static readonly TimeSpan GroupRetention = TimeSpan.FromDays(90);
    public const int MaxEventsPerIndex = 10_000;
    public const int MaxEventsTotal = 200_000;
    public const int MaxGroups = 50_000;
    public const int MaxSamplesPerGroup = 20;
    public const int AuditStreamMaxLength = 100_000;
    public const int HistogramHours = 24;
    public const int TopAgents = 5;
}
