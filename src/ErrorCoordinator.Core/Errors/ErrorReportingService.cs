using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Events;
using ErrorCoordinator.Core.Scrubbing;
using ErrorCoordinator.Core.Signatures;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ErrorCoordinator.Core.Errors;

/// <summary>
/// Failure reporting: validates, scrubs, classifies, fingerprints and records reports, and answers
/// queries over events and groups. The only entry point the MCP tools use for errors.
/// </summary>
public sealed class ErrorReportingService(
    IErrorStore store,
    ISignatureEngine signatures,
    SecretScrubber scrubber,
    ErrorClassifier classifier,
    FailureValidator validator,
    IOptions<RetentionOptions> retention,
    ChannelNames channels,
    TimeProvider time,
    ILogger<ErrorReportingService> logger)
{
    public async Task<ReportResult> ReportAsync(FailureReport report, CancellationToken cancellationToken = default)
    {
        var (errorEvent, classification, input, signature) = await PrepareAsync(validator.Validate(report), "", cancellationToken);
        return await RecordAsync(errorEvent, classification, input, signature, cancellationToken);
    }

    /// <summary>
    /// Records a batch. Every item is validated on its own; an invalid item gets its own error and the
    /// rest are recorded. Valid items are sent to the store together (pipelined), in order.
    /// </summary>
    public async Task<IReadOnlyList<BatchItemResult>> ReportBatchAsync(IReadOnlyList<FailureReport> reports, CancellationToken cancellationToken = default)
    {
        var max = validator.Limits.MaxBatchSize;
        if (reports.Count == 0) throw new ValidationException("failures", "'failures' must contain at least one item.");
        if (reports.Count > max)
            throw new ValidationException("failures", $"'failures' has {reports.Count} items; the limit is {max} items per batch.");

        var results = new BatchItemResult[reports.Count];
        var pending = new List<(int Index, Task<ReportResult> Task)>(reports.Count);
        for (var i = 0; i < reports.Count; i++)
        {
            if (reports[i] is null)
            {
                results[i] = new BatchItemResult(i, null, $"'failures[{i}]' is empty; each item needs agent, error_type and message.", $"failures[{i}]");
                continue;
            }
            try
            {
                var (errorEvent, classification, input, signature) = await PrepareAsync(validator.Validate(reports[i], $"failures[{i}]."), $"failures[{i}].", cancellationToken);
                pending.Add((i, RecordAsync(errorEvent, classification, input, signature, cancellationToken)));
            }
            catch (ValidationException ex)
            {
                results[i] = new BatchItemResult(i, null, ex.Message, ex.Field);
            }
        }

        // Every pending item is awaited and answered on its own: one that fails in the store does not hide the others
        // (which are recorded), so the caller knows exactly which items to send again.
        foreach (var (index, task) in pending)
        {
            try
            {
                results[index] = new BatchItemResult(index, await task, null, null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Log.BatchItemFailed(logger, index, ex);
                var reason = ex is TransientException t ? t.Message : "the store could not record it";
                results[index] = new BatchItemResult(index, null, $"'failures[{index}]' was not recorded: {reason}; report it again.", $"failures[{index}]");
            }
        }
        return results;
    }

    public Task<Page<ErrorEvent>> QueryAsync(ErrorQuery query, CancellationToken cancellationToken = default)
    {
        CheckLimit(query.Limit);
        var max = validator.Limits.MaxNameLength;
        FailureValidator.OptionalName("agent", query.Agent, max);
        FailureValidator.OptionalName("component", query.Component, max);
        FailureValidator.OptionalName("group_id", query.GroupId, max);
        FailureValidator.OptionalName("task_id", query.TaskId, max);
        if (query.Since is { } since && query.Until is { } until && since > until)
            throw new ValidationException("since", "'since' must not be later than 'until'.");
        CheckCursor(query.Cursor);
        return store.QueryEventsAsync(query, cancellationToken);
    }

    public Task<Page<ErrorGroup>> ListGroupsAsync(GroupQuery query, CancellationToken cancellationToken = default)
    {
        CheckLimit(query.Limit);
        FailureValidator.OptionalName("agent", query.Agent, validator.Limits.MaxNameLength);
        FailureValidator.OptionalName("component", query.Component, validator.Limits.MaxNameLength);
        CheckCursor(query.Cursor);
        return store.ListGroupsAsync(query, cancellationToken);
    }

    public async Task<ErrorGroupDetail> GetGroupAsync(string groupId, int samples = 10, CancellationToken cancellationToken = default)
    {
        FailureValidator.RequireName("group_id", groupId, validator.Limits.MaxNameLength);
        if (samples is < 0 or > 100) throw new ValidationException("samples", "'samples' must be between 0 and 100.");
        return await store.GetGroupAsync(groupId, time.GetUtcNow(), samples, Defaults.HistogramHours, cancellationToken)
            ?? throw new NotFoundException("Error group", groupId);
    }

    public async Task<ErrorGroup> UpdateGroupAsync(string groupId, GroupStatus status, string? note, CancellationToken cancellationToken = default)
    {
        FailureValidator.RequireName("group_id", groupId, validator.Limits.MaxNameLength);
        if (status == GroupStatus.Regressed)
            throw new ValidationException("status", "'status' must be one of resolved, ignored, unresolved; regressed is set by the coordinator.");
        if (note is not null) FailureValidator.CheckBytes("note", note, validator.Limits.MaxMessageBytes);
        var group = await store.UpdateGroupStatusAsync(groupId, status, scrubber.Scrub(note), time.GetUtcNow(), channels.Groups, cancellationToken)
            ?? throw new NotFoundException("Error group", groupId);
        Log.GroupStatusChanged(logger, groupId, status.ToWire());
        return group;
    }

    private async Task<(ErrorEvent, Classification, SignatureInput, SignatureResult)> PrepareAsync(ValidatedReport v, string prefix, CancellationToken cancellationToken)
    {
        var r = v.Report;
        var message = scrubber.Scrub(r.Message)!;
        var stack = scrubber.Scrub(r.Stack);
        var tags = scrubber.ScrubTags(r.Tags);
        var c = classifier.Classify(r.ErrorType, message, r.Code);
        var classification = c with { Severity = v.Severity ?? c.Severity, Category = v.Category ?? c.Category };
        var input = new SignatureInput(r.ErrorType, message, stack, r.Agent, r.Component, tags);
        var signature = signatures is IStoreBackedSignatureEngine shared
            ? shared.Propose(input)
            : await signatures.ComputeAsync(input, cancellationToken);
        var now = time.GetUtcNow();
        var ttl = retention.Value.ForKind(classification.Kind);
        var expiresAt = v.OccurredAt + ttl;
        if (expiresAt <= now)
            throw new ValidationException(prefix + "occurred_at",
                $"'{prefix}occurred_at' ({v.OccurredAt:O}) is older than the {ttl.TotalDays:0.#}-day retention for {classification.Kind} events.");
        var errorEvent = new ErrorEvent
        {
            EventId = NewEventId(now),
            GroupId = signature.GroupId,
            Signature = signature.Signature(r.ErrorType),
            Kind = classification.Kind,
            Agent = r.Agent,
            ErrorType = r.ErrorType,
            Message = message,
            Stack = stack,
            Code = r.Code,
            TaskId = r.TaskId,
            Project = r.Project,
            Component = r.Component,
            TraceId = r.TraceId,
            Tags = tags,
            Severity = classification.Severity,
            Category = classification.Category,
            Recoverable = classification.Recoverable,
            OccurredAt = v.OccurredAt,
            ReceivedAt = now,
            ExpiresAt = expiresAt,
        };
        return (errorEvent, classification, input, signature);
    }

    /// <summary>
    /// Records the event. With a template assignment, the store applies it with the report only if its bucket is
    /// unchanged; on a conflict nothing was written, the replica takes the store's bucket, and the signature is
    /// proposed again (bounded tries): one round trip in the steady state, one more after another process's change.
    /// </summary>
    private async Task<ReportResult> RecordAsync(ErrorEvent e, Classification c, SignatureInput input, SignatureResult signature, CancellationToken cancellationToken)
    {
        var r = retention.Value;
        var options = new RecordOptions(r.Groups, channels.Errors(e.Kind), RetentionLimits.From(r));
        var shared = signatures as IStoreBackedSignatureEngine;
        RecordOutcome outcome;
        for (var attempt = 1; ; attempt++)
        {
            outcome = await store.RecordAsync(e, signature.Decision is null ? options : options with { Template = signature.Decision }, cancellationToken);
            if (outcome.Conflict is not { } bucket)
            {
                if (signature.Decision is { } accepted) shared?.Accepted(accepted, outcome.EvictedTemplates);
                break;
            }
            shared!.Refresh(signature.Decision!, bucket);
            if (attempt >= shared.MaxAttempts)
                throw new TransientException($"the error group's template state kept changing under {attempt} tries (many agents creating groups at once)");
            Log.TemplateConflict(logger, signature.Decision!.BucketKey, attempt);
            signature = shared.Propose(input);
            e = e with { GroupId = signature.GroupId, Signature = signature.Signature(e.ErrorType) };
        }
        if (outcome.IsNewGroup) Log.NewGroup(logger, e.GroupId, e.Signature);
        return new ReportResult(e.EventId, e.GroupId, e.Signature, e.Severity, e.Category, e.Recoverable,
            outcome.IsNewGroup, outcome.GroupCount, outcome.Status, Recommend(c, outcome));
    }

    private static string Recommend(Classification c, RecordOutcome outcome)
    {
        if (outcome.Status == GroupStatus.Regressed)
            return "Regression: this group was resolved and has failed again. Reopen the fix. " + c.Recommendation;
        if (outcome.GroupCount >= 10 && !c.Recoverable)
            return $"Recurring ({outcome.GroupCount} events): needs a permanent fix. " + c.Recommendation;
        return c.Recommendation;
    }

    /// <summary>Time-ordered, globally unique event ids (UUIDv7 from the injected clock).</summary>
    private static string NewEventId(DateTimeOffset now) => "evt_" + Guid.CreateVersion7(now).ToString("N");

    private static void CheckLimit(int limit)
    {
        if (limit is < 1 or > Defaults.MaxPageSize)
            throw new ValidationException("limit", $"'limit' must be between 1 and {Defaults.MaxPageSize}; got {limit}.");
    }

    private static void CheckCursor(string? cursor)
    {
        if (cursor is not null && !IndexCursor.TryDecode(cursor, out _))
            throw new ValidationException("cursor", "'cursor' is not a cursor this server returned; pass next_cursor from a previous page unchanged.");
    }
}
