using ErrorCoordinator.Core.Common;
using ErrorCoordinator.Core.Retries;

namespace ErrorCoordinator.Core.Storage.InMemory;

/// <summary>
/// The embedded retry queue: the same semantics as the Redis one (sorted due times, leases scored by deadline, capped
/// dead letters, budgets, events) behind one lock, so every operation is atomic. One process, not durable.
/// </summary>
public sealed class InMemoryRetryQueue(InMemoryEventBus bus) : IRetryQueue
{
    private static readonly Comparer<(long Ms, string Id)> Ascending = Comparer<(long Ms, string Id)>.Create((a, b) =>
    {
        var c = a.Ms.CompareTo(b.Ms);
        return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
    });

    private readonly Lock _gate = new();
    private readonly Dictionary<string, RetryTask> _tasks = new(StringComparer.Ordinal);
    private readonly SortedSet<(long Ms, string Id)> _due = new(Ascending);
    private readonly SortedSet<(long Ms, string Id)> _inFlight = new(Ascending);
    private readonly SortedSet<(long Ms, string Id)> _dead = new(Ascending);
    private readonly Dictionary<string, string> _idempotency = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<(long Ms, string Id)>> _budgets = new(StringComparer.Ordinal);
    private readonly Queue<long> _replays = new();
    private readonly LinkedList<string> _audit = new();
    private long _sequence;

    public Task<EnqueueOutcome> EnqueueAsync(EnqueueCommand command, CancellationToken cancellationToken = default)
    {
        var events = new List<(string Channel, string Json)>();
        EnqueueOutcome result;
        lock (_gate)
        {
            result = Enqueue(command, events);
        }
        Publish(events);
        return Task.FromResult(result);
    }

    private EnqueueOutcome Enqueue(EnqueueCommand c, List<(string, string)> events)
    {
        var t = c.Task;
        var now = c.Now.ToUnixTimeMilliseconds();
        if (_idempotency.TryGetValue(t.IdempotencyKey, out var existingId) && _tasks.TryGetValue(existingId, out var existing) && existing.State != RetryTaskState.DeadLettered)
            return new EnqueueOutcome(EnqueueStatus.Duplicate, existing, null);
        if (_tasks.TryGetValue(t.TaskId, out var same))
            return new EnqueueOutcome(same.State == RetryTaskState.DeadLettered ? EnqueueStatus.InDeadLetter : EnqueueStatus.AlreadyQueued, same, null);
        if (_due.Count + _inFlight.Count >= c.Limits.MaxPendingTasks)
            return new EnqueueOutcome(EnqueueStatus.QueueFull, null, null);

        var window = BudgetWindow(t.Component, now, c.Budget.Window);
        var allowed = c.Budget.Allowed;
        if (t.MaxAttempts > 0 && window.Count + 1 > allowed)
            return new EnqueueOutcome(EnqueueStatus.BudgetExhausted, null, Use(window.Count, c.Budget));

        var task = t with
        {
            History = [new RetryHistoryEntry { At = c.Now, Event = "enqueued", Attempt = t.Attempt, Worker = t.Agent, ErrorType = t.ErrorType, Error = t.Message, Signature = t.Signature, RetryAt = t.RetryAt }],
        };
        Bump("tasks", task, 1);
        if (t.MaxAttempts == 0)
        {
            _tasks[t.TaskId] = task;
            var dead = DeadLetter(task, DeadLetterReasons.AttemptsExhausted, "max_attempts is 0", c.Now, c.EventId, c.Channels.Exhausted, c.Limits, events);
            return new EnqueueOutcome(EnqueueStatus.DeadLettered, dead, null);
        }
        window.Add((now, t.TaskId + ":" + Interlocked.Increment(ref _sequence)));
        _tasks[t.TaskId] = task;
        _idempotency[t.IdempotencyKey] = t.TaskId;
        _due.Add((task.RetryAt.ToUnixTimeMilliseconds(), t.TaskId));
        Event(events, c.Channels.Scheduled, RetryEventTypes.Scheduled, c.EventId, task, c.Now, c.Limits, retryAt: task.RetryAt);
        return new EnqueueOutcome(EnqueueStatus.Scheduled, task, Use(window.Count, c.Budget));
    }

    public Task<ClaimOutcome> ClaimAsync(ClaimCommand command, CancellationToken cancellationToken = default)
    {
        var events = new List<(string, string)>();
        ClaimOutcome result;
        lock (_gate)
        {
            var now = command.Now.ToUnixTimeMilliseconds();
            var n = 0;
            var (reaped, deadOnReap) = Reap(command.Now, command.Limits, command.EventIdBase, command.Channels, events, ref n);
            var claimed = new List<RetryTask>();
            var dead = deadOnReap;
            var filtered = command.Agent is not null || command.Component is not null;
            var scan = filtered ? command.Limits.ClaimScanLimit : command.Max;
            var candidates = _due.GetViewBetween((long.MinValue, ""), (now, "\uffff\uffff")).Take(scan).ToList();
            foreach (var (_, id) in candidates)
            {
                if (claimed.Count >= command.Max) break;
                var task = _tasks[id];
                if (command.Agent is not null && task.Agent != command.Agent) continue;
                if (command.Component is not null && task.Component != command.Component) continue;
                _due.Remove((task.RetryAt.ToUnixTimeMilliseconds(), id));
                if (task.Deliveries >= task.MaxAttempts)
                {
                    DeadLetter(task, DeadLetterReasons.DeliveriesExceeded, $"delivered {task.Deliveries} times (max_attempts {task.MaxAttempts})", command.Now,
                        command.EventIdBase + "-" + ++n, command.Channels.Exhausted, command.Limits, events);
                    dead++;
                    continue;
                }
                var lease = command.LeaseSeed + "-" + claimed.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var until = command.Now + command.Lease;
                var leased = task with
                {
                    // The delivery enters the history with its outcome (failed, fatal, lease_expired, deferred), as in Redis.
                    State = RetryTaskState.InFlight, Lease = lease, Worker = command.Worker, LeaseUntil = until, Deliveries = task.Deliveries + 1,
                };
                _tasks[id] = leased;
                _inFlight.Add((until.ToUnixTimeMilliseconds(), id));
                Bump("deliveries", leased, 1);
                claimed.Add(leased);
            }
            result = new ClaimOutcome(claimed, reaped, dead);
        }
        Publish(events);
        return Task.FromResult(result);
    }

    public Task<int> DeferAsync(IReadOnlyList<Deferral> deferrals, DateTimeOffset now, int historyPerTask, CancellationToken cancellationToken = default)
    {
        var count = 0;
        lock (_gate)
        {
            foreach (var d in deferrals)
            {
                if (!_tasks.TryGetValue(d.TaskId, out var task) || task.State != RetryTaskState.InFlight || task.Lease != d.Lease) continue;
                _inFlight.Remove((task.LeaseUntil!.Value.ToUnixTimeMilliseconds(), d.TaskId));
                var back = task with
                {
                    State = RetryTaskState.Pending, Lease = null, Worker = null, LeaseUntil = null, Deliveries = task.Deliveries - 1, RetryAt = d.Until,
                    History = Append(task.History, new RetryHistoryEntry { At = now, Event = "deferred", Attempt = task.Attempt, Delivery = task.Deliveries, Worker = task.Worker, RetryAt = d.Until, Note = d.Note }, historyPerTask),
                };
                Bump("deliveries", back, -1);
                _tasks[d.TaskId] = back;
                _due.Add((d.Until.ToUnixTimeMilliseconds(), d.TaskId));
                count++;
            }
        }
        return Task.FromResult(count);
    }

    public Task<RetryTask?> GetAsync(string taskId, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult(_tasks.GetValueOrDefault(taskId));
    }

    public Task<CompleteOutcome> CompleteAsync(CompleteCommand command, CancellationToken cancellationToken = default)
    {
        var events = new List<(string, string)>();
        CompleteOutcome result;
        lock (_gate)
        {
            result = Complete(command, events);
        }
        Publish(events);
        return Task.FromResult(result);
    }

    private CompleteOutcome Complete(CompleteCommand c, List<(string, string)> events)
    {
        if (!_tasks.TryGetValue(c.TaskId, out var task)) return new CompleteOutcome(LeaseStatus.Missing, null, null, null);
        if (task.State != RetryTaskState.InFlight || task.Lease != c.Lease) return new CompleteOutcome(LeaseStatus.Foreign, null, task, null);
        if (task.LeaseUntil <= c.Now) return new CompleteOutcome(LeaseStatus.Expired, null, task, null);
        if (c.ExpectedAttempt >= 0 && (task.Attempt != c.ExpectedAttempt || task.Component != c.Component)) return new CompleteOutcome(LeaseStatus.Changed, null, task, null);
        var now = c.Now.ToUnixTimeMilliseconds();
        _inFlight.Remove((task.LeaseUntil!.Value.ToUnixTimeMilliseconds(), c.TaskId));
        var entry = new RetryHistoryEntry
        {
            At = c.Now, Event = c.Outcome.ToString().ToLowerInvariant(), Attempt = task.Attempt, Delivery = task.Deliveries, Worker = task.Worker,
            ErrorType = c.ErrorType, Error = c.Error, Signature = c.Signature,
        };
        var done = task with { State = RetryTaskState.Pending, Lease = null, LeaseUntil = null, History = Append(task.History, entry, c.Limits.HistoryPerTask) };

        switch (c.Outcome)
        {
            case RetryOutcome.Succeeded:
                Remove(done);
                Bump("succeeded", done, 1);
                Event(events, c.Channels.Success, RetryEventTypes.Success, c.EventId, done, c.Now, c.Limits, worker: task.Worker);
                return new CompleteOutcome(LeaseStatus.Ok, CompletionResult.Succeeded, done, null);
            case RetryOutcome.Fatal:
                return new CompleteOutcome(LeaseStatus.Ok, CompletionResult.DeadLettered,
                    DeadLetter(done, DeadLetterReasons.Fatal, c.Error ?? "reported fatal by " + task.Worker, c.Now, c.EventId, c.Channels.Exhausted, c.Limits, events), null);
        }

        // Failed: poison pill first, then attempts, then the budget; otherwise the next attempt.
        var workers = new Dictionary<string, IReadOnlyList<string>>(done.FailureWorkers, StringComparer.Ordinal);
        if (c.Signature is not null)
        {
            var list = workers.GetValueOrDefault(c.Signature)?.ToList() ?? [];
            if (task.Worker is not null && !list.Contains(task.Worker) && list.Count < c.Limits.PoisonDistinctWorkers) list.Add(task.Worker);
            workers[c.Signature] = list;
            while (workers.Count > 10) workers.Remove(workers.Keys.First(k => k != c.Signature));
        }
        done = done with { FailureWorkers = workers };
        if (c.Signature is not null && workers[c.Signature].Count >= c.Limits.PoisonDistinctWorkers)
            return Dead(DeadLetterReasons.PoisonPill, $"the same error failed on {workers[c.Signature].Count} distinct workers ({string.Join(", ", workers[c.Signature])})");
        if (task.Attempt >= task.MaxAttempts)
            return Dead(DeadLetterReasons.AttemptsExhausted, $"attempt {task.Attempt} of {task.MaxAttempts} failed");
        var window = BudgetWindow(task.Component, now, c.Budget!.Window);
        if (window.Count + 1 > c.Budget.Allowed)
        {
            var use = Use(window.Count, c.Budget);
            var dead = DeadLetter(done, DeadLetterReasons.BudgetExhausted, $"retry budget of {task.Component} exhausted ({use.Retries} of {use.Allowed} retries in the last minute)",
                c.Now, c.EventId, c.Channels.Exhausted, c.Limits, events);
            return new CompleteOutcome(LeaseStatus.Ok, CompletionResult.DeadLettered, dead, use);
        }
        window.Add((now, c.TaskId + ":" + Interlocked.Increment(ref _sequence)));
        var retryAt = c.Now.AddMilliseconds(c.NextDelayMs);
        var next = done with { Attempt = task.Attempt + 1, PrevDelayMs = c.NextDelayMs, RetryAt = retryAt, Worker = null };
        _tasks[c.TaskId] = next;
        _due.Add((retryAt.ToUnixTimeMilliseconds(), c.TaskId));
        Event(events, c.Channels.Scheduled, RetryEventTypes.Scheduled, c.EventId, next, c.Now, c.Limits, retryAt: retryAt);
        return new CompleteOutcome(LeaseStatus.Ok, CompletionResult.Rescheduled, next, Use(window.Count, c.Budget));

        CompleteOutcome Dead(string reason, string detail) =>
            new(LeaseStatus.Ok, CompletionResult.DeadLettered, DeadLetter(done, reason, detail, c.Now, c.EventId, c.Channels.Exhausted, c.Limits, events), null);
    }

    public Task<ExtendOutcome> ExtendAsync(string taskId, string lease, TimeSpan extension, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (!_tasks.TryGetValue(taskId, out var task)) return Task.FromResult(new ExtendOutcome(LeaseStatus.Missing, null));
            if (task.State != RetryTaskState.InFlight || task.Lease != lease) return Task.FromResult(new ExtendOutcome(LeaseStatus.Foreign, task));
            if (task.LeaseUntil <= now) return Task.FromResult(new ExtendOutcome(LeaseStatus.Expired, task));
            _inFlight.Remove((task.LeaseUntil!.Value.ToUnixTimeMilliseconds(), taskId));
            var extended = task with { LeaseUntil = now + extension };
            _tasks[taskId] = extended;
            _inFlight.Add((extended.LeaseUntil!.Value.ToUnixTimeMilliseconds(), taskId));
            return Task.FromResult(new ExtendOutcome(LeaseStatus.Ok, extended));
        }
    }

    public Task<Page<RetryTask>> ListDeadLettersAsync(DeadLetterQuery query, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            IEnumerable<(long Ms, string Id)> source = _dead.Reverse();
            if (IndexCursor.TryDecode(query.Cursor, out var cursor))
                source = source.SkipWhile(e => e.Ms > (long)cursor.Score || e.Ms == (long)cursor.Score && string.CompareOrdinal(e.Id, cursor.Member) >= 0);
            var items = new List<RetryTask>();
            string? next = null;
            foreach (var (ms, id) in source)
            {
                var t = _tasks[id];
                if (query.Agent is not null && t.Agent != query.Agent || query.Component is not null && t.Component != query.Component) continue;
                if (items.Count == query.Limit)
                {
                    var last = items[^1];
                    next = new IndexCursor(last.DeadLetteredAt!.Value.ToUnixTimeMilliseconds(), last.TaskId).Encode();
                    break;
                }
                items.Add(t);
            }
            return Task.FromResult(new Page<RetryTask>(items, next));
        }
    }

    public Task<ReplayOutcome> ReplayAsync(ReplayCommand command, CancellationToken cancellationToken = default)
    {
        var events = new List<(string, string)>();
        ReplayOutcome result;
        lock (_gate)
        {
            var now = command.Now.ToUnixTimeMilliseconds();
            while (_replays.Count > 0 && _replays.Peek() <= now - 60_000) _replays.Dequeue();
            long remaining = Math.Max(0, command.RatePerMinute - _replays.Count);
            IEnumerable<(long Ms, string Id)> matching = command.TaskId is { } one
                ? _tasks.TryGetValue(one, out var t1) && t1.State == RetryTaskState.DeadLettered ? [(t1.DeadLetteredAt!.Value.ToUnixTimeMilliseconds(), one)] : []
                : _dead.Where(e => (command.Agent is null || _tasks[e.Id].Agent == command.Agent) && (command.Component is null || _tasks[e.Id].Component == command.Component));
            var moved = new List<string>();
            var limited = 0;
            var considered = 0;
            var more = false;
            var n = 0;
            foreach (var (ms, id) in matching.ToList())
            {
                if (considered >= command.Max) { more = true; break; }
                considered++;
                if (command.DryRun) { moved.Add(id); continue; }
                if (moved.Count >= remaining) { limited++; more = true; continue; }
                moved.Add(id);
                var t = _tasks[id];
                _dead.Remove((ms, id));
                Bump("dead", t, -1);
                var back = t with
                {
                    State = RetryTaskState.Pending, RetryAt = command.Now, DeadLetteredAt = null, DeadReason = null, DeadDetail = null, Worker = null,
                    Attempt = command.ResetAttempts ? 1 : t.Attempt,
                    Deliveries = command.ResetAttempts ? 0 : t.Deliveries,
                    MaxAttempts = command.ResetAttempts ? t.MaxAttempts : Math.Max(t.MaxAttempts, t.Deliveries + 1),
                    FailureWorkers = command.ResetAttempts ? new Dictionary<string, IReadOnlyList<string>>() : t.FailureWorkers,
                    History = Append(t.History, new RetryHistoryEntry { At = command.Now, Event = "replayed", Attempt = command.ResetAttempts ? 1 : t.Attempt, Note = command.ResetAttempts ? "attempts reset" : "attempts kept" }, command.Limits.HistoryPerTask),
                };
                _tasks[id] = back;
                _due.Add((now, id));
                _idempotency.TryAdd(back.IdempotencyKey, id);
                _replays.Enqueue(now);
                Event(events, command.Channels.Scheduled, RetryEventTypes.Scheduled, command.EventIdBase + "-" + ++n, back, command.Now, command.Limits, retryAt: command.Now, reason: "replayed");
            }
            result = new ReplayOutcome(moved, limited, command.DryRun ? remaining : Math.Max(0, remaining - moved.Count), more);
        }
        Publish(events);
        return Task.FromResult(result);
    }

    public Task<PurgeOutcome> PurgeAsync(PurgeCommand command, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            List<string> ids;
            var more = false;
            if (command.TaskIds is { } given)
            {
                ids = given.Where(id => _tasks.TryGetValue(id, out var t) && t.State == RetryTaskState.DeadLettered).ToList();
            }
            else
            {
                var cutoff = command.OlderThan!.Value.ToUnixTimeMilliseconds();
                var old = _dead.TakeWhile(e => e.Ms < cutoff).Take(command.Max + 1).Select(e => e.Id).ToList();
                more = old.Count > command.Max;
                ids = old.Take(command.Max).ToList();
            }
            foreach (var id in ids)
            {
                var t = _tasks[id];
                _dead.Remove((t.DeadLetteredAt!.Value.ToUnixTimeMilliseconds(), id));
                Bump("dead", t, -1);
                Bump("purged", t, 1);
                _tasks.Remove(id);
            }
            return Task.FromResult(new PurgeOutcome(ids.Count, more));
        }
    }

    public Task<QueueCounts> CountAsync(string? agent, string? component, DateTimeOffset now, TimeSpan budgetWindow, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var ms = now.ToUnixTimeMilliseconds();
            // One scope: the component when given, else the agent, else everything (as the Redis counters).
            bool Match(RetryTask t) => component is not null ? t.Component == component : agent is null || t.Agent == agent;
            var scope = Scope(agent, component);
            return Task.FromResult(new QueueCounts
            {
                Pending = _due.Count(e => Match(_tasks[e.Id])),
                DueNow = _due.TakeWhile(e => e.Ms <= ms).Count(e => Match(_tasks[e.Id])),
                InFlight = _inFlight.Count(e => Match(_tasks[e.Id])),
                DeadLetters = _dead.Count(e => Match(_tasks[e.Id])),
                DeadLettersTrimmed = Counter("trimmed" + scope),
                Tasks = Counter("tasks" + scope),
                Deliveries = Counter("deliveries" + scope),
                Succeeded = Counter("succeeded" + scope),
                DeadLettered = Counter("dead_lettered" + scope),
                RecentRetries = component is null ? 0 : BudgetWindow(component, ms, budgetWindow).Count,
            });
        }
    }

    public Task<SweepOutcome> SweepAsync(DateTimeOffset now, string eventIdBase, QueueLimits limits, RetryChannels channels, CancellationToken cancellationToken = default)
    {
        var events = new List<(string, string)>();
        SweepOutcome result;
        lock (_gate)
        {
            var n = 0;
            var (requeued, dead) = Reap(now, limits, eventIdBase, channels, events, ref n);
            var trimmed = Trim(now, limits);
            result = new SweepOutcome(requeued, dead, trimmed);
        }
        Publish(events);
        return Task.FromResult(result);
    }

    public Task<IReadOnlyList<string>> ReadAuditAsync(int count, CancellationToken cancellationToken = default)
    {
        lock (_gate) return Task.FromResult<IReadOnlyList<string>>(_audit.Take(count).ToList());
    }

    /// <summary>Expired leases go back to due now, or to the dead letters when the task was delivered max_attempts times.</summary>
    private (int Requeued, int Dead) Reap(DateTimeOffset now, QueueLimits limits, string eventIdBase, RetryChannels channels, List<(string, string)> events, ref int n)
    {
        var ms = now.ToUnixTimeMilliseconds();
        var expired = _inFlight.TakeWhile(e => e.Ms <= ms).Take(limits.ReapBatch).ToList();
        int requeued = 0, dead = 0;
        foreach (var e in expired)
        {
            _inFlight.Remove(e);
            var task = _tasks[e.Id];
            var entry = new RetryHistoryEntry { At = now, Event = "lease_expired", Attempt = task.Attempt, Delivery = task.Deliveries, Worker = task.Worker };
            var back = task with { State = RetryTaskState.Pending, Lease = null, LeaseUntil = null, RetryAt = now, History = Append(task.History, entry, limits.HistoryPerTask) };
            if (back.Deliveries >= back.MaxAttempts)
            {
                DeadLetter(back, DeadLetterReasons.DeliveriesExceeded, $"lease expired after {back.Deliveries} deliveries (max_attempts {back.MaxAttempts})", now,
                    eventIdBase + "-" + ++n, channels.Exhausted, limits, events);
                dead++;
                continue;
            }
            _tasks[e.Id] = back;
            _due.Add((ms, e.Id));
            requeued++;
        }
        return (requeued, dead);
    }

    private RetryTask DeadLetter(RetryTask task, string reason, string detail, DateTimeOffset now, string eventId, string channel, QueueLimits limits, List<(string, string)> events)
    {
        var dead = task with
        {
            State = RetryTaskState.DeadLettered, Lease = null, LeaseUntil = null, DeadLetteredAt = now, DeadReason = reason, DeadDetail = detail,
            History = Append(task.History, new RetryHistoryEntry { At = now, Event = "dead_lettered", Attempt = task.Attempt, Delivery = task.Deliveries, Note = reason + ": " + detail }, limits.HistoryPerTask),
        };
        _tasks[task.TaskId] = dead;
        if (_idempotency.TryGetValue(task.IdempotencyKey, out var owner) && owner == task.TaskId) _idempotency.Remove(task.IdempotencyKey);
        _dead.Add((now.ToUnixTimeMilliseconds(), task.TaskId));
        Bump("dead", dead, 1);
        Bump("dead_lettered", dead, 1);
        Event(events, channel, RetryEventTypes.Exhausted, eventId, dead, now, limits, reason: reason, detail: detail);
        Trim(now, limits);
        return dead;
    }

    /// <summary>Drops dead letters older than the age cap, then the oldest beyond the count cap; each counted as trimmed.</summary>
    private int Trim(DateTimeOffset now, QueueLimits limits)
    {
        var cutoff = (now - limits.DeadLetterMaxAge).ToUnixTimeMilliseconds();
        var trimmed = 0;
        while (_dead.Count > 0 && (_dead.Min.Ms < cutoff || _dead.Count > limits.DeadLetterMaxCount))
        {
            var (_, id) = _dead.Min;
            _dead.Remove(_dead.Min);
            var t = _tasks[id];
            _tasks.Remove(id);
            Bump("dead", t, -1);
            Bump("trimmed", t, 1);
            trimmed++;
        }
        return trimmed;
    }

    private void Remove(RetryTask task)
    {
        _tasks.Remove(task.TaskId);
        if (_idempotency.TryGetValue(task.IdempotencyKey, out var owner) && owner == task.TaskId) _idempotency.Remove(task.IdempotencyKey);
    }

    private SortedSet<(long Ms, string Id)> BudgetWindow(string component, long now, TimeSpan window)
    {
        if (!_budgets.TryGetValue(component, out var set)) _budgets[component] = set = new SortedSet<(long, string)>(Ascending);
        var cutoff = now - (long)window.TotalMilliseconds;
        while (set.Count > 0 && set.Min.Ms <= cutoff) set.Remove(set.Min);
        return set;
    }

    private static BudgetUse Use(long retries, BudgetCheck b) =>
        new(retries, b.Outcomes, b.Allowed, b.Outcomes == 0 ? 0 : (double)retries / b.Outcomes, b.Ratio);

    private static IReadOnlyList<RetryHistoryEntry> Append(IReadOnlyList<RetryHistoryEntry> history, RetryHistoryEntry entry, int max)
    {
        var list = new List<RetryHistoryEntry>(history) { entry };
        return list.Count > max ? list.GetRange(list.Count - max, max) : list;
    }

    private static string Scope(string? agent, string? component) =>
        component is not null ? "|c|" + component : agent is not null ? "|a|" + agent : "";

    private void Bump(string name, RetryTask t, long delta)
    {
        foreach (var key in (string[])[name, name + "|a|" + t.Agent, name + "|c|" + t.Component])
            _counters[key] = _counters.GetValueOrDefault(key) + delta;
    }

    private long Counter(string key) => _counters.GetValueOrDefault(key);

    private void Event(List<(string, string)> events, string channel, string type, string eventId, RetryTask t, DateTimeOffset now, QueueLimits limits,
        DateTimeOffset? retryAt = null, string? reason = null, string? detail = null, string? worker = null)
    {
        var json = RetryEventJson.Create(type, eventId, t, now, retryAt, reason, detail, worker);
        _audit.AddFirst(json);
        while (_audit.Count > limits.AuditStreamMaxLength) _audit.RemoveLast();
        events.Add((channel, json));
    }

    private void Publish(List<(string Channel, string Json)> events)
    {
        foreach (var (channel, json) in events) bus.Publish(channel, json);
    }
}
