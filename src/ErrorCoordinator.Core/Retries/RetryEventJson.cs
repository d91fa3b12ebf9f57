using System.Globalization;
using ErrorCoordinator.Core.Common;

namespace ErrorCoordinator.Core.Retries;

/// <summary>
/// The published shape of queue events (the Redis scripts build the same fields):
/// <c>{type, event_id, task_id, agent, component, attempt, deliveries, retry_at?, reason?, detail?, worker?, timestamp}</c>.
/// </summary>
public static class RetryEventJson
{
    public static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string Create(string type, string eventId, RetryTask t, DateTimeOffset now, DateTimeOffset? retryAt, string? reason, string? detail, string? worker) =>
        CoreJson.Serialize(new Dictionary<string, object?>
        {
            ["type"] = type,
            ["event_id"] = eventId,
            ["task_id"] = t.TaskId,
            ["agent"] = t.Agent,
            ["component"] = t.Component,
            ["attempt"] = t.Attempt,
            ["deliveries"] = t.Deliveries,
            ["retry_at"] = retryAt is { } r ? Timestamp(r) : null,
            ["reason"] = reason,
            ["detail"] = detail,
            ["worker"] = worker,
            ["timestamp"] = Timestamp(now),
        }.Where(kv => kv.Value is not null).ToDictionary());
}
