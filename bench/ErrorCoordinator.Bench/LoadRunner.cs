using System.Diagnostics;

namespace ErrorCoordinator.Bench;

/// <summary>What one timed run of an operation produced.</summary>
internal sealed record RunStats(long Ops, long Errors, string? FirstError, TimeSpan Elapsed, long[] LatencyTicks)
{
    public double OpsPerSecond => Ops / Elapsed.TotalSeconds;

    /// <summary>Latency percentile in microseconds (nearest-rank on the sorted samples).</summary>
    public double PercentileMicros(double p)
    {
        if (LatencyTicks.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * LatencyTicks.Length) - 1;
        rank = Math.Clamp(rank, 0, LatencyTicks.Length - 1);
        return LatencyTicks[rank] * 1_000_000.0 / Stopwatch.Frequency;
    }
}

/// <summary>
/// A closed-loop load generator: <c>concurrency</c> async workers, each awaiting one operation at a time, until the
/// duration is spent (an operation started before the deadline is allowed to finish and is counted). Every operation's
/// latency is timed with <see cref="Stopwatch.GetTimestamp"/>.
/// </summary>
internal static class LoadRunner
{
    public static async Task<RunStats> RunAsync(Func<long, Task> operation, int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        long sequence = -1;
        long errors = 0;
        string? firstError = null;
        var perWorker = new List<long>[concurrency];
        var deadlineTicks = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();

        async Task Worker(int w)
        {
            var latencies = perWorker[w] = new List<long>(1 << 14);
            while (!cancellationToken.IsCancellationRequested)
            {
                var t0 = Stopwatch.GetTimestamp();
                if (t0 - start >= deadlineTicks) break;
                var i = Interlocked.Increment(ref sequence);
                try
                {
                    await operation(i).ConfigureAwait(false);
                    latencies.Add(Stopwatch.GetTimestamp() - t0);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    if (Interlocked.Increment(ref errors) == 1) firstError = ex.GetType().Name + ": " + ex.Message;
                }
            }
        }

        var workers = new Task[concurrency];
        for (var w = 0; w < concurrency; w++)
        {
            var index = w;
            workers[w] = concurrency == 1 ? Worker(index) : Task.Run(() => Worker(index), cancellationToken);
        }
        await Task.WhenAll(workers).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start);
        cancellationToken.ThrowIfCancellationRequested();

        var all = new long[perWorker.Sum(l => l?.Count ?? 0)];
        var at = 0;
        foreach (var list in perWorker)
        {
            if (list is null) continue;
            list.CopyTo(all, at);
            at += list.Count;
        }
        Array.Sort(all);
        return new RunStats(all.Length, errors, firstError, elapsed, all);
    }
}
