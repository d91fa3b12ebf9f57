using ErrorCoordinator.Core.Common;

namespace ErrorCoordinator.Core.Errors;

/// <summary>
/// Storage port for error events and groups. Implementations: Redis (one Lua script per report) and
/// the embedded in-memory store. Both pass the same contract suite.
/// </summary>
public interface IErrorStore
{
    /// <summary>
    /// Atomically: appends the event (with its TTL), upserts its group (count, first/last seen, distinct
    /// agents, status, regression), updates the time and filter indexes and the hourly histogram, publishes the event on
    /// <see cref="RecordOptions.Channel"/> and appends it to the audit stream. Concurrent calls never lose a count.
    /// With <see cref="RecordOptions.Template"/>, the template bucket's compare-and-set is part of the same atomic step:
    /// on a version mismatch nothing at all is written and the outcome carries <see cref="RecordOutcome.Conflict"/>.
    /// </summary>
    Task<RecordOutcome> RecordAsync(ErrorEvent errorEvent, RecordOptions options, CancellationToken cancellationToken = default);

    /// <summary>Events matching every filter, newest first (by occurred_at), paged.</summary>
    Task<Page<ErrorEvent>> QueryEventsAsync(ErrorQuery query, CancellationToken cancellationToken = default);

    /// <summary>Groups matching every filter, in the requested order, paged. With no status, ignored groups are left out.</summary>
    Task<Page<ErrorGroup>> ListGroupsAsync(GroupQuery query, CancellationToken cancellationToken = default);

    /// <summary>A group with up to <paramref name="samples"/> recent events and the hourly histogram for the last <paramref name="hours"/> hours.</summary>
    Task<ErrorGroupDetail?> GetGroupAsync(string groupId, DateTimeOffset now, int samples, int hours, CancellationToken cancellationToken = default);

    /// <summary>Sets a group's status and note atomically; null when the group does not exist.</summary>
    Task<ErrorGroup?> UpdateGroupStatusAsync(string groupId, GroupStatus status, string? note, DateTimeOffset now, string channel, CancellationToken cancellationToken = default);

    /// <summary>The most recent entries of the audit stream (JSON), newest first.</summary>
    Task<IReadOnlyList<string>> ReadAuditAsync(int count, CancellationToken cancellationToken = default);
}
