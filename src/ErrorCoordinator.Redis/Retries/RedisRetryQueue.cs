using System.Globalization;
using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Retries;
using ErrorCoordinator.Redis.Scripting;
using StackExchange.Redis;

namespace ErrorCoordinator.Redis.Retries;

/// <summary>
/// The retry queue on Redis: every state change is one Lua script over the <c>{rq}</c> keys of <see cref="KeySchema"/>
/// (due ZSET, in-flight ZSET scored by lease deadline, task/payload/history hashes, idempotency hash, dead-letter ZSET,
/// counters, audit stream and the component's budget window). Reads that change nothing (a task, a page of dead letters)
/// are plain reads.
/// </summary>
public sealed class RedisRetryQueue(IConnectionMultiplexer mux, KeySchema keys, RedisScripts scripts) : IRetryQueue
{
    public const string EnqueueScript = "enqueueRetry-10";
    public const string ClaimScript = "claimRetries-9";
    public const string DeferScript = "deferRetries-9";
    public const string CompleteScript = "completeRetry-10";
    public const string ExtendScript = "extendLease-2";
    public const string ReplayScript = "replayDeadLetters-10";
    public const string PurgeScript = "purgeDeadLetters-9";
    public const string SweepScript = "sweepRetries-9";
    public const string CountScript = "countRetries-10";

    private static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static long Ms(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    private RedisKey[] Keys(params RedisKey[] extra) => [.. keys.RetryQueueKeys(), .. extra];

    public async Task<EnqueueOutcome> EnqueueAsync(EnqueueCommand c, CancellationToken cancellationToken = default)
    {
        var t = c.Task;
        var l = c.Limits;
        var entry = new StoredHistory
        {
            At = Ms(c.Now), Event = "enqueued", Attempt = t.Attempt, Worker = t.Agent, ErrorType = t.ErrorType, Error = t.Message,
            Signature = t.Signature, RetryAt = Ms(t.RetryAt),
        };
        var r = (RedisResult[])(await scripts.EvaluateAsync(EnqueueScript, Keys(keys.RetryBudget(t.Component)),
        [
            Num(Ms(c.Now)), t.TaskId, CoreJson.Serialize(StoredTask.From(t)), t.Payload ?? "", t.Payload is null ? "0" : "1",
            Num(Ms(t.RetryAt)), RetryEventJson.Timestamp(t.RetryAt), RetryEventJson.Timestamp(c.Now), c.EventId,
            c.Channels.Scheduled, c.Channels.Exhausted, Num(c.Budget.Allowed), Num((long)c.Budget.Window.TotalMilliseconds),
            Num(l.MaxPendingTasks), Num((long)l.DeadLetterMaxAge.TotalMilliseconds), Num(l.DeadLetterMaxCount), Num(l.HistoryPerTask),
            Num(l.AuditStreamMaxLength), CoreJson.Serialize(entry),
        ]).ConfigureAwait(false))!;
        var status = r[0].ToString() switch
        {
            "scheduled" => EnqueueStatus.Scheduled,
            "duplicate" => EnqueueStatus.Duplicate,
            "dead_lettered" => EnqueueStatus.DeadLettered,
            "budget_exhausted" => EnqueueStatus.BudgetExhausted,
            "queue_full" => EnqueueStatus.QueueFull,
            "already_queued" => EnqueueStatus.AlreadyQueued,
            "in_dead_letter" => EnqueueStatus.InDeadLetter,
            var s => throw new InvalidOperationException($"{EnqueueScript} returned '{s}'."),
        };
        var task = r[1].IsNull ? null : ToTask(r[1].ToString(), t.Payload, null);
        BudgetUse? budget = status is EnqueueStatus.Scheduled or EnqueueStatus.BudgetExhausted ? Use((long)r[2], c.Budget) : null;
        return new EnqueueOutcome(status, task, budget);
    }

    public async Task<ClaimOutcome> ClaimAsync(ClaimCommand c, CancellationToken cancellationToken = default)
    {
        var l = c.Limits;
        var r = (RedisResult[])(await scripts.EvaluateAsync(ClaimScript, keys.RetryQueueKeys(),
        [
            Num(Ms(c.Now)), RetryEventJson.Timestamp(c.Now), Num(c.Max), Num((long)c.Lease.TotalMilliseconds), c.Worker, c.LeaseSeed,
            c.Agent ?? "", c.Component ?? "", Num(l.ClaimScanLimit), Num(l.ReapBatch), c.EventIdBase, c.Channels.Exhausted,
            Num((long)l.DeadLetterMaxAge.TotalMilliseconds), Num(l.DeadLetterMaxCount), Num(l.HistoryPerTask), Num(l.AuditStreamMaxLength),
        ]).ConfigureAwait(false))!;
        var items = (RedisResult[])r[2]!;
        var tasks = new List<RetryTask>(items.Length / 2);
        for (var i = 0; i + 1 < items.Length; i += 2)
            tasks.Add(ToTask(items[i].ToString(), items[i + 1].IsNull ? null : items[i + 1].ToString(), null));
        return new ClaimOutcome(tasks, (int)r[0], (int)r[1]);
    }

    public async Task<int> DeferAsync(IReadOnlyList<Deferral> deferrals, DateTimeOffset now, int historyPerTask, CancellationToken cancellationToken = default)
    {
        if (deferrals.Count == 0) return 0;
        var args = new List<RedisValue>(2 + deferrals.Count * 4) { Num(Ms(now)), Num(historyPerTask) };
        foreach (var d in deferrals)
        {
            args.Add(d.TaskId);
            args.Add(d.Lease);
            args.Add(Num(Ms(d.Until)));
            args.Add(d.Note);
        }
        return (int)await scripts.EvaluateAsync(DeferScript, keys.RetryQueueKeys(), [.. args]).ConfigureAwait(false);
    }

    public async Task<RetryTask?> GetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        var db = mux.GetDatabase();
        var meta = db.HashGetAsync(keys.RetryTasks, taskId);
        var payload = db.HashGetAsync(keys.RetryPayloads, taskId);
        var history = db.HashGetAsync(keys.RetryHistory, taskId);
        await Task.WhenAll(meta, payload, history).ConfigureAwait(false);
        if (meta.Result.IsNull) return null;
        return ToTask(meta.Result.ToString(), payload.Result.IsNull ? null : payload.Result.ToString(), history.Result.IsNull ? null : history.Result.ToString());
    }

    public async Task<CompleteOutcome> CompleteAsync(CompleteCommand c, CancellationToken cancellationToken = default)
    {
        var l = c.Limits;
        var component = c.ExpectedAttempt >= 0 ? c.Component : null;
        var budget = c.Budget;
        var retryAt = c.Now.AddMilliseconds(c.NextDelayMs);
        var r = (RedisResult[])(await scripts.EvaluateAsync(CompleteScript, Keys(keys.RetryBudget(component)),
        [
            Num(Ms(c.Now)), RetryEventJson.Timestamp(c.Now), c.TaskId, c.Lease, c.Outcome.ToString().ToLowerInvariant(),
            c.ErrorType ?? "", c.Error ?? "", c.Signature ?? "", Num(c.ExpectedAttempt), Num(c.NextDelayMs), RetryEventJson.Timestamp(retryAt),
            Num(budget?.Allowed ?? 0), Num((long)(budget?.Window.TotalMilliseconds ?? 60_000)), component ?? "",
            c.EventId, c.Channels.Scheduled, c.Channels.Success, c.Channels.Exhausted,
            Num((long)l.DeadLetterMaxAge.TotalMilliseconds), Num(l.DeadLetterMaxCount), Num(l.HistoryPerTask), Num(l.AuditStreamMaxLength),
            Num(l.PoisonDistinctWorkers),
        ]).ConfigureAwait(false))!;
        var status = Status(r[0].ToString());
        var task = r.Length > 2 && !r[2].IsNull ? ToTask(r[2].ToString(), null, r.Length > 5 && !r[5].IsNull ? r[5].ToString() : null) : null;
        if (status != LeaseStatus.Ok) return new CompleteOutcome(status, null, task, null);
        var result = r[1].ToString() switch
        {
            "succeeded" => CompletionResult.Succeeded,
            "rescheduled" => CompletionResult.Rescheduled,
            _ => CompletionResult.DeadLettered,
        };
        var use = budget is not null && (long)r[4] > 0 ? Use((long)r[3], budget) : null;
        return new CompleteOutcome(status, result, task, use);
    }

    public async Task<ExtendOutcome> ExtendAsync(string taskId, string lease, TimeSpan extension, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        var r = (RedisResult[])(await scripts.EvaluateAsync(ExtendScript, [keys.RetryInFlight, keys.RetryTasks],
            [Num(Ms(now)), taskId, lease, Num(Ms(now + extension))]).ConfigureAwait(false))!;
        var task = r.Length > 1 && !r[1].IsNull ? ToTask(r[1].ToString(), null, null) : null;
        return new ExtendOutcome(Status(r[0].ToString()), task);
    }

    public async Task<Page<RetryTask>> ListDeadLettersAsync(DeadLetterQuery query, CancellationToken cancellationToken = default)
    {
        var db = mux.GetDatabase();
        double max = double.PositiveInfinity;
        string? after = null;
        if (IndexCursor.TryDecode(query.Cursor, out var cursor))
        {
            max = cursor.Score;
            after = cursor.Member;
        }
        var matched = new List<(string Meta, string Id, double Score)>();
        var batch = Math.Max(query.Limit * 2, 50);
        var skip = 0;
        (double Score, string Id)? last = null;
        string? next = null;
        // Newest first, read in batches; a filtered page reads at most 20 batches, then the cursor continues where the scan stopped.
        for (var round = 0; round < 20 && matched.Count < query.Limit; round++)
        {
            var entries = await db.SortedSetRangeByScoreWithScoresAsync(keys.RetryDeadLetters, double.NegativeInfinity, max, Exclude.None, Order.Descending, skip, batch).ConfigureAwait(false);
            skip += entries.Length;
            var fresh = entries.Where(e => after is null || e.Score < max || string.CompareOrdinal(e.Element.ToString(), after) < 0).ToList();
            var metas = fresh.Count == 0 ? [] : await db.HashGetAsync(keys.RetryTasks, fresh.Select(e => e.Element).ToArray()).ConfigureAwait(false);
            for (var i = 0; i < fresh.Count && matched.Count < query.Limit; i++)
            {
                last = (fresh[i].Score, fresh[i].Element.ToString());
                if (metas[i].IsNull) continue;
                var meta = CoreJson.Deserialize<StoredTask>(metas[i].ToString());
                if (query.Agent is not null && meta.Agent != query.Agent || query.Component is not null && meta.Component != query.Component) continue;
                matched.Add((metas[i].ToString(), meta.TaskId, fresh[i].Score));
                if (matched.Count == query.Limit && (i + 1 < fresh.Count || entries.Length == batch))
                    next = new IndexCursor(fresh[i].Score, meta.TaskId).Encode();
            }
            if (entries.Length < batch) break;
            if (matched.Count < query.Limit && round == 19 && last is { } p) next = new IndexCursor(p.Score, p.Id).Encode();
        }
        if (matched.Count == 0) return new Page<RetryTask>([], next);
        var ids = matched.Select(m => (RedisValue)m.Id).ToArray();
        var payloads = db.HashGetAsync(keys.RetryPayloads, ids);
        var histories = db.HashGetAsync(keys.RetryHistory, ids);
        await Task.WhenAll(payloads, histories).ConfigureAwait(false);
        var items = matched.Select((m, i) => ToTask(m.Meta, payloads.Result[i].IsNull ? null : payloads.Result[i].ToString(),
            histories.Result[i].IsNull ? null : histories.Result[i].ToString())).ToList();
        return new Page<RetryTask>(items, next);
    }

    public async Task<ReplayOutcome> ReplayAsync(ReplayCommand c, CancellationToken cancellationToken = default)
    {
        var r = (RedisResult[])(await scripts.EvaluateAsync(ReplayScript, Keys(keys.RetryReplays),
        [
            Num(Ms(c.Now)), RetryEventJson.Timestamp(c.Now), c.TaskId ?? "", c.Agent ?? "", c.Component ?? "", c.ResetAttempts ? "1" : "0",
            c.DryRun ? "1" : "0", Num(c.Max), Num(c.RatePerMinute), Num(ReplayScanLimit), c.EventIdBase, c.Channels.Scheduled,
            Num(c.Limits.HistoryPerTask), Num(c.Limits.AuditStreamMaxLength),
        ]).ConfigureAwait(false))!;
        return new ReplayOutcome(r.Skip(3).Select(x => x.ToString()).ToList(), (int)r[0], (long)r[1], (long)r[2] == 1);
    }

    /// <summary>Dead letters a filtered replay examines per call.</summary>
    public const int ReplayScanLimit = 5000;

    public async Task<PurgeOutcome> PurgeAsync(PurgeCommand c, CancellationToken cancellationToken = default)
    {
        var args = new List<RedisValue> { Num(Ms(c.Now)), c.TaskIds is null ? "age" : "ids", Num(c.OlderThan is { } o ? Ms(o) : 0), Num(c.Max) };
        if (c.TaskIds is { } ids) args.AddRange(ids.Select(i => (RedisValue)i));
        var r = (RedisResult[])(await scripts.EvaluateAsync(PurgeScript, keys.RetryQueueKeys(), [.. args]).ConfigureAwait(false))!;
        return new PurgeOutcome((int)r[0], (long)r[1] == 1);
    }

    public async Task<QueueCounts> CountAsync(string? agent, string? component, DateTimeOffset now, TimeSpan budgetWindow, CancellationToken cancellationToken = default)
    {
        var r = (RedisResult[])(await scripts.EvaluateAsync(CountScript, Keys(keys.RetryBudget(component)),
            [Num(Ms(now)), agent ?? "", component ?? "", Num((long)budgetWindow.TotalMilliseconds), Num(CountScanLimit)]).ConfigureAwait(false))!;
        return new QueueCounts
        {
            Pending = (long)r[0], DueNow = (long)r[1], DueNowExact = (long)r[2] == 1, InFlight = (long)r[3], DeadLetters = (long)r[4],
            DeadLettersTrimmed = (long)r[5], Tasks = (long)r[6], Deliveries = (long)r[7], Succeeded = (long)r[8], DeadLettered = (long)r[9],
            RecentRetries = (long)r[10],
        };
    }

    /// <summary>Due tasks a filtered due-now count examines at most.</summary>
    public const int CountScanLimit = 10_000;

    public async Task<SweepOutcome> SweepAsync(DateTimeOffset now, string eventIdBase, QueueLimits limits, RetryChannels channels, CancellationToken cancellationToken = default)
    {
        var r = (RedisResult[])(await scripts.EvaluateAsync(SweepScript, keys.RetryQueueKeys(),
        [
            Num(Ms(now)), RetryEventJson.Timestamp(now), eventIdBase, channels.Exhausted, Num((long)limits.DeadLetterMaxAge.TotalMilliseconds),
            Num(limits.DeadLetterMaxCount), Num(limits.HistoryPerTask), Num(limits.AuditStreamMaxLength), Num(limits.ReapBatch),
        ]).ConfigureAwait(false))!;
        return new SweepOutcome((int)r[0], (int)r[1], (int)r[2]);
    }

    public async Task<IReadOnlyList<string>> ReadAuditAsync(int count, CancellationToken cancellationToken = default)
    {
        var entries = await mux.GetDatabase().StreamRangeAsync(keys.RetryAudit, "-", "+", count, Order.Descending).ConfigureAwait(false);
        return entries.Select(e => e["json"].ToString()).ToList();
    }

    private static LeaseStatus Status(string s) => s switch
    {
        "ok" => LeaseStatus.Ok,
        "missing" => LeaseStatus.Missing,
        "foreign" => LeaseStatus.Foreign,
        "expired" => LeaseStatus.Expired,
        "changed" => LeaseStatus.Changed,
        _ => throw new InvalidOperationException($"Retry script returned '{s}'."),
    };

    private static BudgetUse Use(long retries, BudgetCheck b) =>
        new(retries, b.Outcomes, b.Allowed, b.Outcomes == 0 ? 0 : (double)retries / b.Outcomes, b.Ratio);

    private static RetryTask ToTask(string meta, string? payload, string? history)
    {
        var h = history is null ? [] : CoreJson.Deserialize<List<StoredHistory>>(history);
        return CoreJson.Deserialize<StoredTask>(meta).ToTask(payload, h);
    }
}

/// <summary>A task as the scripts store it (times in Unix ms so Lua can compare them).</summary>
internal sealed class StoredTask
{
    public string TaskId { get; set; } = "";
    public string Agent { get; set; } = "";
    public string Component { get; set; } = "";
    public string ErrorType { get; set; } = "";
    public string Message { get; set; } = "";
    public string Signature { get; set; } = "";
    public int MaxAttempts { get; set; }
    public long BaseDelayMs { get; set; }
    public long MaxDelayMs { get; set; }
    public BackoffKind Backoff { get; set; }
    public string IdempotencyKey { get; set; } = "";
    public int Attempt { get; set; }
    public int Deliveries { get; set; }
    public long PrevDelayMs { get; set; }
    public RetryTaskState State { get; set; }
    public string? Lease { get; set; }
    public string? Worker { get; set; }
    public long? LeaseUntil { get; set; }
    public long EnqueuedAt { get; set; }
    public long RetryAt { get; set; }
    public long? DeadAt { get; set; }
    public string? DeadReason { get; set; }
    public string? DeadDetail { get; set; }
    public Dictionary<string, List<string>>? FailureWorkers { get; set; }

    public static StoredTask From(RetryTask t) => new()
    {
        TaskId = t.TaskId, Agent = t.Agent, Component = t.Component, ErrorType = t.ErrorType, Message = t.Message, Signature = t.Signature,
        MaxAttempts = t.MaxAttempts, BaseDelayMs = t.BaseDelayMs, MaxDelayMs = t.MaxDelayMs, Backoff = t.Backoff, IdempotencyKey = t.IdempotencyKey,
        Attempt = t.Attempt, Deliveries = t.Deliveries, PrevDelayMs = t.PrevDelayMs, State = t.State, Lease = t.Lease, Worker = t.Worker,
        LeaseUntil = t.LeaseUntil?.ToUnixTimeMilliseconds(), EnqueuedAt = t.EnqueuedAt.ToUnixTimeMilliseconds(), RetryAt = t.RetryAt.ToUnixTimeMilliseconds(),
        DeadAt = t.DeadLetteredAt?.ToUnixTimeMilliseconds(), DeadReason = t.DeadReason, DeadDetail = t.DeadDetail,
        FailureWorkers = t.FailureWorkers.ToDictionary(kv => kv.Key, kv => kv.Value.ToList()),
    };

    public RetryTask ToTask(string? payload, IReadOnlyList<StoredHistory> history) => new()
    {
        TaskId = TaskId, Agent = Agent, Component = Component, Payload = payload, ErrorType = ErrorType, Message = Message, Signature = Signature,
        MaxAttempts = MaxAttempts, BaseDelayMs = BaseDelayMs, MaxDelayMs = MaxDelayMs, Backoff = Backoff, IdempotencyKey = IdempotencyKey,
        Attempt = Attempt, Deliveries = Deliveries, PrevDelayMs = PrevDelayMs, State = State, Lease = Lease, Worker = Worker,
        LeaseUntil = LeaseUntil is { } lu ? DateTimeOffset.FromUnixTimeMilliseconds(lu) : null,
        EnqueuedAt = DateTimeOffset.FromUnixTimeMilliseconds(EnqueuedAt), RetryAt = DateTimeOffset.FromUnixTimeMilliseconds(RetryAt),
        DeadLetteredAt = DeadAt is { } d ? DateTimeOffset.FromUnixTimeMilliseconds(d) : null, DeadReason = DeadReason, DeadDetail = DeadDetail,
        FailureWorkers = (FailureWorkers ?? []).ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal),
        History = history.Select(e => e.ToEntry()).ToList(),
    };
}

/// <summary>A history entry as the scripts store it.</summary>
internal sealed class StoredHistory
{
    public long At { get; set; }
    public string Event { get; set; } = "";
    public int Attempt { get; set; }
    public int Delivery { get; set; }
    public string? Worker { get; set; }
    public string? ErrorType { get; set; }
    public string? Error { get; set; }
    public string? Signature { get; set; }
    public long? RetryAt { get; set; }
    public string? Note { get; set; }

    public RetryHistoryEntry ToEntry() => new()
    {
        At = DateTimeOffset.FromUnixTimeMilliseconds(At), Event = Event, Attempt = Attempt, Delivery = Delivery, Worker = Worker, ErrorType = ErrorType,
        Error = Error, Signature = Signature, RetryAt = RetryAt is { } r ? DateTimeOffset.FromUnixTimeMilliseconds(r) : null, Note = Note,
    };
}
