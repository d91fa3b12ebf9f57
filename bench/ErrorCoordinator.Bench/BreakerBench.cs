using System.Globalization;
using System.Text;
using ErrorCoordinator.Core.Breakers;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Redis;
using ErrorCoordinator.Redis.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace ErrorCoordinator.Bench;

/// <summary>
/// check_breaker and record_outcome (the real BreakerService on the Redis store, wired as the host wires it) against a raw
/// PING loop through the same connection (the floor) and the original design's read-then-write breaker (HGET the state,
/// then HGET/HSET a failure counter in separate commands), at concurrency 1 and 64, all in one run.
/// </summary>
internal static class BreakerBench
{
    private const string Ping = "PING floor";
    private const string Check = "check_breaker";
    private const string Record = "record_outcome";
    private const string SeedCheck = "seed check";
    private const string SeedRecord = "seed record";
    private const string RawCheck = "check script";
    private const int Components = 16;

    public static async Task<List<PhaseResult>> RunAsync(string redis, IServer admin, TimeSpan warmup, TimeSpan measure, string runId, List<string> prefixes,
        Func<string, int, IConnectionMultiplexer, IServer, Func<long, Task>, TimeSpan, TimeSpan, CancellationToken, Task<PhaseResult>> measureAsync, CancellationToken ct)
    {
        var results = new List<PhaseResult>();
        foreach (var c in new[] { 1, 64 })
        {
            var prefix = $"bench-{runId}-cb-c{c}:";
            prefixes.Add(prefix);
            using var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct);
            await using var provider = BenchServices.Build(mux, prefix, (s, c) => s.AddBreakers(c));
            var breakers = provider.GetRequiredService<BreakerService>();
            var names = Enumerable.Range(0, Components).Select(i => $"dep-{i:D2}").ToArray();
            // A long window so the phase's calls all stay in it (the lost-update check sums them); 10% failures keep it closed.
            foreach (var n in names)
            {
                await breakers.ConfigureAsync(n, new BreakerPolicyUpdate { SamplingSeconds = 600 }, ct);
                for (var i = 0; i < 20; i++) await breakers.RecordOutcomeAsync(new BreakerOutcome { Component = n, Success = true, Agent = "warm" }, ct);
            }
            var db = mux.GetDatabase();

            results.Add(await measureAsync(Ping, c, mux, admin, _ => db.PingAsync(), warmup, measure, ct));
            results.Add(await measureAsync(Check, c, mux, admin, i => breakers.CheckAsync(names[i % Components], null, ct), warmup, measure, ct));
            // The check script alone with arguments built once: what the service adds on the client is the difference.
            var scripts = provider.GetRequiredService<ErrorCoordinator.Redis.Scripting.RedisScripts>();
            var keySchema = provider.GetRequiredService<KeySchema>();
            var rawKeys = names.Select(keySchema.BreakerKeys).ToArray();
            var rawArgs = names.Select(n => RawCheckArgs(n, breakers.DefaultsFor(n))).ToArray();
            results.Add(await measureAsync(RawCheck, c, mux, admin, i => scripts.EvaluateAsync(ErrorCoordinator.Redis.Scripting.RedisScripts.CheckBreaker,
                rawKeys[i % Components], rawArgs[i % Components]), warmup, measure, ct));

            var before = await SumCallsAsync(breakers, names, ct);
            var record = await measureAsync(Record, c, mux, admin, i => breakers.RecordOutcomeAsync(new BreakerOutcome
            {
                Component = names[i % Components], Success = i % 10 != 0, Agent = $"agent-{i % 8}", DurationMs = 20 + i % 50,
            }, ct), warmup, measure, ct);
            results.Add(record with { CounterFinal = await SumCallsAsync(breakers, names, ct) - before });

            var seed = new SeedBreaker(db, prefix + "seed:");
            results.Add(await measureAsync(SeedCheck, c, mux, admin, i => seed.CheckAsync(names[i % Components]), warmup, measure, ct));
            var seedRecord = await measureAsync(SeedRecord, c, mux, admin, i => seed.RecordAsync(names[i % Components], i % 10 != 0), warmup, measure, ct);
            results.Add(seedRecord with { CounterFinal = await seed.SumCallsAsync(names) });
        }
        return results;
    }

    private static RedisValue[] RawCheckArgs(string component, BreakerPolicy defaults)
    {
        var now = DateTimeOffset.UtcNow;
        var values = new List<RedisValue>
        {
            now.ToUnixTimeMilliseconds(), now.ToString("O", CultureInfo.InvariantCulture), component, "bench:none", "cbe_bench",
            (long)TimeSpan.FromDays(30).TotalMilliseconds, 1000,
        };
        values.AddRange(BreakerPolicyFields.Values(defaults).Select(v => (RedisValue)v));
        values.Add("0123456789abcdef0123456789abcdef");
        values.Add("");
        return [.. values];
    }

    private static async Task<long> SumCallsAsync(BreakerService breakers, string[] names, CancellationToken ct)
    {
        long sum = 0;
        foreach (var n in names) sum += (await breakers.GetAsync(n, ct)).Window.Calls;
        return sum;
    }

    public static string Print(List<PhaseResult> results)
    {
        PhaseResult Find(string impl, int c) => results.Single(r => r.Implementation == impl && r.Concurrency == c);
        var sb = new StringBuilder();
        sb.AppendLine("Circuit breakers (latency in microseconds; ratios against the PING floor through the same connection, same run)");
        sb.AppendLine();
        var header = $"{"operation",-15} {"conc",4} {"ops/s",10} {"p50 us",9} {"p99 us",9} {"cmds/op",8} {"RT/op",6} {"redis us/op",11} {"p50/PING",9} {"ops vs PING",11} {"lost updates",16} {"errors",6}";
        sb.AppendLine(header);
        sb.AppendLine(new string('-', header.Length));
        foreach (var c in new[] { 1, 64 })
        {
            var floor = Find(Ping, c);
            foreach (var impl in new[] { Ping, Check, RawCheck, Record, SeedCheck, SeedRecord })
            {
                var r = Find(impl, c);
                var lost = r.CounterFinal is { } f ? $"{r.CounterExpected - f:N0} of {r.CounterExpected:N0}" : "n/a";
                sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"{impl,-15} {c,4} {r.OpsPerSecond,10:N0} {r.P50Micros,9:N0} {r.P99Micros,9:N0} {r.ServerCommandsPerOp,8:0.00} {r.RoundTripsPerOp,6:0.00} {r.RedisMicrosPerOp,11:0.0} {r.P50Micros / floor.P50Micros,9:0.00} {r.OpsPerSecond / floor.OpsPerSecond,11:0.00} {lost,16} {r.Errors,6}"));
            }
        }
        sb.AppendLine();
        sb.AppendLine("  seed check / seed record = the original design's breaker: HGET the state (and opened_at when open), then separate");
        sb.AppendLine("                 commands; its failure counter is HGET + HSET, so concurrent writers lose updates. It has no window,");
        sb.AppendLine("                 no probes and no quorum: a floor for 'one plain read', not an equivalent.");
        sb.AppendLine("  check script = the check script alone through the same connection, its arguments built once (a fixed time): the");
        sb.AppendLine("                 gap to check_breaker is the service's client-side work (validation, keys, arguments, reading the reply).");
        sb.AppendLine("  lost updates = outcomes recorded (warm-up + measured) minus the calls the store counted afterwards.");
        foreach (var impl in new[] { Check, Record })
        {
            var r = Find(impl, 1);
            sb.AppendLine($"  {impl} c=1 redis us/op by command: " + string.Join(", ", r.CommandMicrosPerOp.Take(8).Select(kv => $"{kv.Key} {kv.Value:0.0}")));
        }
        foreach (var c in new[] { 1, 64 })
        {
            var ratio = Find(Check, c).P50Micros / Find(Ping, c).P50Micros;
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"check_breaker p50 vs PING p50 at concurrency {c}: {ratio:0.00}x (target <= 1.5x: {(ratio <= 1.5 ? "MET" : "MISSED")}); record_outcome p50 {Find(Record, c).P50Micros / Find(Ping, c).P50Micros:0.00}x PING"));
        }
        return sb.ToString();
    }

    /// <summary>The original design's breaker as written: read the state, decide in the client, write in separate commands.</summary>
    private sealed class SeedBreaker(IDatabase db, string prefix)
    {
        private RedisKey Key(string component) => prefix + "circuit_breakers:" + component;

        public async Task CheckAsync(string component)
        {
            var state = (string?)await db.HashGetAsync(Key(component), "state");
            if (state == "open")
            {
                var openedAt = (long)await db.HashGetAsync(Key(component), "opened_at");
                if (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - openedAt > 300_000)
                    await db.HashSetAsync(Key(component), "state", "half-open");
            }
        }

        public async Task RecordAsync(string component, bool success)
        {
            var key = Key(component);
            var state = (string?)await db.HashGetAsync(key, "state");
            if (state == "half-open")
            {
                await db.HashSetAsync(key, "state", success ? "closed" : "open");
                return;
            }
            // Counting calls the way the design counts crashes: read, add one, write back.
            var calls = (long)await db.HashGetAsync(key, "calls");
            await db.HashSetAsync(key, "calls", calls + 1);
        }

        public async Task<long> SumCallsAsync(string[] names)
        {
            long sum = 0;
            foreach (var n in names) sum += (long)await db.HashGetAsync(Key(n), "calls");
            return sum;
        }
    }
}
