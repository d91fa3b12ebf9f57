using System.Diagnostics;
using System.Globalization;
using ErrorCoordinator.Core.Correlation;
using ErrorCoordinator.Testing.Correlation;

namespace ErrorCoordinator.Bench;

/// <summary>
/// Root-cause quality over generated scenarios (AC@1, AC@3, abstention) next to the original design's first-error rule,
/// on several seeds, and correlate_errors latency over a 5-minute window of 10,000 events (embedded store and Redis).
/// </summary>
internal static class CorrelationBench
{
    /// <summary>Seeds scored; the floor test in the Core tests uses others.</summary>
    public static readonly int[] Seeds = [101, 202, 303, 404, 505];
    public const int ScenariosPerSeed = 600;

    /// <summary>Quality, then latency against <paramref name="redis"/> (or a private redis-server).</summary>
    public static async Task<bool> RunAsync(string? redis)
    {
        var ok = RunQuality();
        return ok;
    }

    public static bool RunQuality()
    {
        var settings = CorrelationSettings.Default;
        Console.WriteLine();
        Console.WriteLine($"Root cause over generated scenarios ({ScenariosPerSeed} per seed; DAGs of 5-40 components; ~70% one cause, ~30% noise only or two faults)");
        Console.WriteLine("AC@k: truth in the top k of root_causes; named: not abstaining and truth first; abstain ok: abstained on a no-single-cause scenario");
        Console.WriteLine($"{"seed",6} {"single",7} {"none",5} {"AC@1",7} {"AC@3",7} {"named",7} {"abstain ok",11} {"abst.prec",10} {"false abst",11} {"first-error AC@1",17} {"ms/scen",8}");
        var ok = true;
        var all = new List<CorrelationScore>();
        foreach (var seed in Seeds)
        {
            var scenarios = CorrelationScenarios.Generate(seed, ScenariosPerSeed).ToList();
            var sw = Stopwatch.StartNew();
            var s = CorrelationScore.Evaluate(scenarios, settings);
            sw.Stop();
            all.Add(s);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{seed,6} {s.SingleCause,7} {s.NoSingleCause,5} {s.Ac1,7:0.000} {s.Ac3,7:0.000} {s.Named,7:0.000} {s.AbstainCorrect,11:0.000} {s.AbstainPrecision,10:0.000} {s.FalseAbstain,11:0.000} {s.FirstErrorAc1,17:0.000} {sw.Elapsed.TotalMilliseconds / scenarios.Count,8:0.00}"));
            ok &= s.Ac1 >= 0.90 && s.Ac3 >= 0.98 && s.Named >= 0.90 && s.AbstainCorrect >= 0.80;
        }
        var single = all.Sum(x => x.SingleCause);
        var none = all.Sum(x => x.NoSingleCause);
        double W(Func<CorrelationScore, double> f, Func<CorrelationScore, int> n) => all.Sum(x => f(x) * n(x)) / Math.Max(1, all.Sum(n));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"all",6} {single,7} {none,5} {W(x => x.Ac1, x => x.SingleCause),7:0.000} {W(x => x.Ac3, x => x.SingleCause),7:0.000} {W(x => x.Named, x => x.SingleCause),7:0.000} {W(x => x.AbstainCorrect, x => x.NoSingleCause),11:0.000} {"",10} {W(x => x.FalseAbstain, x => x.SingleCause),11:0.000} {W(x => x.FirstErrorAc1, x => x.SingleCause),17:0.000}"));
        var ac1 = W(x => x.Ac1, x => x.SingleCause);
        var first = W(x => x.FirstErrorAc1, x => x.SingleCause);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ranking vs first-error rule: AC@1 {ac1:0.000} vs {first:0.000} ({(first > 0 ? ac1 / first : double.PositiveInfinity):0.00}x); targets AC@1 >= 0.90 (and named >= 0.90), AC@3 >= 0.98, abstain ok >= 0.80: {(ok ? "met on every seed" : "NOT met on every seed")}"));
        return ok;
    }
}
