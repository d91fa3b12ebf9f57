using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Retries;
using ErrorCoordinator.Redis;
using ErrorCoordinator.Redis.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ErrorCoordinator.Bench;

/// <summary>
/// The retry queue against a real Redis (--retries-only): enqueue_retry and claim+complete throughput at concurrency 1 and 64,
/// and claim latency with 1,000 and with 100,000 pending tasks that are not yet due, each next to the original design's
/// queue (RPUSH/LPOP on one list, popping and re-pushing items that are not yet due) measured in the same run.
/// </summary>
internal static class RetryBench
{
    private static readonly int[] Concurrencies = [1, 64];
    private static readonly int[] PendingSizes = [1_000, 100_000];
    private const int Components = 64;
    /// <summary>Items in the original-style list before its pop phase (about 200 MB in Redis at most, released after the phase).</summary>
    private const int SeedFill = 1_000_000;
    /// <summary>Claims run before each latency measurement and not recorded (JIT, connection, script cache).</summary>
    private const int Warmup = 300;

    private sealed record Phase(string Name, int Concurrency, double OpsPerSecond, double P50, double P99, double RoundTripsPerOp, double ScriptsPerOp, long Errors, string? FirstError);

    public static async Task<int> RunAsync(string redis, bool isPrivate, double seconds, double warmupSeconds, bool quick, CancellationToken ct)
    {
        var adminConfig = RedisConnector.Parse(redis);
        adminConfig.AllowAdmin = true;
        using var admin = await RedisConnector.ConnectAsync(adminConfig, cancellationToken: ct);
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var version = ((string?)await server.ExecuteAsync("INFO", "server") ?? "").Split('\n').FirstOrDefault(l => l.StartsWith("redis_version:", StringComparison.Ordinal))?.Trim()[14..] ?? "?";
        var runId = Guid.NewGuid().ToString("N")[..8];
        var measure = TimeSpan.FromSeconds(seconds);
        var warmup = TimeSpan.FromSeconds(warmupSeconds);

        Console.WriteLine("ErrorCoordinator bench: retry queue (enqueue_retry, claim_retries + complete_retry) vs the original design's list queue");
        Console.WriteLine($"  redis {version} ({(isPrivate ? "private redis-server" : "given by --redis")}); run id {runId}; .NET {Environment.Version}, {Environment.ProcessorCount} cores; client and redis share this machine");
        Console.WriteLine($"  each throughput phase: {warmupSeconds:0.#} s warm-up, {seconds:0.#} s measured, closed loop; tasks spread over {Components} components");
        Console.WriteLine();

        var phases = new List<Phase>();
        var prefixes = new List<string>();
        try
        {
            foreach (var c in Concurrencies)
            {
                // Ours: enqueue_retry through the service (validation, budget counts from the breaker and error store, one script).
                var prefix = $"bench-{runId}-rq-enq-c{c}:";
                prefixes.Add(prefix);
                await using (var host = await Host.CreateAsync(redis, prefix, ct))
                {
                    long seq = 0; // unique task ids across warm-up and measurement
                    phases.Add(await MeasureAsync("enqueue_retry", c, host.Mux, server, _ =>
                    {
                        var n = Interlocked.Increment(ref seq);
                        return host.Retries.EnqueueAsync(Request($"t{n}", n, 3_600_000), ct);
                    }, warmup, measure, ct));
                }

                // Original: RPUSH retry:queue + PUBLISH retry_scheduled (enqueueForRetry).
                var seedPrefix = $"bench-{runId}-seed-enq-c{c}:";
                prefixes.Add(seedPrefix);
                using (var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct))
                {
                    var seed = new SeedQueue(mux, seedPrefix);
                    long seq = 0;
                    phases.Add(await MeasureAsync("seed rpush", c, mux, server, _ => seed.EnqueueAsync($"t{Interlocked.Increment(ref seq)}", 0), warmup, measure, ct));
                }
            }

            var enqueueRate = phases.Where(p => p.Name == "enqueue_retry").Max(p => p.OpsPerSecond);
            var fill = (int)Math.Min(400_000, Math.Max(20_000, enqueueRate * 2.5 * (seconds + warmupSeconds)));
            foreach (var c in Concurrencies)
            {
                // Ours: claim 1 due task (reaper, lease, delivery count, breaker read) and complete it as succeeded.
                var prefix = $"bench-{runId}-rq-claim-c{c}:";
                prefixes.Add(prefix);
                await using (var host = await Host.CreateAsync(redis, prefix, ct))
                {
                    Console.Error.Write($"  filling {fill:N0} due tasks ... ");
                    await host.FillAsync(fill, 0, "due", ct);
                    Console.Error.WriteLine("done");
                    phases.Add(await MeasureAsync("claim+complete", c, host.Mux, server, async i =>
                    {
                        var claim = await host.Retries.ClaimAsync("bench-" + (i % 64), 1, 30, cancellationToken: ct);
                        if (claim.Tasks.Count == 0) throw new InvalidOperationException("the queue ran dry");
                        var t = claim.Tasks[0];
                        await host.Retries.CompleteAsync(t.TaskId, t.Lease!, "succeeded", cancellationToken: ct);
                    }, warmup, measure, ct));
                }

                // Original: LPOP (every item due) + PUBLISH retry_success (processRetryQueue without the task itself).
                var seedPrefix = $"bench-{runId}-seed-claim-c{c}:";
                prefixes.Add(seedPrefix);
                using (var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct))
                {
                    var seed = new SeedQueue(mux, seedPrefix);
                    await seed.FillAsync(SeedFill, 0); // pipelined, cheap: more than the fastest phase pops
                    phases.Add(await MeasureAsync("seed lpop", c, mux, server, async _ =>
                    {
                        if (await seed.ClaimAsync(long.MaxValue) == 0) throw new InvalidOperationException("the list ran dry");
                    }, warmup, measure, ct));
                    await seed.DropAsync();
                }
            }

            // Claim latency with many pending tasks that are not yet due.
            var latency = new List<(string Name, int Pending, int Samples, double P50, double P99, double Max, double RoundTrips, double ScriptUs)>();
            foreach (var pending in PendingSizes)
            {
                var prefix = $"bench-{runId}-rq-lat-{pending}:";
                prefixes.Add(prefix);
                await using (var host = await Host.CreateAsync(redis, prefix, ct))
                {
                    var samples = quick ? 300 : 2000;
                    Console.Error.Write($"  claim latency, {pending:N0} not-yet-due + {samples:N0} due tasks: filling ... ");
                    await host.FillAsync(pending, 3_600_000, "later", ct);
                    await host.FillAsync(samples + Warmup, 0, "due", ct);
                    for (var i = 0; i < Warmup; i++) await host.Retries.ClaimAsync("bench", 1, 600, cancellationToken: ct); // not recorded
                    var ticks = new long[samples];
                    var before = host.Mux.OperationCount;
                    var stats0 = await CommandStats.SnapshotAsync(server);
                    // Claims only (nothing completed in between), so the commandstats delta is the claims' alone.
                    for (var i = 0; i < samples; i++)
                    {
                        var t0 = Stopwatch.GetTimestamp();
                        var claim = await host.Retries.ClaimAsync("bench", 1, 600, cancellationToken: ct);
                        ticks[i] = Stopwatch.GetTimestamp() - t0;
                        if (claim.Tasks.Count != 1) throw new InvalidOperationException("no due task");
                    }
                    var delta = CommandStats.Delta(stats0, await CommandStats.SnapshotAsync(server));
                    var rt = (double)(host.Mux.OperationCount - before) / samples;
                    var scriptUs = delta.Where(d => CommandStats.ScriptCommands.Contains(d.Key)).Sum(d => d.Value.Usec) / (double)samples;
                    var counts = (await host.Retries.StatsAsync(cancellationToken: ct)).Counts;
                    if (counts.Pending != pending || counts.InFlight != samples + Warmup)
                        throw new InvalidOperationException($"expected {pending} pending and {samples + Warmup} in flight after the claims, found {counts.Pending} and {counts.InFlight}");
                    Array.Sort(ticks);
                    latency.Add(("claim_retries", pending, samples, Us(ticks, 50), Us(ticks, 99), Us(ticks, 100), rt, scriptUs));
                    Console.Error.WriteLine($"p99 {Us(ticks, 99):N0} us");
                }

                var seedPrefix = $"bench-{runId}-seed-lat-{pending}:";
                prefixes.Add(seedPrefix);
                using (var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct))
                {
                    var seed = new SeedQueue(mux, seedPrefix);
                    var samples = pending <= 1_000 ? (quick ? 5 : 20) : (quick ? 1 : 2);
                    Console.Error.Write($"  seed claim latency, {pending:N0} not-yet-due: filling ... ");
                    await seed.FillAsync(pending, long.MaxValue / 2);
                    var ticks = new long[samples];
                    long pops = 0;
                    var before = mux.OperationCount;
                    for (var i = 0; i < samples; i++)
                    {
                        await seed.EnqueueAsync("due-" + i, 0, publish: false); // the newest retry sits behind every pending one
                        var t0 = Stopwatch.GetTimestamp();
                        pops += await seed.ClaimAsync(TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds());
                        ticks[i] = Stopwatch.GetTimestamp() - t0;
                    }
                    var rt = (double)(mux.OperationCount - before - samples) / samples;
                    Array.Sort(ticks);
                    latency.Add(("seed lpop/rpush", pending, samples, Us(ticks, 50), Us(ticks, 99), Us(ticks, 100), rt, double.NaN));
                    Console.Error.WriteLine($"{pops / samples:N0} pops per claim, p50 {Us(ticks, 50):N0} us");
                }
            }

            Print(phases, latency);
        }
        finally
        {
            if (!isPrivate)
            {
                var db = admin.GetDatabase();
                foreach (var p in prefixes)
                    await foreach (var key in server.KeysAsync(pattern: p + "*", pageSize: 1000)) await db.KeyDeleteAsync(key);
            }
        }
        var failed = phases.Where(p => p.Errors > 0).ToList();
        foreach (var f in failed) Console.Error.WriteLine($"bench: {f.Name} c={f.Concurrency}: {f.Errors} failed operations, first: {f.FirstError}");
        return failed.Count == 0 ? 0 : 1;
    }

    private static double Us(long[] sorted, double p)
    {
        if (sorted.Length == 0) return 0;
        var i = Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[i] * 1e6 / Stopwatch.Frequency;
    }

    private static RetryRequest Request(string id, long i, long delayMs) => new()
    {
        TaskId = id, Agent = "agent-" + (i % 16), Component = "svc-" + (i % Components), ErrorType = "TimeoutError",
        Message = $"upstream timed out after {3000 + i % 7} ms", Payload = $"{{\"job\":{i}}}", MaxAttempts = 3,
        BaseDelayMs = delayMs, MaxDelayMs = Math.Max(delayMs, 1), Backoff = "constant",
    };

    private static async Task<Phase> MeasureAsync(string name, int concurrency, IConnectionMultiplexer mux, IServer server, Func<long, Task> op,
        TimeSpan warmup, TimeSpan measure, CancellationToken ct)
    {
        Console.Error.Write($"  {name,-15} c={concurrency,-3} warm-up ... ");
        var warm = await LoadRunner.RunAsync(op, concurrency, warmup, ct);
        GC.Collect();
        await Task.Delay(100, ct);
        Console.Error.Write("measuring ... ");
        var before = await CommandStats.SnapshotAsync(server);
        var clientBefore = mux.OperationCount;
        var run = await LoadRunner.RunAsync(op, concurrency, measure, ct);
        var clientAfter = mux.OperationCount;
        var delta = CommandStats.Delta(before, await CommandStats.SnapshotAsync(server));
        Console.Error.WriteLine($"{run.OpsPerSecond:N0} ops/s");
        var ops = Math.Max(1, run.Ops);
        var scripts = delta.Where(d => CommandStats.ScriptCommands.Contains(d.Key)).Sum(d => d.Value.Calls);
        return new Phase(name, concurrency, run.OpsPerSecond, run.PercentileMicros(50), run.PercentileMicros(99), (double)(clientAfter - clientBefore) / ops,
            (double)scripts / ops, run.Errors + warm.Errors, run.FirstError ?? warm.FirstError);
    }

    private static void Print(List<Phase> phases, List<(string Name, int Pending, int Samples, double P50, double P99, double Max, double RoundTrips, double ScriptUs)> latency)
    {
        var sb = new StringBuilder();
        sb.AppendLine("Retry queue results (latency in microseconds; cmds/op = client commands per op, pipelined ones counted each; scripts/op = EVALSHA per op)");
        sb.AppendLine();
        var header = $"{"operation",-15} {"conc",4} {"ops/s",10} {"p50 us",9} {"p99 us",9} {"cmds/op",7} {"scripts/op",10} {"vs original",12} {"errors",6}";
        sb.AppendLine(header);
        sb.AppendLine(new string('-', header.Length));
        foreach (var (ours, seed) in new[] { ("enqueue_retry", "seed rpush"), ("claim+complete", "seed lpop") })
            foreach (var c in Concurrencies)
            {
                var o = phases.Single(p => p.Name == ours && p.Concurrency == c);
                var s = phases.Single(p => p.Name == seed && p.Concurrency == c);
                foreach (var p in new[] { s, o })
                    sb.AppendLine($"{p.Name,-15} {c,4} {p.OpsPerSecond,10:N0} {p.P50,9:N0} {p.P99,9:N0} {p.RoundTripsPerOp,7:0.00} {p.ScriptsPerOp,10:0.00} {(p == s ? "-" : $"{o.OpsPerSecond / s.OpsPerSecond:0.00}x"),12} {p.Errors,6}");
            }
        sb.AppendLine();
        sb.AppendLine("  enqueue_retry  = the service: validation, scrubbing, outcome counts for the budget (breaker calls + error reports of the");
        sb.AppendLine("                   last minute), then one script (idempotency, queue cap, budget, due ZSET, history, PUBLISH + audit XADD).");
        sb.AppendLine("  seed rpush     = the original enqueueForRetry: RPUSH retry:queue + PUBLISH retry_scheduled; no idempotency, budget or cap.");
        sb.AppendLine("  claim+complete = claim_retries(max 1) (one script: reaper, due ZSET -> in-flight with a lease, delivery count; plus the");
        sb.AppendLine("                   breaker read of the task's component) and complete_retry(succeeded) (one script).");
        sb.AppendLine("  seed lpop      = the original processRetryQueue on a list where every item is due: LPOP + PUBLISH retry_success; a worker");
        sb.AppendLine("                   that dies after the LPOP loses the task (no lease), and nothing is completed.");
        sb.AppendLine();
        sb.AppendLine("Claim latency with pending tasks that are not yet due (concurrency 1)");
        var lh = $"{"operation",-16} {"pending",9} {"samples",8} {"p50 us",12} {"p99 us",12} {"max us",12} {"cmds/claim",10} {"redis us/claim",14}";
        sb.AppendLine(lh);
        sb.AppendLine(new string('-', lh.Length));
        foreach (var l in latency)
            sb.AppendLine($"{l.Name,-16} {l.Pending,9:N0} {l.Samples,8:N0} {l.P50,12:N0} {l.P99,12:N0} {l.Max,12:N0} {l.RoundTrips,10:N1} {(double.IsNaN(l.ScriptUs) ? "-" : l.ScriptUs.ToString("0.0", CultureInfo.InvariantCulture)),14}");
        sb.AppendLine();
        sb.AppendLine("  claim_retries   = one script reading only due entries (ZRANGEBYSCORE -inf now LIMIT), plus the breaker read of the");
        sb.AppendLine("                    task's component (5 reads pipelined in one batch). cmds/claim = client commands per claim;");
        sb.AppendLine("                    redis us/claim = the claim script's execution time in Redis (INFO commandstats usec of EVALSHA).");
        sb.AppendLine("  seed lpop/rpush = the original loop: LPOP, and RPUSH back every item not yet due until a due one comes up (the newest");
        sb.AppendLine("                    retry sits behind every pending one), without its 100 ms sleep per re-pushed item (with it, x100,000 sleeps).");
        var ours1 = latency.Single(l => l.Name == "claim_retries" && l.Pending == PendingSizes[0]);
        var ours2 = latency.Single(l => l.Name == "claim_retries" && l.Pending == PendingSizes[1]);
        var seed1 = latency.Single(l => l.Name != "claim_retries" && l.Pending == PendingSizes[0]);
        var seed2 = latency.Single(l => l.Name != "claim_retries" && l.Pending == PendingSizes[1]);
        sb.AppendLine();
        var cost = ours2.ScriptUs / ours1.ScriptUs;
        sb.AppendLine($"claim_retries at {PendingSizes[1]:N0} vs {PendingSizes[0]:N0} pending: Redis script time {cost:0.00}x, p50 {ours2.P50 / ours1.P50:0.00}x, p99 {ours2.P99 / ours1.P99:0.00}x; " +
                      $"target (claim cost does not grow with not-yet-due tasks: script time within 1.5x): {(cost <= 1.5 ? "MET" : "MISSED")}");
        sb.AppendLine($"seed lpop/rpush p50 at {PendingSizes[1]:N0} vs {PendingSizes[0]:N0} pending: {seed2.P50 / seed1.P50:0.0}x");
        sb.AppendLine($"claim_retries vs seed lpop/rpush, p50 claim latency: {seed1.P50 / ours1.P50:0.0}x faster at {PendingSizes[0]:N0} pending, {seed2.P50 / ours2.P50:0.0}x faster at {PendingSizes[1]:N0} pending");
        Console.Write(sb.ToString());
    }

    /// <summary>The service wired as the host wires it, on its own key and channel prefix, with the budget out of the way.</summary>
    private sealed class Host : IAsyncDisposable
    {
        private ServiceProvider _provider = null!;
        public IConnectionMultiplexer Mux { get; private set; } = null!;
        public RetryService Retries { get; private set; } = null!;

        public static async Task<Host> CreateAsync(string redis, string prefix, CancellationToken ct)
        {
            var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct);
            var provider = BenchServices.Build(mux, prefix, (s, c) => s.AddBreakers(c).AddRetries(c),
                new Dictionary<string, string?> { [RetryOptions.Section + ":BudgetMinRetriesPerMinute"] = "1000000" });
            await provider.GetRequiredService<Redis.Scripting.RedisScripts>().LoadAsync(ct);
            return new Host { _provider = provider, Mux = mux, Retries = provider.GetRequiredService<RetryService>() };
        }

        /// <summary>Adds tasks straight through the store's enqueue script (64 at a time), so filling is quick; not measured.</summary>
        public async Task FillAsync(int count, long delayMs, string tag, CancellationToken ct)
        {
            var queue = _provider.GetRequiredService<IRetryQueue>();
            var limits = _provider.GetRequiredService<IOptions<RetryOptions>>().Value.ToLimits();
            var channels = Retries.Channels;
            var now = TimeProvider.System.GetUtcNow();
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = ct }, async (i, token) =>
            {
                var r = Request($"{tag}-{i}", i, delayMs);
                var task = new RetryTask
                {
                    TaskId = r.TaskId, Agent = r.Agent, Component = r.Component, Payload = r.Payload, ErrorType = r.ErrorType, Message = r.Message,
                    Signature = RetryService.Signature(r.ErrorType, r.Message), MaxAttempts = 3, BaseDelayMs = delayMs, MaxDelayMs = Math.Max(delayMs, 1),
                    Backoff = BackoffKind.Constant, IdempotencyKey = r.TaskId, Attempt = 1, PrevDelayMs = delayMs, State = RetryTaskState.Pending,
                    EnqueuedAt = now, RetryAt = now.AddMilliseconds(delayMs),
                };
                var o = await queue.EnqueueAsync(new EnqueueCommand(task, new BudgetCheck(0, 0.1, 1_000_000, TimeSpan.FromMinutes(1)), now, "rte_fill", limits, channels), token);
                if (o.Status != EnqueueStatus.Scheduled) throw new InvalidOperationException($"fill: {o.Status}");
            });
        }

        public async ValueTask DisposeAsync()
        {
            await _provider.DisposeAsync();
            await Mux.DisposeAsync();
        }
    }

    /// <summary>The original design's queue: one list, JSON items with retryAfter, RPUSH to enqueue, LPOP to dequeue.</summary>
    private sealed class SeedQueue(IConnectionMultiplexer mux, string prefix)
    {
        private readonly IDatabase _db = mux.GetDatabase();
        private readonly RedisKey _queue = prefix + "retry:queue";
        private readonly RedisChannel _scheduled = RedisChannel.Literal(prefix + "events:errors:retry_scheduled");
        private readonly RedisChannel _success = RedisChannel.Literal(prefix + "events:errors:retry_success");

        private static string Item(string id, long retryAfter) => JsonSerializer.Serialize(new
        {
            taskId = id, projectId = "proj", agent = "agent-1", error = "upstream timed out", attempt = 1, retryAfter,
            timestamp = TimeProvider.System.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        });

        public async Task EnqueueAsync(string id, long retryAfter, bool publish = true)
        {
            await _db.ListRightPushAsync(_queue, Item(id, retryAfter));
            if (publish) await _db.PublishAsync(_scheduled, JsonSerializer.Serialize(new { type = "retry_scheduled", taskId = id, attempt = 1 }));
        }

        public async Task FillAsync(int count, long retryAfter)
        {
            for (var start = 0; start < count; start += 1000)
            {
                var values = Enumerable.Range(start, Math.Min(1000, count - start)).Select(i => (RedisValue)Item("p" + i, retryAfter)).ToArray();
                await _db.ListRightPushAsync(_queue, values);
            }
        }

        public Task DropAsync() => _db.KeyDeleteAsync(_queue);

        /// <summary>processRetryQueue until one due item is popped: returns the number of pops (0 when the list was empty).</summary>
        public async Task<long> ClaimAsync(long nowMs)
        {
            long pops = 0;
            while (true)
            {
                var item = await _db.ListLeftPopAsync(_queue);
                if (item.IsNull) return pops;
                pops++;
                using var doc = JsonDocument.Parse(item.ToString());
                if (nowMs < doc.RootElement.GetProperty("retryAfter").GetInt64())
                {
                    await _db.ListRightPushAsync(_queue, item);
                    continue;
                }
                await _db.PublishAsync(_success, JsonSerializer.Serialize(new { type = "retry_success", taskId = doc.RootElement.GetProperty("taskId").GetString() }));
                return pops;
            }
        }
    }
}
