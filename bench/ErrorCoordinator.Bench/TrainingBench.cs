using System.Globalization;
using System.Text;
using ErrorCoordinator.Core.Hosting;
using ErrorCoordinator.Core.Training;
using ErrorCoordinator.Redis;
using ErrorCoordinator.Redis.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ErrorCoordinator.Bench;

/// <summary>
/// report_training_metric (TrainingAnomalyService on the Redis store, wired as the host wires it) against a seed-style
/// baseline doing the same step as sequential single commands (read both windows, then push, trim and expire each),
/// and the PING floor, at concurrency 1 and 64 (target: >= 20,000 metrics/s, 1 round trip). Run with <c>--training-only</c>.
/// </summary>
internal static class TrainingBench
{
    private const string Ping = "PING floor";
    private const string Seed = "seed-style";
    private const string Service = "report_training_metric";
    private static readonly string[] Implementations = [Ping, Seed, Service];
    private static readonly int[] Concurrencies = [1, 64];
    private const int Runs = 256;
    private const double Target = 20_000;

    /// <summary>Step <paramref name="i"/> of the workload: 256 runs in 16 projects, each a normal early fall with noise.</summary>
    private static TrainingMetric Metric(long i)
    {
        var run = (int)(i % Runs);
        var step = i / Runs;
        var loss = 1.8 + 8.6 * Math.Exp(-step / 400.0) + 0.05 * Math.Sin(i * 1.7);
        return new TrainingMetric
        {
            Project = "bench-project-" + (run % 16).ToString(CultureInfo.InvariantCulture),
            Run = "run-" + run.ToString(CultureInfo.InvariantCulture),
            Step = step,
            Loss = loss,
            GradNorm = 1.0 + 0.2 * Math.Cos(i * 0.9),
            LearningRate = 3e-4,
        };
    }

    public static async Task<int> RunAsync(Options o, string redis, bool isPrivate, CancellationToken ct)
    {
        var adminConfig = RedisConnector.Parse(redis);
        adminConfig.AllowAdmin = true;
        adminConfig.ClientName = "error-coordinator-bench-admin";
        using var admin = await RedisConnector.ConnectAsync(adminConfig, cancellationToken: ct);
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var version = ((string?)await server.ExecuteAsync("INFO", "server") ?? "").Split('\n')
            .FirstOrDefault(l => l.StartsWith("redis_version:", StringComparison.Ordinal))?["redis_version:".Length..].Trim() ?? "?";
        var runId = Guid.NewGuid().ToString("N")[..8];
        var warmup = TimeSpan.FromSeconds(o.Warmup);
        var measure = TimeSpan.FromSeconds(o.Seconds);
        var options = new TrainingOptions();

        Console.WriteLine("ErrorCoordinator bench: report_training_metric vs seed-style baseline vs PING floor");
        Console.WriteLine($"  redis {version} ({(isPrivate ? "private redis-server" : "given by --redis / EC_BENCH_REDIS_URL")}); run id {runId}; " +
                          $".NET {Environment.Version}, {Environment.ProcessorCount} cores; client and redis share this machine");
        Console.WriteLine($"  workload: {Runs} runs in 16 projects stepping in turn (loss falling from 10.4 with noise, grad norm, learning rate); " +
                          $"window {options.Window} steps; each phase {o.Warmup:0.#} s warm-up, {o.Seconds:0.#} s measured, closed loop");
        Console.WriteLine();

        var results = new List<(PhaseResult Result, long Anomalies)>();
        var prefixes = new List<string>();
        try
        {
            foreach (var c in Concurrencies)
            {
                using (var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct))
                {
                    var db = mux.GetDatabase();
                    results.Add((await Program.MeasureAsync(Ping, c, mux, server, _ => db.PingAsync(), warmup, measure, ct), 0));
                }

                var seedPrefix = $"bench-{runId}-trseed-c{c}:";
                prefixes.Add(seedPrefix);
                using (var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct))
                {
                    var seed = new SeedTraining(mux.GetDatabase(), seedPrefix, options);
                    // One step counter across the warm-up and the measured phase (the runner numbers each phase from 0), so every
                    // run keeps stepping forward: a restart at step 0 would put its early loss after later ones, a real spike.
                    long seedStep = -1;
                    var r = await Program.MeasureAsync(Seed, c, mux, server, _ => seed.ReportAsync(Metric(Interlocked.Increment(ref seedStep))), warmup, measure, ct);
                    results.Add((r, seed.Anomalies));
                }

                var servicePrefix = $"bench-{runId}-trsvc-c{c}:";
                prefixes.Add(servicePrefix);
                using (var mux = await RedisConnector.ConnectAsync(redis, cancellationToken: ct))
                {
                    await using var provider = BenchServices.Build(mux, servicePrefix, (s, c) => s.AddTraining(c));
                    var training = provider.GetRequiredService<TrainingAnomalyService>();
                    long anomalies = 0;
                    long step = -1;
                    var r = await Program.MeasureAsync(Service, c, mux, server, async _ =>
                    {
                        var result = await training.ReportAsync(Metric(Interlocked.Increment(ref step)), ct);
                        if (result.Anomalies.Count > 0) Interlocked.Add(ref anomalies, result.Anomalies.Count);
                    }, warmup, measure, ct);
                    results.Add((r, anomalies));
                }
            }
        }
        finally
        {
            if (!isPrivate) await DeleteAsync(admin, server, prefixes);
        }

        Print(results);
        var failed = results.Where(r => r.Result.Errors > 0).ToList();
        foreach (var (f, _) in failed) Console.Error.WriteLine($"bench: {f.Implementation} c={f.Concurrency}: {f.Errors} failed operations, first: {f.FirstError}");
        return failed.Count == 0 ? 0 : 1;
    }

    private static void Print(List<(PhaseResult Result, long Anomalies)> results)
    {
        PhaseResult Find(string impl, int c) => results.Single(r => r.Result.Implementation == impl && r.Result.Concurrency == c).Result;
        var sb = new StringBuilder();
        sb.AppendLine("Training metrics (latency in microseconds; metrics/s over the measured phase)");
        sb.AppendLine();
        var header = $"{"implementation",-22} {"conc",4} {"metrics/s",10} {"p50 us",9} {"p99 us",9} {"cmds/op",8} {"RT/op",6} {"redis us/op",11} {"vs seed",8} {"vs PING",8} {"anomalies",9} {"errors",6}";
        sb.AppendLine(header);
        sb.AppendLine(new string('-', header.Length));
        foreach (var c in Concurrencies)
        {
            var floor = Find(Ping, c);
            var seed = Find(Seed, c);
            foreach (var impl in Implementations)
            {
                var (r, anomalies) = results.Single(x => x.Result.Implementation == impl && x.Result.Concurrency == c);
                var vsSeed = impl == Ping ? "-" : $"{r.OpsPerSecond / seed.OpsPerSecond:0.00}x";
                sb.AppendLine($"{impl,-22} {c,4} {r.OpsPerSecond,10:N0} {r.P50Micros,9:N0} {r.P99Micros,9:N0} {r.ServerCommandsPerOp,8:0.00} {r.RoundTripsPerOp,6:0.00} " +
                              $"{r.RedisMicrosPerOp,11:0.0} {vsSeed,8} {r.OpsPerSecond / floor.OpsPerSecond,8:0.000} {(impl == Ping ? "-" : anomalies.ToString("N0", CultureInfo.InvariantCulture)),9} {r.Errors,6}");
            }
        }
        sb.AppendLine();
        sb.AppendLine("  cmds/op, RT/op, redis us/op: as in the report_failure table (INFO commandstats delta; the phase multiplexer's OperationCount delta).");
        sb.AppendLine("  seed-style = the same step as sequential single commands: LRANGE losses, LRANGE grad norms, then LPUSH + LTRIM + PEXPIRE on each");
        sb.AppendLine("               (8 round trips), the same anomaly rules in C#. report_training_metric = one EVALSHA (recordTrainingStep-1: GET + SET of the run's window).");
        sb.AppendLine("  anomalies  = anomalies raised over warm-up and measured phase (the workload is normal training: expected 0).");
        foreach (var c in Concurrencies)
        {
            var s = Find(Service, c);
            sb.AppendLine($"  report_training_metric c={c} per op: " + string.Join(", ", s.TopCommands.Select(kv => $"{kv.Key} {kv.Value:0.##}")));
        }
        sb.AppendLine();
        var svc1 = Find(Service, 1);
        var seed1 = Find(Seed, 1);
        var svc64 = Find(Service, 64);
        var seed64 = Find(Seed, 64);
        sb.AppendLine($"report_training_metric vs seed-style at concurrency 1: {svc1.OpsPerSecond / seed1.OpsPerSecond:0.00}x throughput, {svc1.RoundTripsPerOp:0.00} round trips per metric (seed-style: {seed1.RoundTripsPerOp:0.00})");
        sb.AppendLine($"report_training_metric vs seed-style at concurrency 64: {svc64.OpsPerSecond / seed64.OpsPerSecond:0.00}x throughput, {svc64.RoundTripsPerOp:0.00} round trips per metric (seed-style: {seed64.RoundTripsPerOp:0.00})");
        var met = svc64.OpsPerSecond >= Target && Math.Abs(svc64.RoundTripsPerOp - 1) < 0.05;
        sb.AppendLine($"target (>= {Target:N0} metrics/s at concurrency 64, 1 round trip per metric): {(met ? "MET" : "MISSED")} ({svc64.OpsPerSecond:N0} metrics/s)");
        Console.Write(sb.ToString());
    }

    private static async Task DeleteAsync(IConnectionMultiplexer admin, IServer server, List<string> prefixes)
    {
        var db = admin.GetDatabase();
        foreach (var prefix in prefixes)
            await foreach (var key in server.KeysAsync(pattern: prefix + "*", pageSize: 1000))
                await db.KeyDeleteAsync(key, CommandFlags.FireAndForget);
    }

    /// <summary>The seed-style step: the same window and rules, as sequential awaited single commands.</summary>
    private sealed class SeedTraining(IDatabase db, string prefix, TrainingOptions options)
    {
        private long _anomalies;
        public long Anomalies => Interlocked.Read(ref _anomalies);

        public async Task ReportAsync(TrainingMetric m)
        {
            var losses = (RedisKey)(prefix + "training:" + m.Project + ":" + m.Run + ":losses");
            var grads = (RedisKey)(prefix + "training:" + m.Project + ":" + m.Run + ":grad_norms");
            var ttl = options.RunIdleRetention;
            var l = await db.ListRangeAsync(losses, 0, options.Window - 1);
            var g = await db.ListRangeAsync(grads, 0, options.Window - 1);
            var window = new TrainingWindow(l.Select(v => (double)v).ToArray(), g.Select(v => (double)v).ToArray());
            if (double.IsFinite(m.Loss))
            {
                await db.ListLeftPushAsync(losses, m.Loss.ToString("R", CultureInfo.InvariantCulture));
                await db.ListTrimAsync(losses, 0, options.Window - 1);
                await db.KeyExpireAsync(losses, ttl);
            }
            if (m.GradNorm is { } gn && double.IsFinite(gn))
            {
                await db.ListLeftPushAsync(grads, gn.ToString("R", CultureInfo.InvariantCulture));
                await db.ListTrimAsync(grads, 0, options.Window - 1);
                await db.KeyExpireAsync(grads, ttl);
            }
            var findings = TrainingAnomalyDetector.Detect(m.Step, m.Loss, m.GradNorm, window, options);
            if (findings.Count > 0) Interlocked.Add(ref _anomalies, findings.Count);
        }
    }
}
