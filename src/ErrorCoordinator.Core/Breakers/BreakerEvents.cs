using System.Text.Json.Serialization;
using ErrorCoordinator.Core.Common;

namespace ErrorCoordinator.Core.Breakers;

/// <summary>
/// A transition as published on <c>events:errors:circuit_breakers</c> and kept in the component's audit stream.
/// The Redis scripts write the same fields (cjson) so subscribers see one shape whichever store is in use.
/// </summary>
public sealed record BreakerEvent
{
    public required string EventId { get; init; }
    public required string Type { get; init; }
    public required string Component { get; init; }
    public required string From { get; init; }
    public required string State { get; init; }
    public required string Reason { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? Agent { get; init; }
    /// <summary>The error type of the outcome that caused it, when one was given.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public string? ErrorType { get; init; }
    /// <summary>ISO-8601 time of the transition.</summary>
    public required string Timestamp { get; init; }
    public long OpenUntilMs { get; init; }
    public long BreakSeconds { get; init; }
    public long Calls { get; init; }
    public long Failures { get; init; }
    public double FailureRatio { get; init; }

    public static string Wire(BreakerState s) => s switch
    {
        BreakerState.Closed => "closed",
        BreakerState.Open => "open",
        BreakerState.HalfOpen => "half_open",
        _ => "isolated",
    };

    public static BreakerEvent Create(string eventId, string type, string component, BreakerState from, BreakerRecord r, BreakerWindow w, string reason, string? agent, DateTimeOffset now, string? errorType = null) => new()
    {
        EventId = eventId,
        Type = type,
        Component = component,
        From = Wire(from),
        State = Wire(r.State),
        Reason = reason,
        Agent = agent,
        ErrorType = errorType,
        Timestamp = now.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
        OpenUntilMs = r.State is BreakerState.Open or BreakerState.Isolated ? r.OpenUntilMs : 0,
        BreakSeconds = (r.BreakMs + 999) / 1000,
        Calls = w.Calls,
        Failures = w.Failures,
        FailureRatio = w.FailureRatio,
    };

    public string ToJson() => CoreJson.Serialize(this);

    public BreakerTransition ToTransition() => new(EventId, Type, Parse(From), Parse(State), Reason, Agent, DateTimeOffset.Parse(Timestamp, System.Globalization.CultureInfo.InvariantCulture));

    private static BreakerState Parse(string s) => BreakerService.ParseState(s) ?? BreakerState.Closed;
}
