using System.Text;
using ErrorCoordinator.Core.Signatures;

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
    public void Mean_grouping_accuracy_on_loghub_2k_stays_above_the_floor()
    {
        var folder = DatasetFolder();
        var files = Directory.GetFiles(folder, "*_structured.csv").OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.True(files.Count >= 8, $"Expected the 8 Loghub-2k datasets in {folder}; found {files.Count}.");

        var report = new StringBuilder();
        var scores = new List<double>();
        foreach (var file in files)
        {
            var (messages, truth) = LoadDataset(file);
            var engine = new TemplateSignatureEngine();
            var noTags = new Dictionary<string, string>();
            var predicted = messages.Select(m => engine.Compute(new SignatureInput("log", m, null, "test", null, noTags)).GroupId).ToList();
            var ga = GroupingAccuracy(predicted, truth);
            scores.Add(ga);
            report.AppendLine($"{Path.GetFileName(file).Split('_')[0],-12} GA {ga:F4}");
        }
        var mean = scores.Average();
        report.AppendLine($"mean GA {mean:F4}");
        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        Assert.True(mean >= MeanFloor, $"Mean GA {mean:F4} fell below {MeanFloor}:\n{report}");
        Assert.True(scores.Min() >= DatasetFloor, $"A dataset fell below GA {DatasetFloor}:\n{report}");
    }

    /// <summary>
    /// The same floor on the server's report path: every message reported through <see cref="ErrorCoordinator.Core.Errors.ErrorReportingService"/>
    /// (validation, scrubbing, the engine's store-backed replica and the embedded store's template buckets).
    /// </summary>
    [Fact]
    public async Task The_report_path_with_template_state_in_the_store_groups_as_well()
    {
        var files = Directory.GetFiles(DatasetFolder(), "*_structured.csv").OrderBy(f => f, StringComparer.Ordinal).ToList();
        var report = new StringBuilder();
        var scores = new List<double>();
        foreach (var file in files)
        {
            var (messages, truth) = LoadDataset(file);
            using var services = new TestServices();
            var predicted = new List<string>(messages.Count);
            for (var i = 0; i < messages.Count; i++)
            {
                var m = string.IsNullOrWhiteSpace(messages[i]) ? "(empty)" : messages[i];
                var r = await services.Errors.ReportAsync(new ErrorCoordinator.Core.Errors.FailureReport { Agent = "test", ErrorType = "log", Message = m });
                predicted.Add(r.GroupId);
            }
            var ga = GroupingAccuracy(predicted, truth);
            scores.Add(ga);
            report.AppendLine($"{Path.GetFileName(file).Split('_')[0],-12} GA {ga:F4}");
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
        Assert.Equal(1.0, GroupingAccuracy(["1", "1", "2", "2", "3"], truth));
        // a merged with c: those three are wrong; b is right.
        Assert.Equal(0.4, GroupingAccuracy(["1", "1", "2", "2", "1"], truth), 10);
        // b split in two: both its messages are wrong; a and c are right.
        Assert.Equal(0.6, GroupingAccuracy(["1", "1", "2", "4", "3"], truth), 10);
        Assert.Equal(0.0, GroupingAccuracy(["1", "1", "1", "1", "1"], truth));
    }

    /// <summary>LogPAI GA: a message is correct when its predicted group holds exactly the messages of one true group.</summary>
    internal static double GroupingAccuracy(IReadOnlyList<string> predicted, IReadOnlyList<string> truth)
    {
        var truthSize = truth.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        var correct = 0;
        foreach (var group in Enumerable.Range(0, predicted.Count).GroupBy(i => predicted[i]))
        {
            var kinds = group.Select(i => truth[i]).Distinct().ToList();
            if (kinds.Count == 1 && truthSize[kinds[0]] == group.Count()) correct += group.Count();
        }
        return (double)correct / truth.Count;
    }

    /// <summary>../shared/datasets/loghub-2k next to the repository (the folder holding ErrorCoordinator.Mcp.sln).</summary>
    internal static string DatasetFolder()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ErrorCoordinator.Mcp.sln"))) dir = dir.Parent;
        Assert.True(dir is not null, $"Could not find ErrorCoordinator.Mcp.sln above {AppContext.BaseDirectory}.");
        var folder = Path.GetFullPath(Path.Combine(dir!.FullName, "..", "shared", "datasets", "loghub-2k"));
        Assert.True(Directory.Exists(folder),
            $"The Loghub-2k datasets are missing: expected them in {folder} (../shared/datasets/loghub-2k next to the repository). " +
            "The grouping-accuracy floor cannot be checked without them.");
        return folder;
    }

    /// <summary>The Content (message, newlines as spaces, as the scorer sends them) and EventId (truth) columns.</summary>
    internal static (List<string> Messages, List<string> Truth) LoadDataset(string path)
    {
        var rows = ParseCsv(File.ReadAllText(path, Encoding.UTF8));
        var header = rows[0];
        int content = header.IndexOf("Content"), eventId = header.IndexOf("EventId");
        Assert.True(content >= 0 && eventId >= 0, $"{path} has no Content or EventId column.");
        var messages = new List<string>();
        var truth = new List<string>();
        foreach (var row in rows.Skip(1))
        {
            if (row.Count <= Math.Max(content, eventId)) continue;
            messages.Add(row[content].Replace('\n', ' '));
            truth.Add(row[eventId]);
        }
        return (messages, truth);
    }

    private static List<List<string>> ParseCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c != '"') field.Append(c);
                else if (i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                row.Add(field.ToString());
                field.Clear();
                rows.Add(row);
                row = [];
            }
            else field.Append(c);
        }
        if (field.Length > 0 || row.Count > 0)
        {
            row.Add(field.ToString());
            rows.Add(row);
        }
        return rows;
    }
}
