using ErrorCoordinator.Core.Errors;

namespace ErrorCoordinator.Core.Tests.Correlation;

/// <summary>Hand-built error events for the engine's unit tests.</summary>
internal static class CorrelationTestData
{
    public static readonly DateTimeOffset T0 = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static int _n;

    public static ErrorEvent E(string? component, double seconds, string type = "TimeoutError", string? trace = null, string? group = null, Severity severity = Severity.Error)
    {
        var at = T0.AddSeconds(seconds);
        var id = $"evt_{Interlocked.Increment(ref _n):D6}";
        return new ErrorEvent
        {
            EventId = id,
            GroupId = group ?? $"grp_{component}_{type}",
            Signature = type,
            Kind = "task_failures",
            Agent = "agent-" + (component ?? "x"),
            ErrorType = type,
            Message = type + " on " + component,
            Component = component,
            TraceId = trace,
            Severity = severity,
            Category = ErrorCategory.Application,
            Recoverable = true,
            OccurredAt = at,
            ReceivedAt = at,
            ExpiresAt = at.AddDays(7),
        };
    }

    /// <summary><paramref name="count"/> errors on one component, one every <paramref name="every"/> seconds from <paramref name="start"/>.</summary>
    public static IEnumerable<ErrorEvent> Burst(string component, double start, int count, string type = "TimeoutError", double every = 3, string? trace = null) =>
        Enumerable.Range(0, count).Select(i => E(component, start + i * every, type, trace));
}
