using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Events;
using Microsoft.Extensions.Time.Testing;

namespace ErrorCoordinator.Testing.Contract;

/// <summary>A store under test: the error store, its event bus, the fake clock it reads, and its channel prefix.</summary>
public sealed class ErrorStoreHarness(IErrorStore store, IEventBus bus, FakeTimeProvider time, string channelPrefix, Func<ValueTask>? dispose = null) : IAsyncDisposable
{
    public IErrorStore Store { get; } = store;
    public IEventBus Bus { get; } = bus;
    public FakeTimeProvider Time { get; } = time;
    public ChannelNames Channels { get; } = new(channelPrefix);

    public ValueTask DisposeAsync() => dispose?.Invoke() ?? ValueTask.CompletedTask;
}

/// <summary>Builds events and record options for store tests.</summary>
public sealed class EventFactory(FakeTimeProvider time, ChannelNames channels)
{
    private static long _sequence;

    /// <summary>Generous limits: nothing is trimmed by count unless a test lowers one.</summary>
    public static readonly RetentionLimits Generous = new(
        MaxEventsPerIndex: 10_000, MaxEventsTotal: 100_000, MaxGroups: 10_000, MaxSamplesPerGroup: 20,
        AuditStreamMaxLength: 10_000, LongestEventRetention: TimeSpan.FromDays(30));

    public RecordOptions Options(RetentionLimits? limits = null, TimeSpan? groupTtl = null, string kind = "task_failures") =>
        new(groupTtl ?? TimeSpan.FromDays(90), channels.Errors(kind), limits ?? Generous);

    /// <summary>A new event id, unique in the process and increasing.</summary>
    public static string NextId() => "evt_" + Interlocked.Increment(ref _sequence).ToString("D12", System.Globalization.CultureInfo.InvariantCulture);

    public ErrorEvent Event(
        string group = "g1",
        string agent = "agent-1",
        DateTimeOffset? occurredAt = null,
        TimeSpan? ttl = null,
        string? component = null,
        string? taskId = null,
        Severity severity = Severity.Error,
        ErrorCategory category = ErrorCategory.Application,
        string message = "boom",
        string errorType = "RuntimeError",
        string kind = "task_failures",
        string? eventId = null)
    {
        var occurred = occurredAt ?? time.GetUtcNow();
        return new ErrorEvent
        {
            EventId = eventId ?? NextId(),
            GroupId = group,
            Signature = errorType + ":" + group,
            Kind = kind,
            Agent = agent,
            ErrorType = errorType,
            Message = message,
            Stack = "at Foo()\n  at Bar()",
            Code = "E42",
            TaskId = taskId,
            Project = "proj",
            Component = component,
            TraceId = "trace-1",
            Tags = new Dictionary<string, string> { ["env"] = "test", ["odd key:*"] = "{v}" },
            Severity = severity,
            Category = category,
            Recoverable = false,
            OccurredAt = occurred,
            ReceivedAt = time.GetUtcNow(),
            ExpiresAt = occurred + (ttl ?? TimeSpan.FromDays(7)),
        };
    }
}
