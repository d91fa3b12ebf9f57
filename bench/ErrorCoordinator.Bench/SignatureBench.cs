using System.Diagnostics;
using ErrorCoordinator.Core.Signatures;
using ErrorCoordinator.Testing.Signatures;

namespace ErrorCoordinator.Bench;

/// <summary>
/// The signature engines side by side, in one run: grouping accuracy (LogPAI GA) per Loghub-2k dataset, each
/// dataset on a fresh engine as the scorer does, and single-thread throughput over the eight datasets concatenated.
/// </summary>
internal static class SignatureBench
{
    public sealed record EngineResult(string Engine, IReadOnlyDictionary<string, double> Accuracy, double MeanAccuracy,
        double ColdMessagesPerSecond, double WarmMessagesPerSecond);

    private static readonly (string Name, Func<ISignatureEngine> Create)[] Engines =
    [
        ("seed (original design)", () => new SeedSignatureEngine()),
        ("template (Drain-style)", () => new TemplateSignatureEngine()),
    ];

    /// <summary>The datasets folder: --datasets, else ../shared/datasets/loghub-2k beside the repository.</summary>
    public static string? FindDatasets(string? explicitDir) => explicitDir is not null
        ? (Directory.Exists(explicitDir) ? explicitDir : null)
        : Loghub.FindDatasets(Environment.CurrentDirectory, AppContext.BaseDirectory);

    public static IReadOnlyList<EngineResult> Run(string datasetsDir, bool quick)
    {
        var datasets = Loghub.Load(datasetsDir);
        var all = datasets.SelectMany(d => d.Messages).Select(Input).ToArray();
        var passes = quick ? 3 : 10;
        Console.Error.WriteLine($"  signatures: {datasets.Count} datasets, {all.Length:N0} messages; {passes} timed passes per engine after 3 warm-up passes");

        var results = new List<EngineResult>();
        foreach (var (name, create) in Engines)
        {
            var accuracy = datasets.ToDictionary(d => d.Name, d => GroupingAccuracy(create(), d));
            for (var i = 0; i < 3; i++) Pass(create(), all); // JIT tiering and caches, not measured
            // Cold: a fresh engine each pass (every template is new to it). Warm: the same engine again (templates known).
            var cold = Stopwatch.StartNew();
            for (var i = 0; i < passes; i++) Pass(create(), all);
            cold.Stop();
            var engine = create();
            Pass(engine, all);
            var warm = Stopwatch.StartNew();
            for (var i = 0; i < passes; i++) Pass(engine, all);
            warm.Stop();
            results.Add(new EngineResult(name, accuracy, accuracy.Values.Average(),
                all.Length * passes / cold.Elapsed.TotalSeconds, all.Length * passes / warm.Elapsed.TotalSeconds));
        }
        return results;
    }

    public static void Print(IReadOnlyList<EngineResult> results)
    {
        Console.WriteLine();
        Console.WriteLine("Signature engines (Loghub-2k, one configuration for every dataset; GA as defined by LogPAI)");
        var names = results[0].Accuracy.Keys.ToList();
        Console.WriteLine($"{"engine",-24}" + string.Concat(names.Select(n => $"{n,12}")) + $"{"mean GA",10}{"msgs/s cold",14}{"msgs/s warm",14}");
        Console.WriteLine(new string('-', 24 + 12 * names.Count + 38));
        foreach (var r in results)
            Console.WriteLine($"{r.Engine,-24}" + string.Concat(names.Select(n => $"{r.Accuracy[n],12:0.0000}")) +
                              $"{r.MeanAccuracy,10:0.0000}{r.ColdMessagesPerSecond,14:N0}{r.WarmMessagesPerSecond,14:N0}");
        Console.WriteLine("  msgs/s = single thread over the eight datasets concatenated; cold: a fresh engine per pass, warm: templates already known");
        if (results.Count == 2)
        {
            var (seed, template) = (results[0], results[1]);
            Console.WriteLine($"template engine vs seed: mean GA {template.MeanAccuracy:0.0000} vs {seed.MeanAccuracy:0.0000}, " +
                              $"lowest dataset {template.Accuracy.Values.Min():0.0000}, {template.ColdMessagesPerSecond:N0} msgs/s cold " +
                              $"({template.ColdMessagesPerSecond / seed.ColdMessagesPerSecond:0.00}x the seed's speed)");
        }
    }

    private static void Pass(ISignatureEngine engine, SignatureInput[] inputs)
    {
        foreach (var input in inputs) engine.ComputeAsync(input).GetAwaiter().GetResult();
    }

    private static SignatureInput Input(string message) => new("log", message, null, "bench", null, EmptyTags);

    private static readonly IReadOnlyDictionary<string, string> EmptyTags = new Dictionary<string, string>();

    private static double GroupingAccuracy(ISignatureEngine engine, LoghubDataset d) =>
        Loghub.GroupingAccuracy(d.Messages.Select(m => engine.ComputeAsync(Input(m)).GetAwaiter().GetResult().GroupId).ToList(), d.Truth);
}
