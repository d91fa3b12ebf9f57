using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Redis;
using ErrorCoordinator.Redis.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ErrorCoordinator.Testing.Redis;
using StackExchange.Redis;

namespace ErrorCoordinator.Bench;

/// <summary>
/// report_failure throughput and latency against a real Redis, with in-run references: a seed-style baseline (the
/// original design's sequential single commands) and a raw PING loop (the physical floor), at concurrency 1 and 64.
/// Usage: dotnet run -c Release --project bench/ErrorCoordinator.Bench -- [--seconds N] [--redis URL] [--quick] [--json FILE]
/// </summary>
internal static class Program
{
    private const string Ping = "PING floor";
    private const string Seed = "seed-style";
    private const string Service = "report_failure";
    private const string SeedScript = "seed-1-script";
    private static readonly string[] Implementations = [Ping, Seed, SeedScript, Service];
    private static readonly int[] Concurrencies = [1, 64];
    private const int PoolSize = 16_384;

    private static async Task<int> Main(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine(Options.Usage);
            return 2;
        }
        if (options.Help)
        {
            Console.WriteLine(Options.Usage);
            return 0;
        }
        if (options.SignaturesOnly) return RunSignatures(options) ? 0 : 1;
        if (options.CorrelationOnly) return await CorrelationBench.RunAsync(options.Redis) ? 0 : 1;

        using var cts = new CancellationTokenSource();
        RedisServerProcess? privateRedis = null;
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true; // let the finally blocks stop redis-server
            cts.Cancel();
        };
        // SIGTERM / SIGHUP / SIGQUIT: cancel too, so the run unwinds through the finally below and stops redis-server.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Cancel);
        using var quit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Cancel);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => privateRedis?.Dispose();
        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            cts.Cancel();
        }

        var total = Stopwatch.StartNew();
        try
        {
            string redis;
            if (options.Redis is not null) redis = options.Redis;
            else
            {
                privateRedis = await RedisServerProcess.StartAsync(cts.Token);
                redis = privateRedis.Configuration;
            }
            if (options.TrainingOnly) return await TrainingBench.RunAsync(options, redis, privateRedis is not null, cts.Token);
            if (options.RetriesOnly)
                return await RetryBench.RunAsync(redis, privateRedis is not null, options.Seconds, options.Warmup, options.Quick, cts.Token);
            return await RunAsync(options, redis, privateRedis is not null, cts.Token);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Console.Error.WriteLine("Cancelled.");
            return 130;
        }
        catch (Exception ex) when (ex is RedisUnavailableException or ArgumentException)
        {
            Console.Error.WriteLine("bench: " + ex.Message);
            return 1;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine("bench: failed: " + ex);
            return 1;
        }
        finally
        {
            privateRedis?.Dispose();
            Console.Error.WriteLine($"bench: total run time {total.Elapsed.TotalSeconds:0.0} s");
        }
    }

    private static async Task<int> RunAsync(Options o, string redis, bool isPrivate, CancellationToken ct)
    {
        var config = RedisConnector.Parse(redis);
        if (!config.EndPoints.All(IsLoopback))
            throw new ArgumentException($"The bench only runs against Redis on 127.0.0.1 / localhost; got {string.Join(",", config.EndPoints.Select(RedisConnector.Format))}.");

        // One multiplexer per implementation, each connected exactly as the host connects (RedisConnector), so each
        // phase's client-side operation count is that implementation's alone. The admin connection reads INFO.
        var adminConfig = RedisConnector.Parse(redis);
        adminConfig.AllowAdmin = true; // INFO commandstats
        adminConfig.ClientName = "error-coordinator-bench-admin";
        using var admin = await RedisConnector.ConnectAsync(adminConfig, cancellationToken: ct);
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var info = (string?)await server.ExecuteAsync("INFO", "server") ?? "";
        var redisVersion = InfoField(info, "redis_version") ?? "?";

        var runId = Guid.NewGuid().ToString("N")[..8];
        var reports = Workload.Build(PoolSize);
        var measure = TimeSpan.FromSeconds(o.Seconds);
        var warmup = TimeSpan.FromSeconds(o.Warmup);

        Console.WriteLine(o.BreakersOnly
            ? "ErrorCoordinator bench: check_breaker / record_outcome vs PING floor and the original read-then-write breaker"
            : "ErrorCoordinator bench: report_failure vs seed-style baseline vs PING floor");
        Console.WriteLine($"  redis {redisVersion} at {RedisConnector.Format(config.EndPoints[0])} ({(isPrivate ? "private redis-server, --save \"\" --appendonly no" : "given by --redis / EC_BENCH_REDIS_URL")}); run id {runId}");
        Console.WriteLine($"  .NET {Environment.Version}, {Environment.ProcessorCount} cores, {(GCSettings.IsServerGC ? "server" : "workstation")} GC; client and redis share this machine");
        if (!o.BreakersOnly)
            Console.WriteLine($"  workload: {reports.Length} pre-built reports, {reports.Select(r => r.ErrorType).Distinct().Count()} error types, " +
                          $"{reports.Select(r => SeedBaseline.GenerateErrorSignature(r.ErrorType, r.Message)).Distinct().Count()} distinct seed signatures, " +
                          $"{reports.Select(r => r.Agent).Distinct().Count()} agents, {reports.Count(r => r.Stack is not null) * 100 / reports.Length}% with stacks, " +
                          $"{reports.Count(r => r.Tags is not null) * 100 / reports.Length}% with tags");
        Console.WriteLine($"  each phase: {o.Warmup:0.#} s warm-up, then {o.Seconds:0.#} s measured; closed loop (each worker awaits one op at a time)");
        Console.WriteLine();

        var results = new List<PhaseResult>();
        var prefixes = new List<string>();
        if (o.BreakersOnly)
        {
            try
            {
                var breakerResults = await BreakerBench.RunAsync(redis, server, warmup, measure, runId, prefixes, MeasureAsync, ct);
                Console.Error.WriteLine();
                Console.Write(BreakerBench.Print(breakerResults));
                return breakerResults.Any(r => r.Errors > 0) ? 1 : 0;
            }
            finally
            {
                if (!isPrivate) await CleanupAsync(admin, server, prefixes);
            }
        }
        List<PhaseResult> breakers;
        try
        {
            foreach (var c in Concurrencies)
            {
                // PING floor: the same kind of multiplexer, one awaited PING per op.
                using (var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct))
                {
                    var db = mux.GetDatabase();
                    results.Add(await MeasureAsync(Ping, c, mux, server, _ => db.PingAsync(), warmup, measure, ct));
                }

                // Seed-style baseline: 10 sequential awaited single commands per report.
                var seedPrefix = $"bench-{runId}-seed-c{c}:";
                prefixes.Add(seedPrefix);
                using (var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct))
                {
                    var seed = new SeedBaseline(mux, seedPrefix, TimeProvider.System);
                    var r = await MeasureAsync(Seed, c, mux, server, i => seed.HandleTaskFailureAsync(reports[i % reports.Length]), warmup, measure, ct);
                    var final = await SumHashAsync(admin.GetDatabase(), seed.CountersKey);
                    results.Add(r with { CounterFinal = final });
                }

                // Reference: the seed's writes in one lean EVALSHA.
                var seedScriptPrefix = $"bench-{runId}-seed1-c{c}:";
                prefixes.Add(seedScriptPrefix);
                using (var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct))
                {
                    var lean = new SeedOneScript(mux, seedScriptPrefix, TimeProvider.System);
                    await lean.LoadAsync();
                    var r = await MeasureAsync(SeedScript, c, mux, server, i => lean.HandleTaskFailureAsync(reports[i % reports.Length]), warmup, measure, ct);
                    var final = await SumHashAsync(admin.GetDatabase(), lean.CountersKey);
                    results.Add(r with { CounterFinal = final });
                }

                // The real service, wired through DI as the host wires it, with its own key and channel prefix.
                var servicePrefix = $"bench-{runId}-svc-c{c}:";
                prefixes.Add(servicePrefix);
                using (var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct))
                {
                    await using var provider = BenchServices.Build(mux, servicePrefix);
                    var service = provider.GetRequiredService<ErrorReportingService>();
                    CpuProfile.Prime(provider, reports);
                    var keys = provider.GetRequiredService<KeySchema>();
                    var r = await MeasureAsync(Service, c, mux, server, i => service.ReportAsync(reports[i % reports.Length], ct), warmup, measure, ct);
                    var final = await SumScoresAsync(admin.GetDatabase(), keys.GroupsByCount); // every group's count, summed
                    results.Add(r with { CounterFinal = final });
                }
            }
            breakers = await BreakerBench.RunAsync(redis, server, warmup, measure, runId, prefixes, MeasureAsync, ct);
        }
        finally
        {
            // On a shared Redis, remove what this run wrote (a private one is simply stopped).
            if (!isPrivate) await CleanupAsync(admin, server, prefixes);
        }

        // Last, so the JIT has long since tiered the shared code up (measured first, it reads several times higher).
        Console.Error.Write("  client CPU per report, no I/O ... ");
        var cpu = await CpuProfile.MeasureAsync(reports, TimeSpan.FromSeconds(o.Quick ? 0.4 : 1));
        Console.Error.WriteLine($"service {cpu.ServiceMicros:0.0} us, seed-style {cpu.SeedMicros:0.0} us");
        Console.Error.WriteLine();

        Print(results, o, cpu);
        Console.WriteLine();
        Console.Write(BreakerBench.Print(breakers));
        Console.WriteLine();
        if (o.Json is not null) await WriteJsonAsync(o, results, redisVersion, runId, isPrivate, cpu);
        RunSignatures(o);
        await CorrelationBench.RunAsync(redis);

        var failed = results.Concat(breakers).Where(r => r.Errors > 0).ToList();
        foreach (var f in failed) Console.Error.WriteLine($"bench: {f.Implementation} c={f.Concurrency}: {f.Errors} failed operations, first: {f.FirstError}");
        return failed.Count == 0 ? 0 : 1;
    }

    /// <summary>The signature engines' GA and throughput; false when the datasets are not found.</summary>
    private static bool RunSignatures(Options o)
    {
        var dir = SignatureBench.FindDatasets(o.Datasets);
        if (dir is null)
        {
            Console.Error.WriteLine($"bench: signature engines skipped: Loghub-2k datasets not found ({o.Datasets ?? "../shared/datasets/loghub-2k beside the repository"}); pass --datasets DIR");
            return false;
        }
        SignatureBench.Print(SignatureBench.Run(dir, o.Quick));
        return true;
    }

    internal static async Task<PhaseResult> MeasureAsync(string name, int concurrency, IConnectionMultiplexer mux, IServer server,
        Func<long, Task> op, TimeSpan warmup, TimeSpan measure, CancellationToken ct)
    {
        Console.Error.Write($"  {name,-15} c={concurrency,-3} warm-up ... ");
        var warm = await LoadRunner.RunAsync(op, concurrency, warmup, ct);
        // Settle: let the GC and the thread pool quiet down between phases.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        await Task.Delay(100, ct);

        Console.Error.Write("measuring ... ");
        var before = await CommandStats.SnapshotAsync(server);
        var clientBefore = mux.OperationCount;
        var run = await LoadRunner.RunAsync(op, concurrency, measure, ct);
        var clientAfter = mux.OperationCount;
        var after = await CommandStats.SnapshotAsync(server);
        var delta = CommandStats.Delta(before, after);
        Console.Error.WriteLine($"{run.OpsPerSecond:N0} ops/s");

        var ops = Math.Max(1, run.Ops);
        var serverCalls = delta.Values.Sum(d => d.Calls);
        var scriptCalls = delta.Where(d => CommandStats.ScriptCommands.Contains(d.Key)).Sum(d => d.Value.Calls);
        var scriptUsec = delta.Where(d => CommandStats.ScriptCommands.Contains(d.Key)).Sum(d => d.Value.Usec);
        var clientCommands = clientAfter - clientBefore;
        // Redis time per op: a script command's usec already includes the commands it ran, so count those once.
        var redisUsec = scriptCalls > 0 ? scriptUsec : delta.Values.Sum(d => d.Usec);
        return new PhaseResult
        {
            Implementation = name,
            Concurrency = concurrency,
            Ops = run.Ops,
            Seconds = run.Elapsed.TotalSeconds,
            OpsPerSecond = run.OpsPerSecond,
            P50Micros = run.PercentileMicros(50),
            P99Micros = run.PercentileMicros(99),
            ServerCommandsPerOp = (double)serverCalls / ops,
            ScriptCallsPerOp = (double)scriptCalls / ops,
            RoundTripsPerOp = (double)clientCommands / ops,
            InScriptCommandsPerOp = scriptCalls > 0 ? (double)(serverCalls - clientCommands) / ops : 0,
            RedisMicrosPerOp = (double)redisUsec / ops,
            Errors = run.Errors + warm.Errors,
            FirstError = run.FirstError ?? warm.FirstError,
            CounterExpected = run.Ops + warm.Ops,
            TopCommands = delta.OrderByDescending(d => d.Value.Calls).Take(12)
                .ToDictionary(d => d.Key, d => Math.Round((double)d.Value.Calls / ops, 2)),
            CommandMicrosPerOp = delta.OrderByDescending(d => d.Value.Usec)
                .ToDictionary(d => d.Key, d => Math.Round((double)d.Value.Usec / ops, 2)),
        };
    }

    private static async Task<long> SumScoresAsync(IDatabase db, RedisKey key)
    {
        long total = 0;
        foreach (var entry in await db.SortedSetRangeByRankWithScoresAsync(key)) total += (long)entry.Score;
        return total;
    }

    private static async Task<long> SumHashAsync(IDatabase db, RedisKey key)
    {
        long sum = 0;
        foreach (var v in await db.HashValuesAsync(key)) sum += (long)v;
        return sum;
    }

    private static void Print(List<PhaseResult> results, Options o, CpuProfile.Result cpu)
    {
        PhaseResult Find(string impl, int c) => results.Single(r => r.Implementation == impl && r.Concurrency == c);
        var sb = new StringBuilder();
        sb.AppendLine("Results (latency in microseconds; ops/s over the measured phase; cmds/op and RT/op explained below)");
        sb.AppendLine();
        var header = $"{"implementation",-15} {"conc",4} {"ops/s",10} {"p50 us",9} {"p99 us",9} {"cmds/op",8} {"RT/op",6} {"redis us/op",11} {"vs seed",8} {"vs PING",8} {"lost updates",16} {"errors",6}";
        sb.AppendLine(header);
        sb.AppendLine(new string('-', header.Length));
        foreach (var c in Concurrencies)
        {
            var floor = Find(Ping, c);
            var seed = Find(Seed, c);
            foreach (var impl in Implementations)
            {
                var r = Find(impl, c);
                var lost = r.CounterFinal is { } f ? $"{r.CounterExpected - f:N0} of {r.CounterExpected:N0}" : "n/a";
                var vsSeed = impl == Ping ? "-" : $"{r.OpsPerSecond / seed.OpsPerSecond:0.00}x";
                var vsPing = $"{r.OpsPerSecond / floor.OpsPerSecond:0.000}";
                sb.AppendLine($"{impl,-15} {c,4} {r.OpsPerSecond,10:N0} {r.P50Micros,9:N0} {r.P99Micros,9:N0} {r.ServerCommandsPerOp,8:0.00} {r.RoundTripsPerOp,6:0.00} {r.RedisMicrosPerOp,11:0.0} {vsSeed,8} {vsPing,8} {lost,16} {r.Errors,6}");
            }
        }
        sb.AppendLine();
        sb.AppendLine("  cmds/op      = Redis commands executed per op: sum of 'calls' over every command in an INFO commandstats delta taken");
        sb.AppendLine("                 around the measured phase (the bench's own INFO left out), divided by ops. Commands run inside Lua count.");
        sb.AppendLine("  RT/op        = round trips per op = top-level client commands per op, i.e. what the client wrote to the socket");
        sb.AppendLine("                 (IConnectionMultiplexer.OperationCount delta of that phase's own multiplexer, heartbeats included).");
        sb.AppendLine("                 Cross-check from commandstats: where no script runs, RT/op must equal cmds/op; for report_failure it must");
        sb.AppendLine("                 equal the EVALSHA calls per op (eval/evalsha/eval_ro/evalsha_ro/fcall/fcall_ro) plus any non-script command.");
        sb.AppendLine("  redis us/op  = Redis execution time per op from commandstats usec (EVALSHA's usec includes the commands it runs);");
        sb.AppendLine("                 network, parsing and client time are not in it. 1e6 / (redis us/op) is Redis' single-thread ceiling.");
        sb.AppendLine("  seed-1-script = reference only (not the baseline): the seed's same writes in one lean EVALSHA (HINCRBY counter).");
        sb.AppendLine("  vs seed      = throughput ratio against the seed-style baseline at the same concurrency; vs PING = fraction of the PING floor.");
        sb.AppendLine("  lost updates = ops recorded (warm-up + measured) minus the final sum of the per-type counter hash (errors:counters for");
        sb.AppendLine("                 the seed-style HGET+HSET; for report_failure, the sum of every group's count, kept by HINCRBY in the script).");
        sb.AppendLine();
        foreach (var c in Concurrencies)
        {
            var s = Find(Service, c);
            sb.AppendLine($"  report_failure c={c}: EVALSHA calls/op {s.ScriptCallsPerOp:0.00}, commands inside the script/op {s.InScriptCommandsPerOp:0.0}; " +
                          "per op: " + string.Join(", ", s.TopCommands.Select(kv => $"{kv.Key} {kv.Value:0.##}")));
        }
        var seedTop = Find(Seed, 64);
        sb.AppendLine("  seed-style c=64 per op: " + string.Join(", ", seedTop.TopCommands.Select(kv => $"{kv.Key} {kv.Value:0.##}")));
        sb.AppendLine();
        sb.AppendLine("Where the time goes");
        foreach (var impl in new[] { Service, SeedScript })
            foreach (var c in Concurrencies)
            {
                var s = Find(impl, c);
                var script = s.CommandMicrosPerOp.Where(kv => CommandStats.ScriptCommands.Contains(kv.Key)).Sum(kv => kv.Value);
                var inner = s.CommandMicrosPerOp.Where(kv => !CommandStats.ScriptCommands.Contains(kv.Key)).Sum(kv => kv.Value);
                sb.AppendLine($"  {impl,-14} c={c}: Redis runs the script for {script:0.0} us/op (ceiling {1e6 / Math.Max(script, 0.001):N0} reports/s on one Redis thread): " +
                              $"{inner:0.0} us in its {s.InScriptCommandsPerOp:0} commands, {script - inner:0.0} us Lua/script overhead; commands by time (us/op): " +
                              string.Join(", ", s.CommandMicrosPerOp.Where(kv => !CommandStats.ScriptCommands.Contains(kv.Key)).Take(6).Select(kv => $"{kv.Key} {kv.Value:0.0}")));
            }
        foreach (var c in Concurrencies)
        {
            var s = Find(Seed, c);
            sb.AppendLine($"  seed-style     c={c}: Redis executes its 10 commands in {s.RedisMicrosPerOp:0.0} us/op (ceiling {1e6 / Math.Max(s.RedisMicrosPerOp, 0.001):N0} reports/s); the rest of its latency is 10 sequential round trips");
        }
        sb.AppendLine($"  client CPU per report without I/O (1 thread): report_failure {cpu.ServiceMicros:0.0} us (validate, scrub, classify, signature, event JSON), " +
                      $"seed-style {cpu.SeedMicros:0.0} us (event JSON, seed signature)");
        sb.AppendLine("    report_failure stages alone (us/report): " + string.Join(", ", cpu.Stages.Select(st => $"{st.Stage} {st.Micros:0.0}")));
        sb.AppendLine();
        var svc64 = Find(Service, 64);
        var seed64 = Find(Seed, 64);
        var svc1 = Find(Service, 1);
        var seed1 = Find(Seed, 1);
        sb.AppendLine($"report_failure vs seed-style baseline at concurrency 1: {svc1.OpsPerSecond / seed1.OpsPerSecond:0.00}x throughput, {RoundTrips(svc1.RoundTripsPerOp)} per report (seed-style: {RoundTrips(seed1.RoundTripsPerOp)})");
        var ratio64 = svc64.OpsPerSecond / seed64.OpsPerSecond;
        var met = ratio64 >= 5 && Math.Abs(svc64.RoundTripsPerOp - 1) < 0.05;
        sb.AppendLine($"target (>= 5x the seed-style throughput at concurrency 64, 1 round trip per report): {(met ? "MET" : "MISSED")}");
        sb.AppendLine($"report_failure vs seed-style baseline at concurrency 64: {ratio64:0.00}x throughput, {RoundTrips(svc64.RoundTripsPerOp)} per report");
        Console.Write(sb.ToString());
    }

    private static string RoundTrips(double perOp)
    {
        var rounded = Math.Round(perOp);
        if (Math.Abs(perOp - rounded) < 0.05)
            return rounded == 1 ? "1 round trip" : $"{rounded:0} round trips";
        return $"{perOp:0.00} round trips";
    }

    private static async Task WriteJsonAsync(Options o, List<PhaseResult> results, string redisVersion, string runId, bool isPrivate,
        CpuProfile.Result cpu)
    {
        var doc = new
        {
            run_id = runId,
            redis_version = redisVersion,
            private_redis = isPrivate,
            dotnet = Environment.Version.ToString(),
            processor_count = Environment.ProcessorCount,
            measured_seconds = o.Seconds,
            warmup_seconds = o.Warmup,
            latency_unit = "microseconds",
            client_cpu_us_per_report_no_io = new
            {
                report_failure = cpu.ServiceMicros,
                seed_style = cpu.SeedMicros,
                report_failure_stages = cpu.Stages.ToDictionary(st => st.Stage, st => st.Micros),
            },
            results = results.Select(r => new
            {
                implementation = r.Implementation,
                concurrency = r.Concurrency,
                ops = r.Ops,
                seconds = r.Seconds,
                ops_per_second = r.OpsPerSecond,
                p50_us = r.P50Micros,
                p99_us = r.P99Micros,
                commands_per_op = r.ServerCommandsPerOp,
                round_trips_per_op = r.RoundTripsPerOp,
                script_calls_per_op = r.ScriptCallsPerOp,
                in_script_commands_per_op = r.InScriptCommandsPerOp,
                redis_us_per_op = r.RedisMicrosPerOp,
                throughput_vs_seed = r.Implementation == Ping ? (double?)null
                    : r.OpsPerSecond / results.Single(x => x.Implementation == Seed && x.Concurrency == r.Concurrency).OpsPerSecond,
                fraction_of_ping_floor = r.OpsPerSecond / results.Single(x => x.Implementation == Ping && x.Concurrency == r.Concurrency).OpsPerSecond,
                counter_expected = r.CounterFinal is null ? (long?)null : r.CounterExpected,
                counter_final = r.CounterFinal,
                lost_updates = r.CounterFinal is { } f ? r.CounterExpected - f : (long?)null,
                errors = r.Errors,
                first_error = r.FirstError,
                commands_per_op_by_name = r.TopCommands,
                redis_us_per_op_by_name = r.CommandMicrosPerOp,
            }),
        };
        await File.WriteAllTextAsync(o.Json!, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
        Console.Error.WriteLine($"bench: wrote {o.Json}");
    }

    private static async Task CleanupAsync(IConnectionMultiplexer admin, IServer server, List<string> prefixes)
    {
        try
        {
            var db = admin.GetDatabase();
            foreach (var prefix in prefixes)
            {
                var batch = new List<RedisKey>(500);
                await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 1000))
                {
                    batch.Add(key);
                    if (batch.Count == 500)
                    {
                        await db.KeyDeleteAsync(batch.ToArray(), CommandFlags.FireAndForget);
                        batch.Clear();
                    }
                }
                if (batch.Count > 0) await db.KeyDeleteAsync(batch.ToArray());
            }
        }
        catch (RedisException ex)
        {
            Console.Error.WriteLine("bench: cleanup failed: " + ex.Message);
        }
    }

    private static bool IsLoopback(System.Net.EndPoint endpoint) => endpoint switch
    {
        System.Net.IPEndPoint ip => System.Net.IPAddress.IsLoopback(ip.Address),
        System.Net.DnsEndPoint d => d.Host is "localhost" or "127.0.0.1" or "::1",
        _ => false,
    };

    private static string? InfoField(string info, string name)
    {
        foreach (var line in info.Split('\n'))
            if (line.StartsWith(name + ":", StringComparison.Ordinal)) return line[(name.Length + 1)..].Trim();
        return null;
    }
}

internal sealed record PhaseResult
{
    public required string Implementation { get; init; }
    public required int Concurrency { get; init; }
    public required long Ops { get; init; }
    public required double Seconds { get; init; }
    public required double OpsPerSecond { get; init; }
    public required double P50Micros { get; init; }
    public required double P99Micros { get; init; }
    public required double ServerCommandsPerOp { get; init; }
    public required double ScriptCallsPerOp { get; init; }
    public required double RoundTripsPerOp { get; init; }
    public required double InScriptCommandsPerOp { get; init; }
    public required double RedisMicrosPerOp { get; init; }
    public required long Errors { get; init; }
    public string? FirstError { get; init; }
    public required long CounterExpected { get; init; }
    public long? CounterFinal { get; init; }
    public required Dictionary<string, double> TopCommands { get; init; }
    public required Dictionary<string, double> CommandMicrosPerOp { get; init; }
}

internal sealed record Options
{
    public double Seconds { get; private init; } = 5;
    public double Warmup { get; private init; } = 1.5;
    public string? Redis { get; private init; }
    public string? Json { get; private init; }
    public bool Quick { get; private init; }
    public bool Help { get; private init; }
    public string? Datasets { get; private init; }
    public bool SignaturesOnly { get; private init; }
    public bool CorrelationOnly { get; private init; }
    public bool TrainingOnly { get; private init; }
    public bool BreakersOnly { get; private init; }
    public bool RetriesOnly { get; private init; }

    public const string Usage =
        "usage: ErrorCoordinator.Bench [--seconds N] [--warmup N] [--redis URL] [--quick] [--json FILE]\n" +
        "  --seconds N   measured seconds per phase (default 5; 8 phases)\n" +
        "  --warmup N    warm-up seconds before each phase (default 1.5)\n" +
        "  --redis URL   a Redis on 127.0.0.1 (redis://127.0.0.1:6379 or host:port); default: env EC_BENCH_REDIS_URL,\n" +
        "                else a private redis-server on a free port, stopped at the end\n" +
        "  --quick       smoke run (~15 s): 1 s per phase, 0.4 s warm-up\n" +
        "  --json FILE   also write the results as JSON\n" +
        "  --datasets DIR      Loghub-2k datasets for the signature engines (default ../shared/datasets/loghub-2k)\n" +
        "  --signatures-only   only the signature engines (GA and messages/s), no Redis\n" +
        "  --correlation-only  only root-cause quality (AC@1/AC@3/abstain vs the first-error rule) and correlate_errors latency\n" +
        "  --training-only     only report_training_metric vs its seed-style baseline and the PING floor\n" +
        "  --breakers-only     only check_breaker / record_outcome against the PING floor and the original read-then-write breaker\n" +
        "  --retries-only      only the retry queue (enqueue, claim+complete, claim latency at 1,000 and 100,000 pending)";

    public static Options Parse(string[] args)
    {
        double? seconds = null, warmup = null;
        string? redis = null, json = null, datasets = null;
        bool quick = false, help = false, signaturesOnly = false, trainingOnly = false, breakersOnly = false, retriesOnly = false, correlationOnly = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            double Positive(string s) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && v <= 600
                ? v : throw new ArgumentException($"'{s}' is not a number of seconds between 0 and 600.");
            switch (args[i])
            {
                case "--seconds": seconds = Positive(Next()); break;
                case "--warmup": warmup = Positive(Next()); break;
                case "--redis": redis = Next(); break;
                case "--json": json = Next(); break;
                case "--quick": quick = true; break;
                case "--datasets": datasets = Next(); break;
                case "--signatures-only": signaturesOnly = true; break;
                case "--correlation-only": correlationOnly = true; break;
                case "--training-only": trainingOnly = true; break;
                case "--breakers-only": breakersOnly = true; break;
                case "--retries-only": retriesOnly = true; break;
                case "-h" or "--help": help = true; break;
                default: throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        redis ??= Environment.GetEnvironmentVariable("EC_BENCH_REDIS_URL") is { Length: > 0 } env ? env.Trim() : null;
        return new Options
        {
            Seconds = seconds ?? (quick ? 1 : 5),
            Warmup = warmup ?? (quick ? 0.4 : 1.5),
            Redis = redis,
            Json = json,
            Quick = quick,
            Help = help,
            Datasets = datasets,
            SignaturesOnly = signaturesOnly,
            CorrelationOnly = correlationOnly,
            TrainingOnly = trainingOnly,
            BreakersOnly = breakersOnly,
            RetriesOnly = retriesOnly,
        };
    }
}
