using System.Text;
using ErrorCoordinator.Core.Errors;
using ErrorCoordinator.Core.Signatures;
using ErrorCoordinator.Testing.Signatures;

namespace ErrorCoordinator.Core.Tests.Signatures;

/// <summary>
/// The quality floor: grouping accuracy (GA) of the template engine on the shared Loghub-2k datasets, one
/// configuration (the defaults) for all of them, each dataset on a fresh engine. Not a timing test.
/// </summary>
public sealed class GroupingAccuracyTests
{
    public const double MeanFloor = 0.95;
    public const double DatasetFloor = 0.85;

    [Fact]
    public Task Mean_grouping_accuracy_on_loghub_2k_stays_above_the_floor() =>
        AssertFloorAsync(_ =>
        {
            var engine = new TemplateSignatureEngine();
            var noTags = new Dictionary<string, string>();
            return m => Task.FromResult(engine.Compute(new SignatureInput("log", m, null, "test", null, noTags)).GroupId);
        });

    /// <summary>
    /// The same floor on the server's report path: every message reported through <see cref="ErrorReportingService"/>
    /// (validation, scrubbing, the engine's store-backed replica and the embedded store's template buckets).
    /// </summary>
    [Fact]
    public Task The_report_path_with_template_state_in_the_store_groups_as_well() =>
        AssertFloorAsync(disposables =>
        {
            var services = new TestServices();
            disposables.Add(services);
            return async m => (await services.Errors.ReportAsync(new FailureReport
            {
                Agent = "test", ErrorType = "log", Message = string.IsNullOrWhiteSpace(m) ? "(empty)" : m,
            })).GroupId;
        });

    /// <summary>Labels every dataset with a fresh labeller (one per dataset, as the scorer starts fresh) and checks both floors.</summary>
    private static async Task AssertFloorAsync(Func<List<IDisposable>, Func<string, Task<string>>> freshLabeller)
    {
        var folder = Loghub.FindDatasets();
        Assert.True(folder is not null,
            "The Loghub-2k datasets are missing: expected ../shared/datasets/loghub-2k next to the repository. " +
            "The grouping-accuracy floor cannot be checked without them.");
        var datasets = Loghub.Load(folder!);
        Assert.True(datasets.Count >= 8, $"Expected the 8 Loghub-2k datasets in {folder}; found {datasets.Count}.");

        var report = new StringBuilder();
        var scores = new List<double>();
        foreach (var d in datasets)
        {
            var disposables = new List<IDisposable>();
            try
            {
                var label = freshLabeller(disposables);
                var predicted = new List<string>(d.Messages.Count);
                foreach (var m in d.Messages) predicted.Add(await label(m));
                var ga = Loghub.GroupingAccuracy(predicted, d.Truth);
                scores.Add(ga);
                report.AppendLine($"{d.Name,-12} GA {ga:F4}");
            }
            finally
            {
                foreach (var x in disposables) x.Dispose();
            }
        }
        var mean = scores.Average();
        report.AppendLine($"mean GA {mean:F4}");
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        Assert.True(mean >= MeanFloor, $"Mean GA {mean:F4} fell below {MeanFloor}:\n{report}");
        Assert.True(scores.Min() >= DatasetFloor, $"A dataset fell below GA {DatasetFloor}:\n{report}");
    }

    [Fact]
    public void Grouping_accuracy_follows_the_LogPAI_definition()
    {
        string[] truth = ["a", "a", "b", "b", "c"];
        Assert.Equal(1.0, Loghub.GroupingAccuracy(["1", "1", "2", "2", "3"], truth));
        // a merged with c: those three are wrong; b is right.
        Assert.Equal(0.4, Loghub.GroupingAccuracy(["1", "1", "2", "2", "1"], truth), 10);
        // b split in two: both its messages are wrong; a and c are right.
        Assert.Equal(0.6, Loghub.GroupingAccuracy(["1", "1", "2", "4", "3"], truth), 10);
        Assert.Equal(0.0, Loghub.GroupingAccuracy(["1", "1", "1", "1", "1"], truth));
    }
}
